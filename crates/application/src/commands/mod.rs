//! Commands: one file per use case, each an `App` method with its input type.

pub mod add_engagement_member;
pub mod add_member;
pub mod cancel_organization_deletion;
pub mod change_member_role;
pub mod change_organization_settings;
pub mod change_password;
pub mod create_api_key;
pub mod create_category;
pub mod create_engagement;
pub mod create_item;
pub mod create_organization;
pub mod create_template;
pub mod delete_category;
pub mod delete_engagement;
pub mod delete_template;
pub mod edit_item;
pub mod instantiate_template;
pub mod log_in;
pub mod log_out;
pub mod move_category;
pub mod purge_item;
pub mod refresh_session;
pub mod register_user;
pub mod remember_search;
pub mod remove_engagement_member;
pub mod remove_member;
pub mod rename_category;
pub mod rename_organization;
pub mod restore_item;
pub mod restore_item_version;
pub mod revoke_api_key;
pub mod revoke_session;
pub mod schedule_organization_deletion;
pub mod sign_up;
pub mod transition_engagement;
pub mod transition_item;
pub mod trash_item;
pub mod update_engagement;
pub mod update_template;

/// What a command that changes one aggregate returns: its id and new stream version (the
/// version an `ETag` carries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub id: String,
    pub version: u64,
}
