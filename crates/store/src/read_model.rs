//! The read-model query port: what the application asks of the projected tables. Every
//! tenant query takes the organization explicitly; a row of another organization is never
//! returned.

use std::future::Future;

use serde::Serialize;
use time::OffsetDateTime;

use crate::StoreError;

/// An organization as projected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationView {
    pub id: String,
    pub name: String,
    pub ai_monthly_budget_cents: Option<u64>,
    pub retention_days: Option<u32>,
    pub ai_store_transcripts: bool,
    pub deletion_scheduled_for: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A user as projected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: String,
}

/// One member of an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipView {
    pub user_id: String,
    pub role: String,
}

/// An engagement as projected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementView {
    pub id: String,
    pub name: String,
    pub client: String,
    pub description: String,
    pub nda_required: bool,
    pub phase: String,
    pub members: Vec<String>,
    /// The engagement stream's version: what an `ETag` carries.
    pub stream_version: u64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An engagement in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementSummary {
    pub id: String,
    pub name: String,
    pub client: String,
    pub phase: String,
    pub nda_required: bool,
    pub updated_at: OffsetDateTime,
}

/// A knowledge item's current version as projected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemView {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub title: String,
    pub body: String,
    pub engagement_id: Option<String>,
    pub author_id: String,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub metadata: String,
    pub version: u32,
    pub supersedes: Option<String>,
    pub superseded_by: Option<String>,
    pub trashed_at: Option<OffsetDateTime>,
    /// The item stream's version: what an `ETag` carries.
    pub stream_version: u64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An item in a list: everything but the body and metadata. Its serde_json form is the list
/// entry the API returns ([`ReadModels::list_item_entries`] renders exactly that).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemSummary {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub title: String,
    pub engagement_id: Option<String>,
    pub author_id: String,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub version: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub trashed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A JSON object rendered ahead of the request that returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedJson(pub String);

impl RenderedJson {
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One version of an item with its full content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemVersionContent {
    pub version: u32,
    pub title: String,
    pub body: String,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub metadata: String,
    pub author_id: String,
    pub restored_from: Option<u32>,
    pub created_at: OffsetDateTime,
}

/// One past or current version of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemVersionView {
    pub version: u32,
    pub title: String,
    pub author_id: String,
    pub created_at: OffsetDateTime,
}

/// A category as projected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryView {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

/// A tag with the number of live (not trashed) items carrying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCount {
    pub tag: String,
    pub item_count: u64,
}

/// A template as projected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateView {
    pub id: String,
    pub name: String,
    pub body: String,
    pub default_kind: String,
    pub default_category: Option<String>,
    pub default_tags: Vec<String>,
    /// The template stream's version: what an `ETag` carries.
    pub stream_version: u64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// An organization a user belongs to, with the role held there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMembership {
    pub org_id: String,
    pub org_name: String,
    pub role: String,
}

/// Which items a list returns. Every field narrows the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    pub engagement: Option<String>,
    pub category: Option<String>,
    pub tag: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    /// The trash (trashed items only) instead of the live items.
    pub trashed: bool,
    /// Only items of these engagements (a guest's view); `None` means no such restriction.
    pub engagements_visible: Option<Vec<String>>,
}

/// Which engagements a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngagementFilter {
    pub phase: Option<String>,
    /// Only these engagements (a guest's view); `None` means no such restriction.
    pub only: Option<Vec<String>>,
}

/// The sort keys a list accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    UpdatedAt,
    CreatedAt,
    Title,
}

/// A position in a sorted list: the sort value and id of the last row seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub value: KeysetValue,
    pub id: String,
}

/// A sort value: a time (microseconds) or a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysetValue {
    Micros(i64),
    Text(String),
}

/// One page of a sorted list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub sort: SortKey,
    pub descending: bool,
    pub limit: u32,
    pub after: Option<Keyset>,
}

/// A page of rows, where the next one starts, and how many rows match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next: Option<Keyset>,
    pub total: u64,
}

/// Queries over the read models.
pub trait ReadModels: Clone + Send + Sync + 'static {
    fn organization(&self, org: &str) -> impl Future<Output = Result<Option<OrganizationView>, StoreError>> + Send;
    fn user_by_email(&self, email: &str) -> impl Future<Output = Result<Option<UserView>, StoreError>> + Send;
    fn user(&self, id: &str) -> impl Future<Output = Result<Option<UserView>, StoreError>> + Send;
    /// The organizations a user belongs to, oldest membership first.
    fn memberships_of_user(&self, user: &str) -> impl Future<Output = Result<Vec<UserMembership>, StoreError>> + Send;
    /// The engagements of the organization the user is a member of.
    fn engagements_of_member(
        &self,
        org: &str,
        user: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    fn list_engagements(
        &self,
        org: &str,
        filter: &EngagementFilter,
        page: &PageRequest,
    ) -> impl Future<Output = Result<Page<EngagementSummary>, StoreError>> + Send;
    fn list_items(
        &self,
        org: &str,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> impl Future<Output = Result<Page<ItemSummary>, StoreError>> + Send;
    /// The page [`ReadModels::list_items`] answers, each entry rendered as the JSON the API
    /// returns: byte for byte what serde_json makes of its [`ItemSummary`]. A backend that keeps
    /// the entries rendered answers without decoding and encoding every column of every row.
    fn list_item_entries(
        &self,
        org: &str,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> impl Future<Output = Result<Page<RenderedJson>, StoreError>> + Send {
        async move {
            let Page { rows, next, total } = self.list_items(org, filter, page).await?;
            let rows = rows
                .iter()
                .map(|row| serde_json::to_string(row).map(RenderedJson))
                .collect::<Result<_, _>>()
                .map_err(|e| StoreError::Corrupt(format!("item list entry: {e}")))?;
            Ok(Page { rows, next, total })
        }
    }
    fn item_version(
        &self,
        org: &str,
        id: &str,
        version: u32,
    ) -> impl Future<Output = Result<Option<ItemVersionContent>, StoreError>> + Send;
    fn template(&self, org: &str, id: &str) -> impl Future<Output = Result<Option<TemplateView>, StoreError>> + Send;
    /// Up to `limit` events of the organization after `after`, in log order: its audit trail.
    fn org_events(
        &self,
        org: &str,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<crate::RecordedEvent>, StoreError>> + Send;
    /// The organization's `limit` most recent events, newest first: its recent activity.
    fn recent_org_events(
        &self,
        org: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<crate::RecordedEvent>, StoreError>> + Send;
    fn members(&self, org: &str) -> impl Future<Output = Result<Vec<MembershipView>, StoreError>> + Send;
    fn engagement(
        &self,
        org: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<EngagementView>, StoreError>> + Send;
    fn item(&self, org: &str, id: &str) -> impl Future<Output = Result<Option<ItemView>, StoreError>> + Send;
    fn item_versions(
        &self,
        org: &str,
        id: &str,
    ) -> impl Future<Output = Result<Vec<ItemVersionView>, StoreError>> + Send;
    /// Ids of the items (trashed ones included) filed under `category`.
    fn items_in_category(
        &self,
        org: &str,
        category: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    fn categories(&self, org: &str) -> impl Future<Output = Result<Vec<CategoryView>, StoreError>> + Send;
    fn templates(&self, org: &str) -> impl Future<Output = Result<Vec<TemplateView>, StoreError>> + Send;
    fn tags(&self, org: &str) -> impl Future<Output = Result<Vec<TagCount>, StoreError>> + Send;
}
