//! Registers a user. The email is normalized; a second user with the same email is refused by
//! the users read model's unique index in the append transaction (no check-then-insert race).

use domain::Aggregate;
use domain::email::Email;
use domain::ids::UserId;
use domain::text::Name;
use domain::user::{User, UserCommand};

use super::Changed;
use crate::{App, AppError, Caller, Store};

/// Input of [`App::register_user`].
#[derive(Debug, Clone)]
pub struct RegisterUser {
    pub email: String,
    pub display_name: String,
}

impl<S: Store> App<S> {
    /// Registers a new user and returns its id.
    pub async fn register_user(&self, caller: &Caller, input: RegisterUser) -> Result<Changed, AppError> {
        let email = Email::parse(&input.email)?;
        let display_name = Name::parse(&input.display_name)?;
        let id = UserId::from_suffix(&self.ids.next_suffix());
        let done = self
            .execute::<User>(id.as_str(), None, None, caller.metadata(None), |user| {
                user.decide(UserCommand::Register {
                    id: id.clone(),
                    email: email.clone(),
                    display_name: display_name.clone(),
                })
            })
            .await?;
        Ok(Changed { id: id.to_string(), version: done.version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::app;

    #[tokio::test]
    async fn emails_are_unique_case_insensitively() {
        let (app, _dir) = app().await;
        let caller = Caller::default();
        app.register_user(&caller, RegisterUser { email: "Ada@Example.com".into(), display_name: "Ada".into() })
            .await
            .expect("first registration");
        let second = app
            .register_user(&caller, RegisterUser { email: " ada@example.COM".into(), display_name: "Ada 2".into() })
            .await;
        assert!(matches!(second, Err(AppError::Rejected(_))), "{second:?}");
        let bad = app.register_user(&caller, RegisterUser { email: "nope".into(), display_name: "X".into() }).await;
        assert!(matches!(bad, Err(AppError::Domain(domain::DomainError::Validation { field: "email", .. }))));
    }
}
