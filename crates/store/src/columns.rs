//! How values are kept in database columns, the same on every backend: times as microseconds
//! since the Unix epoch (UTC) in a signed 64-bit integer, counts and positions as signed
//! 64-bit integers that must not be negative.

use time::OffsetDateTime;

use crate::StoreError;

/// A time as stored: microseconds since the Unix epoch.
pub fn to_micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// A stored time read back; out of range is corrupt data.
pub fn from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .map_err(|e| StoreError::Corrupt(format!("timestamp {micros} out of range: {e}")))
}

/// The current time at the stored precision, so a value reads back equal.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    from_micros(to_micros(now)).unwrap_or(now)
}

/// A stored count or position read back; a negative one is corrupt data.
pub fn unsigned(value: i64, column: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} holds negative value {value}")))
}

/// A count or position to store; one beyond `i64::MAX` is refused.
pub fn signed(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{value} is out of range")))
}
