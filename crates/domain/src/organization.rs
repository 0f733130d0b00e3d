//! The organization: the tenant, its settings, its scheduled deletion and its members.
//!
//! Membership lives here because its central rule spans all members: an organization never
//! has zero owners.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{OrgId, UserId};
use crate::role::Role;
use crate::text::Name;
use crate::{Aggregate, DomainError};

/// Longest retention an organization may configure, in days (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// Settings an owner or admin tunes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationSettings {
    /// Monthly AI spending cap in cents; `None` means no cap.
    pub ai_monthly_budget_cents: Option<u64>,
    /// Days to keep trashed and expired data; `None` keeps it until deleted by hand.
    pub retention_days: Option<u32>,
    /// Keep the prompts and answers of AI calls (off: only the accounting record is kept).
    #[serde(default)]
    pub ai_store_transcripts: bool,
}

impl OrganizationSettings {
    fn validate(&self) -> Result<(), DomainError> {
        match self.retention_days {
            Some(days) if days == 0 || days > MAX_RETENTION_DAYS => Err(DomainError::validation(
                "retention_days",
                format!("must be between 1 and {MAX_RETENTION_DAYS}, got {days}"),
            )),
            _ => Ok(()),
        }
    }
}

/// What may be asked of an organization.
#[derive(Debug, Clone, PartialEq)]
pub enum OrganizationCommand {
    Create { id: OrgId, name: Name, owner: UserId },
    Rename { name: Name },
    ChangeSettings { settings: OrganizationSettings },
    ScheduleDeletion { effective_at: OffsetDateTime, now: OffsetDateTime },
    CancelDeletion,
    AddMember { user: UserId, role: Role },
    ChangeMemberRole { user: UserId, role: Role },
    RemoveMember { user: UserId },
}

/// What happened to an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrganizationEvent {
    Created {
        id: OrgId,
        name: Name,
        owner: UserId,
    },
    Renamed {
        name: Name,
    },
    SettingsChanged {
        settings: OrganizationSettings,
    },
    DeletionScheduled {
        #[serde(with = "time::serde::rfc3339")]
        effective_at: OffsetDateTime,
    },
    DeletionCancelled,
    MemberAdded {
        user: UserId,
        role: Role,
    },
    MemberRoleChanged {
        user: UserId,
        role: Role,
    },
    MemberRemoved {
        user: UserId,
    },
}

/// An organization as folded from its events; `id == None` until created.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Organization {
    pub id: Option<OrgId>,
    pub name: Option<Name>,
    pub settings: OrganizationSettings,
    pub deletion_scheduled_for: Option<OffsetDateTime>,
    pub members: BTreeMap<UserId, Role>,
}

impl Organization {
    /// How many members hold the owner role.
    pub fn owner_count(&self) -> usize {
        self.members.values().filter(|role| **role == Role::Owner).count()
    }

    fn require_created(&self) -> Result<(), DomainError> {
        match self.id {
            Some(_) => Ok(()),
            None => Err(DomainError::NotFound("organization does not exist".to_owned())),
        }
    }

    fn role_of(&self, user: &UserId) -> Result<Role, DomainError> {
        self.members
            .get(user)
            .copied()
            .ok_or_else(|| DomainError::NotFound(format!("user {user} is not a member of this organization")))
    }

    fn would_lose_last_owner(&self, user: &UserId) -> bool {
        self.members.get(user) == Some(&Role::Owner) && self.owner_count() == 1
    }
}

impl Aggregate for Organization {
    type Command = OrganizationCommand;
    type Event = OrganizationEvent;
    const STREAM_CATEGORY: &'static str = "organization";

    fn decide(&self, command: OrganizationCommand) -> Result<Vec<OrganizationEvent>, DomainError> {
        use OrganizationCommand as C;
        use OrganizationEvent as E;
        if let C::Create { id, name, owner } = command {
            if self.id.is_some() {
                return Err(DomainError::Conflict("organization already exists".to_owned()));
            }
            return Ok(vec![E::Created { id, name, owner }]);
        }
        self.require_created()?;
        match command {
            C::Create { .. } => unreachable!("handled above"),
            C::Rename { name } if self.name.as_ref() == Some(&name) => Ok(vec![]),
            C::Rename { name } => Ok(vec![E::Renamed { name }]),
            C::ChangeSettings { settings } => {
                settings.validate()?;
                if settings == self.settings {
                    return Ok(vec![]);
                }
                Ok(vec![E::SettingsChanged { settings }])
            }
            C::ScheduleDeletion { effective_at, now } => {
                if let Some(at) = self.deletion_scheduled_for {
                    return Err(DomainError::Conflict(format!("deletion is already scheduled for {at}")));
                }
                if effective_at < now {
                    return Err(DomainError::validation("effective_at", "must not be in the past"));
                }
                Ok(vec![E::DeletionScheduled { effective_at }])
            }
            C::CancelDeletion => match self.deletion_scheduled_for {
                Some(_) => Ok(vec![E::DeletionCancelled]),
                None => Err(DomainError::Conflict("no deletion is scheduled".to_owned())),
            },
            C::AddMember { user, role } => {
                if let Some(existing) = self.members.get(&user) {
                    return Err(DomainError::Conflict(format!("user {user} is already a member (role {existing})")));
                }
                Ok(vec![E::MemberAdded { user, role }])
            }
            C::ChangeMemberRole { user, role } => {
                let current = self.role_of(&user)?;
                if current == role {
                    return Ok(vec![]);
                }
                if self.would_lose_last_owner(&user) {
                    return Err(DomainError::RuleViolation(
                        "an organization must keep at least one owner; make another member owner first".to_owned(),
                    ));
                }
                Ok(vec![E::MemberRoleChanged { user, role }])
            }
            C::RemoveMember { user } => {
                self.role_of(&user)?;
                if self.would_lose_last_owner(&user) {
                    return Err(DomainError::RuleViolation(
                        "cannot remove the last owner of an organization".to_owned(),
                    ));
                }
                Ok(vec![E::MemberRemoved { user }])
            }
        }
    }

    fn apply(&mut self, event: &OrganizationEvent) {
        use OrganizationEvent as E;
        match event {
            E::Created { id, name, owner } => {
                self.id = Some(id.clone());
                self.name = Some(name.clone());
                self.members.insert(owner.clone(), Role::Owner);
            }
            E::Renamed { name } => self.name = Some(name.clone()),
            E::SettingsChanged { settings } => self.settings = settings.clone(),
            E::DeletionScheduled { effective_at } => self.deletion_scheduled_for = Some(*effective_at),
            E::DeletionCancelled => self.deletion_scheduled_for = None,
            E::MemberAdded { user, role } | E::MemberRoleChanged { user, role } => {
                self.members.insert(user.clone(), *role);
            }
            E::MemberRemoved { user } => {
                self.members.remove(user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::macros::datetime;

    use super::*;
    use crate::aggregate::testing::Scenario;

    fn org() -> OrgId {
        OrgId::parse("org_1").expect("valid id")
    }
    fn user(n: u8) -> UserId {
        UserId::parse(&format!("usr_{n}")).expect("valid id")
    }
    fn name(raw: &str) -> Name {
        Name::parse(raw).expect("valid name")
    }
    fn created() -> OrganizationEvent {
        OrganizationEvent::Created { id: org(), name: name("Acme"), owner: user(1) }
    }

    #[test]
    fn create_makes_the_creator_owner() {
        let state = Scenario::<Organization>::given(vec![created()]).state();
        assert_eq!(state.members.get(&user(1)), Some(&Role::Owner));
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::Create { id: org(), name: name("Acme"), owner: user(1) })
            .then_conflict();
    }

    #[test]
    fn commands_on_a_missing_organization_are_not_found() {
        Scenario::<Organization>::given(vec![])
            .when(OrganizationCommand::Rename { name: name("X") })
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
    }

    #[test]
    fn rename_to_the_same_name_changes_nothing() {
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::Rename { name: name("Acme") })
            .then(vec![]);
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::Rename { name: name("Acme Ltd") })
            .then(vec![OrganizationEvent::Renamed { name: name("Acme Ltd") }]);
    }

    #[test]
    fn settings_are_validated() {
        let bad = OrganizationSettings {
            ai_monthly_budget_cents: Some(100),
            retention_days: Some(0),
            ai_store_transcripts: false,
        };
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::ChangeSettings { settings: bad })
            .then_error(|e| matches!(e, DomainError::Validation { field: "retention_days", .. }));
        let good = OrganizationSettings {
            ai_monthly_budget_cents: Some(5_000),
            retention_days: Some(365),
            ai_store_transcripts: true,
        };
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::ChangeSettings { settings: good.clone() })
            .then(vec![OrganizationEvent::SettingsChanged { settings: good }]);
    }

    #[test]
    fn deletion_can_be_scheduled_once_and_cancelled() {
        let now = datetime!(2026-11-01 00:00 UTC);
        let at = datetime!(2026-12-01 00:00 UTC);
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::ScheduleDeletion { effective_at: at, now })
            .then(vec![OrganizationEvent::DeletionScheduled { effective_at: at }]);
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::ScheduleDeletion { effective_at: now, now: at })
            .then_error(|e| matches!(e, DomainError::Validation { .. }));
        Scenario::<Organization>::given(vec![created(), OrganizationEvent::DeletionScheduled { effective_at: at }])
            .when(OrganizationCommand::ScheduleDeletion { effective_at: at, now })
            .then_conflict();
        Scenario::<Organization>::given(vec![created(), OrganizationEvent::DeletionScheduled { effective_at: at }])
            .when(OrganizationCommand::CancelDeletion)
            .then(vec![OrganizationEvent::DeletionCancelled]);
        Scenario::<Organization>::given(vec![created()]).when(OrganizationCommand::CancelDeletion).then_conflict();
    }

    #[test]
    fn adding_an_existing_member_is_a_conflict() {
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::AddMember { user: user(1), role: Role::Viewer })
            .then_conflict();
    }

    #[test]
    fn the_last_owner_cannot_be_demoted_or_removed() {
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::ChangeMemberRole { user: user(1), role: Role::Admin })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::RemoveMember { user: user(1) })
            .then_error(|e| matches!(e, DomainError::RuleViolation(_)));
        let second_owner = OrganizationEvent::MemberAdded { user: user(2), role: Role::Owner };
        Scenario::<Organization>::given(vec![created(), second_owner])
            .when(OrganizationCommand::RemoveMember { user: user(1) })
            .then(vec![OrganizationEvent::MemberRemoved { user: user(1) }]);
    }

    #[test]
    fn unknown_members_are_not_found() {
        Scenario::<Organization>::given(vec![created()])
            .when(OrganizationCommand::RemoveMember { user: user(9) })
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
    }

    fn arb_command() -> impl Strategy<Value = OrganizationCommand> {
        let user = (1u8..5).prop_map(user);
        let role = proptest::sample::select(Role::ALL.to_vec());
        prop_oneof![
            (user.clone(), role.clone()).prop_map(|(user, role)| OrganizationCommand::AddMember { user, role }),
            (user.clone(), role).prop_map(|(user, role)| OrganizationCommand::ChangeMemberRole { user, role }),
            user.prop_map(|user| OrganizationCommand::RemoveMember { user }),
            Just(OrganizationCommand::CancelDeletion),
            Just(OrganizationCommand::ScheduleDeletion {
                effective_at: datetime!(2027-01-01 00:00 UTC),
                now: datetime!(2026-01-01 00:00 UTC)
            }),
        ]
    }

    proptest! {
        #[test]
        fn random_histories_always_keep_an_owner(commands in proptest::collection::vec(arb_command(), 0..40)) {
            let mut history = vec![created()];
            let mut state = Organization::from_events(&history);
            for command in commands {
                if let Ok(events) = state.decide(command) {
                    for event in &events {
                        state.apply(event);
                    }
                    history.extend(events);
                }
                prop_assert!(state.owner_count() >= 1);
                prop_assert_eq!(&Organization::from_events(&history), &state);
            }
        }
    }
}
