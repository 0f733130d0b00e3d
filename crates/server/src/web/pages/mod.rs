//! The pages, one module per area of the product.

pub mod admin;
pub mod assistant;
pub mod auth;
pub mod categories;
pub mod dashboard;
pub mod engagements;
pub mod items;
pub mod search;
pub mod templates;

use serde::de::DeserializeOwned;

use super::WebError;

/// A form body (the CSRF middleware has checked its token and bounded its size).
pub fn form<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebError> {
    serde_urlencoded::from_bytes(body).map_err(|e| WebError::BadRequest(format!("The form could not be read: {e}.")))
}

/// A form field that is absent when left blank.
pub fn filled(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Members' display names by user id, for showing who did what; empty when the caller's role
/// may not see the member list (ids are shown then).
pub async fn member_names<S: application::Store>(
    state: &crate::AppState<S>,
    page: &super::Page,
) -> Result<std::collections::HashMap<String, String>, WebError> {
    if !page.can(application::security::permissions::Permission::ReadMembers) {
        return Ok(std::collections::HashMap::new());
    }
    Ok(state
        .app
        .list_members_with_users(page.ctx())
        .await?
        .into_iter()
        .filter_map(|(member, user)| Some((member.user_id, user?.display_name)))
        .collect())
}
