//! The read-model query port: what the application asks of the projected tables. Every
//! tenant query takes the organization explicitly; a row of another organization is never
//! returned.

use std::future::Future;

use time::OffsetDateTime;

use crate::StoreError;

/// An organization as projected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationView {
    pub id: String,
    pub name: String,
    pub ai_monthly_budget_cents: Option<u64>,
    pub retention_days: Option<u32>,
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
    pub default_kind: String,
}

/// Queries over the read models.
pub trait ReadModels: Clone + Send + Sync + 'static {
    fn organization(&self, org: &str) -> impl Future<Output = Result<Option<OrganizationView>, StoreError>> + Send;
    fn user_by_email(&self, email: &str) -> impl Future<Output = Result<Option<UserView>, StoreError>> + Send;
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
