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
            .execute_new::<User>(id.as_str(), caller.metadata(None), |user| {
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

    /// Many commands share one group commit: a refused registration is rolled back alone, and
    /// every other command of its batch lands.
    #[tokio::test]
    async fn a_refused_command_in_a_shared_batch_is_refused_alone() {
        use crate::commands::create_item::{CreateItem, ItemDraft};
        use crate::testing::tenant;
        use domain::item::ItemKind;
        use domain::role::Role;
        use store::ReadModels;

        let (app, _dir) = app().await;
        let ctx = tenant(&app, Role::Owner).await;
        let mut tasks = Vec::new();
        for n in 0..32 {
            let app = app.clone();
            let ctx = ctx.clone();
            tasks.push(tokio::spawn(async move {
                if n % 2 == 0 {
                    let email = format!("user{}@example.com", n / 4);
                    let outcome =
                        app.register_user(&Caller::default(), RegisterUser { email, display_name: "U".into() }).await;
                    (true, outcome.map(|c| c.id))
                } else {
                    let draft = ItemDraft { title: format!("item {n}"), ..ItemDraft::default() };
                    let outcome = app
                        .create_item(
                            &ctx,
                            CreateItem { kind: ItemKind::Note, engagement: None, draft, supersedes: None },
                        )
                        .await;
                    (false, outcome.map(|c| c.id))
                }
            }));
        }
        let (mut registered, mut refused, mut items) = (0, 0, 0);
        for task in tasks {
            match task.await.expect("task") {
                (true, Ok(_)) => registered += 1,
                (true, Err(AppError::Rejected(_))) => refused += 1,
                (false, Ok(_)) => items += 1,
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        assert_eq!((registered, refused, items), (8, 8, 16));
        for n in 0..8 {
            assert!(app.store().user_by_email(&format!("user{n}@example.com")).await.expect("read").is_some());
        }
    }
}
