//! A client engagement and its phase machine:
//! `discovery -> proposal -> active -> delivered -> closed`, with `on_hold` reachable from
//! `proposal` and `active` and back to where it came from; `closed` is terminal except an
//! admin's reopen to `active`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{EngagementId, OrgId, UserId};
use crate::role::Role;
use crate::text::Name;
use crate::{Aggregate, DomainError};

/// Longest engagement description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;

/// Where an engagement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementPhase {
    Discovery,
    Proposal,
    Active,
    OnHold,
    Delivered,
    Closed,
}

impl EngagementPhase {
    /// Every phase, in lifecycle order.
    pub const ALL: [EngagementPhase; 6] = [
        EngagementPhase::Discovery,
        EngagementPhase::Proposal,
        EngagementPhase::Active,
        EngagementPhase::OnHold,
        EngagementPhase::Delivered,
        EngagementPhase::Closed,
    ];

    /// The phase's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EngagementPhase::Discovery => "discovery",
            EngagementPhase::Proposal => "proposal",
            EngagementPhase::Active => "active",
            EngagementPhase::OnHold => "on_hold",
            EngagementPhase::Delivered => "delivered",
            EngagementPhase::Closed => "closed",
        }
    }
}

impl std::fmt::Display for EngagementPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The phases reachable from `from` by an actor of `role`. `held_from` is the phase an
/// on-hold engagement returns to.
pub fn allowed_transitions(
    from: EngagementPhase,
    held_from: Option<EngagementPhase>,
    role: Role,
) -> Vec<EngagementPhase> {
    use EngagementPhase as P;
    match from {
        P::Discovery => vec![P::Proposal],
        P::Proposal => vec![P::Active, P::OnHold],
        P::Active => vec![P::Delivered, P::OnHold],
        P::OnHold => held_from.into_iter().collect(),
        P::Delivered => vec![P::Closed],
        P::Closed if role.is_admin() => vec![P::Active],
        P::Closed => vec![],
    }
}

/// What may be asked of an engagement.
#[derive(Debug, Clone, PartialEq)]
pub enum EngagementCommand {
    Create {
        id: EngagementId,
        org: OrgId,
        name: Name,
        client: Name,
        description: String,
        nda_required: bool,
    },
    UpdateDetails {
        name: Name,
        client: Name,
        description: String,
        nda_required: bool,
    },
    Transition {
        to: EngagementPhase,
        by_role: Role,
    },
    AddMember {
        user: UserId,
    },
    RemoveMember {
        user: UserId,
    },
    /// Removes the engagement for good (the application first checks no item refers to it).
    Delete,
}

/// What happened to an engagement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngagementEvent {
    Created { id: EngagementId, org: OrgId, name: Name, client: Name, description: String, nda_required: bool },
    DetailsUpdated { name: Name, client: Name, description: String, nda_required: bool },
    PhaseChanged { from: EngagementPhase, to: EngagementPhase },
    MemberAdded { user: UserId },
    MemberRemoved { user: UserId },
    Deleted,
}

/// An engagement as folded from its events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Engagement {
    pub id: Option<EngagementId>,
    pub org: Option<OrgId>,
    pub name: Option<Name>,
    pub client: Option<Name>,
    pub description: String,
    pub nda_required: bool,
    pub phase: Option<EngagementPhase>,
    /// The phase an on-hold engagement came from and returns to.
    pub held_from: Option<EngagementPhase>,
    pub members: BTreeSet<UserId>,
}

fn validate_description(description: &str) -> Result<(), DomainError> {
    let len = description.chars().count();
    if len > MAX_DESCRIPTION_CHARS {
        return Err(DomainError::validation(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters, got {len}"),
        ));
    }
    Ok(())
}

impl Engagement {
    fn current_phase(&self) -> Result<EngagementPhase, DomainError> {
        self.phase.ok_or_else(|| DomainError::NotFound("engagement does not exist".to_owned()))
    }

    fn transition(&self, to: EngagementPhase, by_role: Role) -> Result<Vec<EngagementEvent>, DomainError> {
        let from = self.current_phase()?;
        let allowed = allowed_transitions(from, self.held_from, by_role);
        if allowed.contains(&to) {
            return Ok(vec![EngagementEvent::PhaseChanged { from, to }]);
        }
        if from == EngagementPhase::Closed && to == EngagementPhase::Active {
            return Err(DomainError::Forbidden("only an owner or admin may reopen a closed engagement".to_owned()));
        }
        Err(DomainError::IllegalTransition {
            from: from.to_string(),
            to: to.to_string(),
            allowed: allowed.iter().map(ToString::to_string).collect(),
        })
    }
}

impl Aggregate for Engagement {
    type Command = EngagementCommand;
    type Event = EngagementEvent;
    const STREAM_CATEGORY: &'static str = "engagement";

    fn decide(&self, command: EngagementCommand) -> Result<Vec<EngagementEvent>, DomainError> {
        use EngagementCommand as C;
        use EngagementEvent as E;
        match command {
            C::Create { id, org, name, client, description, nda_required } => {
                if self.id.is_some() {
                    return Err(DomainError::Conflict(format!("engagement {id} already exists")));
                }
                validate_description(&description)?;
                Ok(vec![E::Created { id, org, name, client, description, nda_required }])
            }
            C::UpdateDetails { name, client, description, nda_required } => {
                self.current_phase()?;
                validate_description(&description)?;
                let unchanged = self.name.as_ref() == Some(&name)
                    && self.client.as_ref() == Some(&client)
                    && self.description == description
                    && self.nda_required == nda_required;
                if unchanged {
                    return Ok(vec![]);
                }
                Ok(vec![E::DetailsUpdated { name, client, description, nda_required }])
            }
            C::Transition { to, by_role } => self.transition(to, by_role),
            C::AddMember { user } => {
                self.current_phase()?;
                if self.members.contains(&user) {
                    return Err(DomainError::Conflict(format!("user {user} is already a member of this engagement")));
                }
                Ok(vec![E::MemberAdded { user }])
            }
            C::RemoveMember { user } => {
                self.current_phase()?;
                if !self.members.contains(&user) {
                    return Err(DomainError::NotFound(format!("user {user} is not a member of this engagement")));
                }
                Ok(vec![E::MemberRemoved { user }])
            }
            C::Delete => {
                self.current_phase()?;
                Ok(vec![E::Deleted])
            }
        }
    }

    fn apply(&mut self, event: &EngagementEvent) {
        use EngagementEvent as E;
        match event {
            E::Created { id, org, name, client, description, nda_required } => {
                self.id = Some(id.clone());
                self.org = Some(org.clone());
                self.name = Some(name.clone());
                self.client = Some(client.clone());
                self.description.clone_from(description);
                self.nda_required = *nda_required;
                self.phase = Some(EngagementPhase::Discovery);
            }
            E::DetailsUpdated { name, client, description, nda_required } => {
                self.name = Some(name.clone());
                self.client = Some(client.clone());
                self.description.clone_from(description);
                self.nda_required = *nda_required;
            }
            E::PhaseChanged { from, to } => {
                self.held_from = (*to == EngagementPhase::OnHold).then_some(*from);
                self.phase = Some(*to);
            }
            E::MemberAdded { user } => {
                self.members.insert(user.clone());
            }
            E::MemberRemoved { user } => {
                self.members.remove(user);
            }
            E::Deleted => {
                // The id and organization stay: a deleted engagement is not found, and its id
                // is never reused.
                self.phase = None;
                self.held_from = None;
                self.members.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::aggregate::testing::Scenario;
    use EngagementPhase as P;

    fn created() -> EngagementEvent {
        EngagementEvent::Created {
            id: EngagementId::parse("eng_1").expect("valid id"),
            org: OrgId::parse("org_1").expect("valid id"),
            name: Name::parse("Due diligence").expect("valid name"),
            client: Name::parse("Globex").expect("valid name"),
            description: String::new(),
            nda_required: true,
        }
    }

    fn moved(from: EngagementPhase, to: EngagementPhase) -> EngagementEvent {
        EngagementEvent::PhaseChanged { from, to }
    }

    fn at(phases: &[(EngagementPhase, EngagementPhase)]) -> Vec<EngagementEvent> {
        std::iter::once(created()).chain(phases.iter().map(|(f, t)| moved(*f, *t))).collect()
    }

    #[test]
    fn new_engagements_start_in_discovery() {
        assert_eq!(Scenario::<Engagement>::given(vec![created()]).state().phase, Some(P::Discovery));
    }

    #[test]
    fn the_happy_path_runs_to_closed() {
        let path = [
            (P::Discovery, P::Proposal),
            (P::Proposal, P::Active),
            (P::Active, P::Delivered),
            (P::Delivered, P::Closed),
        ];
        for (i, (from, to)) in path.iter().enumerate() {
            Scenario::<Engagement>::given(at(&path[..i]))
                .when(EngagementCommand::Transition { to: *to, by_role: Role::Consultant })
                .then(vec![moved(*from, *to)]);
        }
    }

    #[test]
    fn an_illegal_transition_names_the_allowed_targets() {
        let outcome = Engagement::from_events(&[created()])
            .decide(EngagementCommand::Transition { to: P::Closed, by_role: Role::Owner });
        assert_eq!(
            outcome,
            Err(DomainError::IllegalTransition {
                from: "discovery".to_owned(),
                to: "closed".to_owned(),
                allowed: vec!["proposal".to_owned()],
            })
        );
    }

    #[test]
    fn on_hold_returns_only_to_where_it_came_from() {
        let held = at(&[(P::Discovery, P::Proposal), (P::Proposal, P::OnHold)]);
        Scenario::<Engagement>::given(held.clone())
            .when(EngagementCommand::Transition { to: P::Active, by_role: Role::Owner })
            .then_error(|e| matches!(e, DomainError::IllegalTransition { allowed, .. } if allowed == &["proposal"]));
        Scenario::<Engagement>::given(held)
            .when(EngagementCommand::Transition { to: P::Proposal, by_role: Role::Consultant })
            .then(vec![moved(P::OnHold, P::Proposal)]);
        Scenario::<Engagement>::given(vec![created()])
            .when(EngagementCommand::Transition { to: P::OnHold, by_role: Role::Owner })
            .then_error(|e| matches!(e, DomainError::IllegalTransition { .. }));
    }

    #[test]
    fn closed_reopens_to_active_for_admins_only() {
        let closed = at(&[
            (P::Discovery, P::Proposal),
            (P::Proposal, P::Active),
            (P::Active, P::Delivered),
            (P::Delivered, P::Closed),
        ]);
        Scenario::<Engagement>::given(closed.clone())
            .when(EngagementCommand::Transition { to: P::Active, by_role: Role::Consultant })
            .then_error(|e| matches!(e, DomainError::Forbidden(_)));
        Scenario::<Engagement>::given(closed.clone())
            .when(EngagementCommand::Transition { to: P::Discovery, by_role: Role::Admin })
            .then_error(|e| matches!(e, DomainError::IllegalTransition { allowed, .. } if allowed == &["active"]));
        Scenario::<Engagement>::given(closed)
            .when(EngagementCommand::Transition { to: P::Active, by_role: Role::Admin })
            .then(vec![moved(P::Closed, P::Active)]);
    }

    #[test]
    fn members_are_not_duplicated() {
        let user = UserId::parse("usr_7").expect("valid id");
        Scenario::<Engagement>::given(vec![created(), EngagementEvent::MemberAdded { user: user.clone() }])
            .when(EngagementCommand::AddMember { user: user.clone() })
            .then_conflict();
        Scenario::<Engagement>::given(vec![created()])
            .when(EngagementCommand::RemoveMember { user })
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
    }

    #[test]
    fn a_deleted_engagement_takes_no_more_commands() {
        Scenario::<Engagement>::given(vec![created()])
            .when(EngagementCommand::Delete)
            .then(vec![EngagementEvent::Deleted]);
        Scenario::<Engagement>::given(vec![created(), EngagementEvent::Deleted])
            .when(EngagementCommand::Transition { to: P::Proposal, by_role: Role::Owner })
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
        Scenario::<Engagement>::given(vec![created(), EngagementEvent::Deleted])
            .when(EngagementCommand::Delete)
            .then_error(|e| matches!(e, DomainError::NotFound(_)));
    }

    #[test]
    fn descriptions_are_bounded() {
        Scenario::<Engagement>::given(vec![created()])
            .when(EngagementCommand::UpdateDetails {
                name: Name::parse("x").expect("valid name"),
                client: Name::parse("y").expect("valid name"),
                description: "d".repeat(MAX_DESCRIPTION_CHARS + 1),
                nda_required: false,
            })
            .then_error(|e| matches!(e, DomainError::Validation { field: "description", .. }));
    }

    fn arb_command() -> impl Strategy<Value = EngagementCommand> {
        let phase = proptest::sample::select(EngagementPhase::ALL.to_vec());
        let role = proptest::sample::select(Role::ALL.to_vec());
        let user = (1u8..4).prop_map(|n| UserId::parse(&format!("usr_{n}")).expect("valid id"));
        prop_oneof![
            4 => (phase, role).prop_map(|(to, by_role)| EngagementCommand::Transition { to, by_role }),
            1 => user.clone().prop_map(|user| EngagementCommand::AddMember { user }),
            1 => user.prop_map(|user| EngagementCommand::RemoveMember { user }),
        ]
    }

    proptest! {
        #[test]
        fn random_histories_only_take_legal_transitions(commands in proptest::collection::vec(arb_command(), 0..60)) {
            let mut history = vec![created()];
            let mut state = Engagement::from_events(&history);
            for command in commands {
                let before = state.clone();
                if let Ok(events) = state.decide(command.clone()) {
                    for event in &events {
                        if let EngagementEvent::PhaseChanged { from, to } = event {
                            let EngagementCommand::Transition { by_role, .. } = command else { unreachable!() };
                            prop_assert_eq!(Some(*from), before.phase);
                            prop_assert!(allowed_transitions(*from, before.held_from, by_role).contains(to));
                        }
                        state.apply(event);
                    }
                    history.extend(events);
                }
                prop_assert_eq!(state.phase == Some(P::OnHold), state.held_from.is_some());
                prop_assert!(matches!(state.held_from, None | Some(P::Proposal) | Some(P::Active)));
                prop_assert_eq!(&Engagement::from_events(&history), &state);
            }
        }
    }
}
