//! Adds a registered user to the caller's organization with a role.

use domain::Aggregate;
use domain::ids::UserId;
use domain::organization::{Organization, OrganizationCommand};
use domain::role::Role;
use domain::user::User;

use super::Changed;
use crate::{App, AppError, Store, TenantContext};

/// Only an owner may grant the owner role, or change or remove an owner: `roles` are the
/// roles involved (the one granted, the one the member holds now).
pub(crate) fn only_owners_touch_owners(
    actor: Role,
    roles: impl IntoIterator<Item = Option<Role>>,
) -> Result<(), domain::DomainError> {
    if actor != Role::Owner && roles.into_iter().any(|role| role == Some(Role::Owner)) {
        return Err(domain::DomainError::Forbidden("only an owner may grant the owner role".to_owned()));
    }
    Ok(())
}

impl<S: Store> App<S> {
    /// Adds `user` with `role`; an existing member is a conflict.
    pub async fn add_member(&self, ctx: &TenantContext, user: &str, role: Role) -> Result<Changed, AppError> {
        let user = UserId::parse(user)?;
        if self.load::<User>(user.as_str()).await?.version == 0 {
            return Err(AppError::NotFound(format!("user {user} not found")));
        }
        let done = self
            .execute::<Organization>(ctx.org.as_str(), Some(&ctx.org), None, ctx.metadata(), |org| {
                only_owners_touch_owners(ctx.role, [Some(role)])?;
                org.decide(OrganizationCommand::AddMember { user: user.clone(), role })
            })
            .await?;
        Ok(Changed { id: ctx.org.to_string(), version: done.version })
    }
}

#[cfg(test)]
mod tests {
    use domain::DomainError;

    use super::*;
    use crate::Caller;
    use crate::commands::register_user::RegisterUser;
    use crate::testing::{app, tenant};

    async fn someone(app: &crate::testing::TestApp) -> String {
        let email = format!("{}@example.com", ulid::Ulid::new());
        app.register_user(&Caller::default(), RegisterUser { email, display_name: "Sam".into() })
            .await
            .expect("register")
            .id
    }

    fn forbidden<T: std::fmt::Debug>(result: Result<T, AppError>) -> bool {
        matches!(result, Err(AppError::Domain(DomainError::Forbidden(_))))
    }

    #[tokio::test]
    async fn only_owners_grant_change_or_remove_the_owner_role() {
        let (app, _dir) = app().await;
        // The actor is the organization's owner, acting here as an admin.
        let admin = tenant(&app, Role::Admin).await;
        let owner_id = admin.actor.to_string();
        let user = someone(&app).await;
        assert!(forbidden(app.add_member(&admin, &user, Role::Owner).await));
        app.add_member(&admin, &user, Role::Consultant).await.expect("an admin adds a consultant");
        assert!(forbidden(app.change_member_role(&admin, &user, Role::Owner).await));
        assert!(forbidden(app.change_member_role(&admin, &owner_id, Role::Viewer).await));
        assert!(forbidden(app.remove_member(&admin, &owner_id).await));
        app.change_member_role(&admin, &user, Role::Viewer).await.expect("an admin changes a non-owner");

        let owner = TenantContext { role: Role::Owner, ..admin };
        app.change_member_role(&owner, &user, Role::Owner).await.expect("an owner grants the owner role");
    }
}
