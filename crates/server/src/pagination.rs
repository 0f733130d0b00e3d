//! Cursor pagination: `?limit=&cursor=&sort=` in, `{"data":[...],"next_cursor":...}` out.
//! Cursors are opaque (base64 of the sort and the last row's key) and bound to their sort: a
//! cursor replayed with another sort is refused rather than silently skipping rows.

use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use store::read_model::{Keyset, KeysetValue, PageRequest, RenderedJson, SortKey};

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

/// A [`ListResponse`] whose entries the read model rendered: the same JSON, written with the
/// entries copied in rather than serialized again.
#[derive(Debug)]
pub struct RenderedListResponse {
    pub data: Vec<RenderedJson>,
    pub next_cursor: Option<String>,
    pub total: u64,
}

impl IntoResponse for RenderedListResponse {
    fn into_response(self) -> Response {
        let entries: usize = self.data.iter().map(|entry| entry.as_str().len() + 1).sum();
        let cursor = self.next_cursor.as_ref().map_or(4, |cursor| cursor.len() + 2);
        let mut body = Vec::with_capacity(entries + cursor + 64);
        body.extend_from_slice(b"{\"data\":[");
        for (i, entry) in self.data.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(entry.as_str().as_bytes());
        }
        body.extend_from_slice(b"],\"next_cursor\":");
        serde_json::to_writer(&mut body, &self.next_cursor).expect("a string serializes into memory");
        body.extend_from_slice(b",\"total\":");
        serde_json::to_writer(&mut body, &self.total).expect("a number serializes into memory");
        body.push(b'}');
        ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
    }
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
    // Assembled piece by piece: `format!` took most of this function's time on every page.
    let mut plain = String::with_capacity(64);
    if sort.descending {
        plain.push('-');
    }
    plain.push_str(match sort.sort {
        SortKey::UpdatedAt => "updated_at",
        SortKey::CreatedAt => "created_at",
        SortKey::Title => "title",
    });
    plain.push('\n');
    plain.push_str(&keyset.id);
    plain.push('\n');
    match &keyset.value {
        KeysetValue::Micros(micros) => {
            plain.push('m');
            plain.push_str(&micros.to_string());
        }
        KeysetValue::Text(text) => {
            plain.push('t');
            plain.push_str(text);
        }
    }
    URL_SAFE_NO_PAD.encode(plain)
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

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;

    use super::*;

    async fn rendered(entries: &[&str], next_cursor: Option<&str>, total: u64) -> Vec<u8> {
        let data = entries.iter().map(|entry| RenderedJson((*entry).to_owned())).collect();
        let response = RenderedListResponse { data, next_cursor: next_cursor.map(str::to_owned), total };
        let response = response.into_response();
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        to_bytes(response.into_body(), usize::MAX).await.expect("body").to_vec()
    }

    #[test]
    fn cursors_keep_their_encoding_and_decode_to_their_keyset() {
        let page = page_request(Some(20), None, None).expect("default sort");
        let keyset =
            Keyset { value: KeysetValue::Micros(1_796_292_183_705_102), id: "itm_01M8XNQ1MRSGJPKWAAB2MS7X7C".into() };
        // A cursor issued by an earlier release still continues its list.
        let cursor = encode_keyset(&keyset, &page);
        assert_eq!(cursor, "LXVwZGF0ZWRfYXQKaXRtXzAxTThYTlExTVJTR0pQS1dBQUIyTVM3WDdDCm0xNzk2MjkyMTgzNzA1MTAy");
        for (sort, value) in [
            ("-updated_at", KeysetValue::Micros(-5)),
            ("created_at", KeysetValue::Micros(0)),
            ("title", KeysetValue::Text("Zürich\nnotes".into())),
        ] {
            let page = page_request(None, None, Some(sort)).expect("sort");
            let keyset = Keyset { value, id: "itm_1".into() };
            let cursor = encode_keyset(&keyset, &page);
            let decoded = page_request(None, Some(&cursor), Some(sort)).expect("decodes").after;
            assert_eq!(decoded, Some(keyset));
        }
    }

    #[tokio::test]
    async fn a_rendered_list_is_the_json_of_the_list_response() {
        let entries = [r#"{"a":"x\"y","b":[1,2]}"#, r#"{"a":"ü","b":[]}"#];
        for (entries, next_cursor, total) in
            [(&entries[..], Some("LXVwZGF0ZWRfYXQ"), 2_u64), (&entries[..1], None, 1), (&[][..], None, 0)]
        {
            let values: Vec<serde_json::Value> =
                entries.iter().map(|entry| serde_json::from_str(entry).expect("json")).collect();
            let expected =
                ListResponse { data: values, next_cursor: next_cursor.map(str::to_owned), total: Some(total) };
            assert_eq!(rendered(entries, next_cursor, total).await, serde_json::to_vec(&expected).expect("json"));
        }
    }
}
