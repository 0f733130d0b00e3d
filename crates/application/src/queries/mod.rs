//! Queries: one file per question, answered from the read models of the caller's organization.

pub mod get_engagement;
pub mod get_item;
pub mod get_organization;
pub mod list_categories;
pub mod list_item_versions;
pub mod list_members;
pub mod list_tags;
pub mod list_templates;
