//! A user: a person who signs in and may belong to several organizations.
//!
//! Email uniqueness spans users, so it is enforced where all users meet: the `users` read
//! model's unique index, checked in the same transaction as the append.

use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::ids::UserId;
use crate::text::Name;
use crate::{Aggregate, DomainError};

/// What may be asked of a user.
#[derive(Debug, Clone, PartialEq)]
pub enum UserCommand {
    Register { id: UserId, email: Email, display_name: Name },
    Rename { display_name: Name },
}

/// What happened to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserEvent {
    Registered { id: UserId, email: Email, display_name: Name },
    Renamed { display_name: Name },
}

/// A user as folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct User {
    pub id: Option<UserId>,
    pub email: Option<Email>,
    pub display_name: Option<Name>,
}

impl Aggregate for User {
    type Command = UserCommand;
    type Event = UserEvent;
    const STREAM_CATEGORY: &'static str = "user";

    fn decide(&self, command: UserCommand) -> Result<Vec<UserEvent>, DomainError> {
        match command {
            UserCommand::Register { id, email, display_name } => match self.id {
                Some(_) => Err(DomainError::Conflict(format!("user {id} is already registered"))),
                None => Ok(vec![UserEvent::Registered { id, email, display_name }]),
            },
            UserCommand::Rename { display_name } => {
                if self.id.is_none() {
                    return Err(DomainError::NotFound("user does not exist".to_owned()));
                }
                if self.display_name.as_ref() == Some(&display_name) {
                    return Ok(vec![]);
                }
                Ok(vec![UserEvent::Renamed { display_name }])
            }
        }
    }

    fn apply(&mut self, event: &UserEvent) {
        match event {
            UserEvent::Registered { id, email, display_name } => {
                self.id = Some(id.clone());
                self.email = Some(email.clone());
                self.display_name = Some(display_name.clone());
            }
            UserEvent::Renamed { display_name } => self.display_name = Some(display_name.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::testing::Scenario;

    fn registered() -> UserEvent {
        UserEvent::Registered {
            id: UserId::parse("usr_1").expect("valid id"),
            email: Email::parse("ada@example.com").expect("valid email"),
            display_name: Name::parse("Ada").expect("valid name"),
        }
    }

    #[test]
    fn a_user_registers_once() {
        let UserEvent::Registered { id, email, display_name } = registered() else { unreachable!() };
        Scenario::<User>::given(vec![registered()])
            .when(UserCommand::Register { id, email, display_name })
            .then_conflict();
    }

    #[test]
    fn rename_requires_a_registered_user() {
        let display_name = Name::parse("Ada L.").expect("valid name");
        Scenario::<User>::given(vec![])
            .when(UserCommand::Rename { display_name: display_name.clone() })
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
        Scenario::<User>::given(vec![registered()])
            .when(UserCommand::Rename { display_name: display_name.clone() })
            .then(vec![UserEvent::Renamed { display_name }]);
    }
}
