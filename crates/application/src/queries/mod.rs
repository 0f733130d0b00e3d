//! Queries: one file per question, answered from the read models of the caller's organization.

pub mod authenticate;
pub mod get_engagement;
pub mod get_item;
pub mod get_item_version;
pub mod get_me;
pub mod get_organization;
pub mod get_template;
pub mod list_api_keys;
pub mod list_categories;
pub mod list_engagements;
pub mod list_events;
pub mod list_item_versions;
pub mod list_items;
pub mod list_members;
pub mod list_sessions;
pub mod list_tags;
pub mod list_templates;
pub mod search_history;
pub mod search_items;
