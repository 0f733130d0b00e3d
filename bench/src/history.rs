//! Bench fixtures: tenants made through the application, and a large realistic history of
//! domain events written straight through the store (inline projections included).

use std::collections::BTreeSet;

use application::commands::create_organization::CreateOrganization;
use application::commands::register_user::RegisterUser;
use application::{App, Caller, Store, TenantContext};
use domain::DomainEvent;
use domain::category::CategoryEvent;
use domain::engagement::{EngagementEvent, EngagementPhase};
use domain::event::EVENT_SCHEMA_VERSION;
use domain::ids::{CategoryId, EngagementId, ItemId, OrgId, UserId};
use domain::item::{ItemContent, ItemEvent, ItemKind, ItemStatus, Metadata};
use domain::organization::OrganizationEvent;
use domain::role::Role;
use domain::text::Name;
use domain::user::UserEvent;
use store::{Commit, EventMetadata, EventStore, ExpectedVersion, NewEvent, StreamAppend, StreamId};
use store_sqlite::SqliteStore;

/// One owner per writer, each in an organization of their own.
pub async fn tenants<S: Store>(app: &App<S>, count: usize) -> Vec<TenantContext> {
    let caller = Caller::default();
    let mut tenants = Vec::with_capacity(count);
    for n in 0..count {
        let user = app
            .register_user(
                &caller,
                RegisterUser { email: format!("bench{n}@example.com"), display_name: format!("Bench {n}") },
            )
            .await
            .expect("register");
        let org = app
            .create_organization(&caller, CreateOrganization { name: format!("Bench org {n}"), owner: user.id.clone() })
            .await
            .expect("organization");
        tenants.push(TenantContext {
            org: OrgId::parse(&org.id).expect("id"),
            actor: UserId::parse(&user.id).expect("id"),
            role: Role::Owner,
            request_id: None,
        });
    }
    tenants
}

fn name(raw: &str) -> Name {
    Name::parse(raw).expect("valid name")
}

fn append(stream: StreamId, events: Vec<DomainEvent>) -> StreamAppend {
    let events = events
        .into_iter()
        .map(|event| {
            let (event_type, payload) = event.encode();
            NewEvent { event_type, schema_version: EVENT_SCHEMA_VERSION, payload }
        })
        .collect();
    StreamAppend { stream, expected: ExpectedVersion::NoStream, events }
}

fn content(n: usize, version: usize, category: &CategoryId) -> ItemContent {
    let tags = [format!("topic-{}", n % 40), format!("client-{}", n % 9)];
    ItemContent::new(
        &format!("Workshop notes {n} v{version}"),
        format!("Findings of workshop {n}, revision {version}: pricing, margins, next steps."),
        BTreeSet::from([category.clone()]),
        &tags,
        Metadata::default(),
    )
    .expect("valid content")
}

/// Writes about `target` events for four organizations: users, members, categories,
/// engagements moving through phases, and items that are edited, reviewed and published.
pub async fn generate(store: &SqliteStore, target: usize) -> usize {
    let mut written = 0;
    let orgs = 4;
    let mut pending = Vec::new();
    let per_org = target / orgs;
    for o in 0..orgs {
        let org = OrgId::from_suffix(&format!("BENCH{o}"));
        let owner = UserId::from_suffix(&format!("BENCHOWNER{o}"));
        let meta = EventMetadata { org_id: Some(org.to_string()), ..Default::default() };
        let email = domain::email::Email::parse(&format!("owner{o}@bench.example")).expect("email");
        let mut setup = vec![
            append(
                StreamId::new("user", owner.as_str()),
                vec![DomainEvent::User(UserEvent::Registered {
                    id: owner.clone(),
                    email,
                    display_name: name("Owner"),
                })],
            ),
            append(
                StreamId::new("organization", org.as_str()),
                vec![DomainEvent::Organization(OrganizationEvent::Created {
                    id: org.clone(),
                    name: name(&format!("Bench {o}")),
                    owner: owner.clone(),
                })],
            ),
        ];
        let categories: Vec<CategoryId> = (0..20).map(|c| CategoryId::from_suffix(&format!("BENCH{o}C{c}"))).collect();
        setup.push(append(
            StreamId::new("categories", org.as_str()),
            categories
                .iter()
                .enumerate()
                .map(|(c, id)| {
                    DomainEvent::Category(CategoryEvent::Created {
                        org: org.clone(),
                        id: id.clone(),
                        name: name(&format!("Category {c}")),
                        parent: None,
                    })
                })
                .collect(),
        ));
        written += 2 + categories.len();
        store.commit(Commit { appends: setup, metadata: meta.clone() }).await.expect("setup");

        let mut produced = 0;
        let mut n = 0;
        while produced < per_org {
            let mut appends = Vec::new();
            for _ in 0..50 {
                n += 1;
                if n % 10 == 0 {
                    let id = EngagementId::from_suffix(&format!("BENCH{o}E{n}"));
                    let events = vec![
                        DomainEvent::Engagement(EngagementEvent::Created {
                            id: id.clone(),
                            org: org.clone(),
                            name: name("Pricing"),
                            client: name("Globex"),
                            description: String::new(),
                            nda_required: true,
                        }),
                        DomainEvent::Engagement(EngagementEvent::MemberAdded { user: owner.clone() }),
                        DomainEvent::Engagement(EngagementEvent::PhaseChanged {
                            from: EngagementPhase::Discovery,
                            to: EngagementPhase::Proposal,
                        }),
                    ];
                    produced += events.len();
                    appends.push(append(StreamId::new("engagement", id.as_str()), events));
                }
                let id = ItemId::from_suffix(&format!("BENCH{o}I{n}"));
                let category = &categories[n % categories.len()];
                let events = vec![
                    DomainEvent::Item(ItemEvent::Created {
                        id: id.clone(),
                        org: org.clone(),
                        author: owner.clone(),
                        kind: ItemKind::Note,
                        engagement: None,
                        content: content(n, 1, category),
                        supersedes: None,
                    }),
                    DomainEvent::Item(ItemEvent::Edited {
                        version: 2,
                        content: content(n, 2, category),
                        author: owner.clone(),
                    }),
                    DomainEvent::Item(ItemEvent::Edited {
                        version: 3,
                        content: content(n, 3, category),
                        author: owner.clone(),
                    }),
                    DomainEvent::Item(ItemEvent::StatusChanged { from: ItemStatus::Draft, to: ItemStatus::InReview }),
                    DomainEvent::Item(ItemEvent::StatusChanged {
                        from: ItemStatus::InReview,
                        to: ItemStatus::Published,
                    }),
                ];
                produced += events.len();
                appends.push(append(StreamId::new("item", id.as_str()), events));
            }
            pending.push(store.commit(Commit { appends, metadata: meta.clone() }));
            if pending.len() == 8 {
                for commit in pending.drain(..) {
                    commit.await.expect("history commit");
                }
            }
        }
        written += produced;
    }
    for commit in pending {
        commit.await.expect("history commit");
    }
    written
}
