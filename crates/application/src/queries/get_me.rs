//! The caller: their user record and every organization they belong to.

use store::read_model::{UserMembership, UserView};

use crate::{App, AppError, Store};

/// The caller and their organizations.
#[derive(Debug, Clone)]
pub struct Me {
    pub user: UserView,
    pub memberships: Vec<UserMembership>,
}

impl<S: Store> App<S> {
    /// User `id` (the caller: authentication established who that is).
    pub async fn get_user(&self, id: &str) -> Result<Me, AppError> {
        let user = self.store.user(id).await?.ok_or_else(|| AppError::NotFound(format!("user {id} not found")))?;
        Ok(Me { user, memberships: self.store.memberships_of_user(id).await? })
    }

    /// The registered user with this email (normalized), or not found.
    pub async fn find_user_by_email(&self, email: &str) -> Result<UserView, AppError> {
        self.store
            .user_by_email(email)
            .await?
            .ok_or_else(|| AppError::NotFound("no registered user has this email address".to_owned()))
    }
}
