//! Cursor pagination: `?limit=&cursor=&sort=` in, `{"data":[...],"next_cursor":...}` out.
//! Cursors are opaque (base64 of the sort and the last row's key) and bound to their sort: a
//! cursor replayed with another sort is refused rather than silently skipping rows.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use store::read_model::{Keyset, KeysetValue, PageRequest, SortKey};

use crate::error::ApiError;

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

/// A page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
    /// How many rows match in all (lists backed by the read models' counts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// Checks a page size (default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]).
pub fn limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}, got {n}"))),
    }
}

/// The sort keys every sorted list accepts; `-` in front sorts descending.
pub const SORT_KEYS: [&str; 6] = ["updated_at", "-updated_at", "created_at", "-created_at", "title", "-title"];

/// Parses `limit`, `cursor` and `sort` (default: most recently updated first).
pub fn page_request(raw_limit: Option<u32>, cursor: Option<&str>, sort: Option<&str>) -> Result<PageRequest, ApiError> {
    let sort_token = sort.unwrap_or("-updated_at");
    let (descending, name) = match sort_token.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, sort_token),
    };
    let sort = match name {
        "updated_at" => SortKey::UpdatedAt,
        "created_at" => SortKey::CreatedAt,
        "title" => SortKey::Title,
        _ => return Err(ApiError::field("sort", format!("{sort_token:?} is not one of {}", SORT_KEYS.join(", ")))),
    };
    let after = cursor.map(|c| decode_keyset(c, sort_token)).transpose()?;
    Ok(PageRequest { sort, descending, limit: limit(raw_limit)?, after })
}

/// The cursor continuing after `keyset` under `sort`.
pub fn encode_keyset(keyset: &Keyset, sort: &PageRequest) -> String {
    let token = format!(
        "{}{}",
        if sort.descending { "-" } else { "" },
        match sort.sort {
            SortKey::UpdatedAt => "updated_at",
            SortKey::CreatedAt => "created_at",
            SortKey::Title => "title",
        }
    );
    let value = match &keyset.value {
        KeysetValue::Micros(micros) => format!("m{micros}"),
        KeysetValue::Text(text) => format!("t{text}"),
    };
    URL_SAFE_NO_PAD.encode(format!("{token}\n{}\n{value}", keyset.id))
}

/// The cursor of a ranked list (search hits), which pages by position: base64 of `o<offset>`.
pub fn encode_offset(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o{offset}"))
}

/// The position an [`encode_offset`] cursor stands for (0 without one).
pub fn decode_offset(cursor: Option<&str>) -> Result<usize, ApiError> {
    let Some(cursor) = cursor else { return Ok(0) };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|raw| raw.strip_prefix('o')?.parse().ok())
        .ok_or_else(bad_cursor)
}

fn bad_cursor() -> ApiError {
    ApiError::field("cursor", "is not a cursor of this list and sort; start again without one")
}

fn decode_keyset(cursor: &str, sort_token: &str) -> Result<Keyset, ApiError> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad_cursor)?;
    let mut parts = raw.splitn(3, '\n');
    let (Some(token), Some(id), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad_cursor());
    };
    if token != sort_token {
        return Err(bad_cursor());
    }
    let value = match value.split_at_checked(1) {
        Some(("m", micros)) => KeysetValue::Micros(micros.parse().map_err(|_| bad_cursor())?),
        Some(("t", text)) => KeysetValue::Text(text.to_owned()),
        _ => return Err(bad_cursor()),
    };
    Ok(Keyset { value, id: id.to_owned() })
}

/// Pages a small list held in memory, ordered by `key` (members, templates, keys, sessions).
pub fn paginate<T, K: Fn(&T) -> String>(
    rows: Vec<T>,
    raw_limit: Option<u32>,
    cursor: Option<&str>,
    key: K,
) -> Result<ListResponse<T>, ApiError> {
    let limit = limit(raw_limit)? as usize;
    let after = cursor
        .map(|c| URL_SAFE_NO_PAD.decode(c).ok().and_then(|b| String::from_utf8(b).ok()).ok_or_else(bad_cursor))
        .transpose()?;
    let total = rows.len() as u64;
    let start = match &after {
        Some(after) => rows.iter().position(|row| &key(row) == after).map(|i| i + 1).ok_or_else(bad_cursor)?,
        None => 0,
    };
    let mut data: Vec<T> = rows.into_iter().skip(start).take(limit + 1).collect();
    let next_cursor = if data.len() > limit {
        data.truncate(limit);
        data.last().map(|row| URL_SAFE_NO_PAD.encode(key(row)))
    } else {
        None
    };
    Ok(ListResponse { data, next_cursor, total: Some(total) })
}
