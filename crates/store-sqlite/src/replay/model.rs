//! The read models folded in memory, for replay. Each event changes the rows exactly as the
//! inline projections in `projections.rs` change the tables (the replay test compares the two
//! row for row); the rows are then written in bulk, which is what makes a replay fast.
//! `item_categories` and `tags` are derived from the final items, as the inline deltas keep them.

use std::collections::BTreeMap;

use domain::DomainEvent;
use domain::category::CategoryEvent;
use domain::engagement::{EngagementEvent, EngagementPhase};
use domain::item::{ItemContent, ItemEvent};
use domain::organization::OrganizationEvent;
use domain::template::TemplateEvent;
use domain::user::UserEvent;

use crate::projections::{content_columns, template_columns};
use crate::rows::to_micros;

/// One SQL value.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    /// Appends the value as an SQL literal. Text is quoted with `'` doubled; text holding a NUL
    /// (which cannot appear in SQL text) is written as a hex blob cast back to text.
    pub(crate) fn write_literal(&self, sql: &mut String) {
        use std::fmt::Write;
        match self {
            Cell::Null => sql.push_str("NULL"),
            Cell::Int(value) => {
                let _ = write!(sql, "{value}");
            }
            Cell::Text(text) if text.contains('\0') => {
                sql.push_str("CAST(X'");
                for byte in text.as_bytes() {
                    let _ = write!(sql, "{byte:02X}");
                }
                sql.push_str("' AS TEXT)");
            }
            Cell::Text(text) => {
                sql.push('\'');
                if text.contains('\'') {
                    sql.push_str(&text.replace('\'', "''"));
                } else {
                    sql.push_str(text);
                }
                sql.push('\'');
            }
        }
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Int(value)
    }
}
impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}
impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_owned())
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Null, Into::into)
    }
}

/// Where a changed row stands: its stream version and the time of its last change.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    stream_version: i64,
    created_at: i64,
    updated_at: i64,
}

impl Stamp {
    fn new(stream_version: i64, at: i64) -> Self {
        Self { stream_version, created_at: at, updated_at: at }
    }
    fn touch(&mut self, stream_version: i64, at: i64) {
        self.stream_version = stream_version;
        self.updated_at = at;
    }
}

#[derive(Debug)]
struct Organization {
    name: String,
    budget: Option<i64>,
    retention: Option<i64>,
    transcripts: bool,
    deletion: Option<i64>,
    stamp: Stamp,
}

#[derive(Debug)]
struct Membership {
    role: String,
    created_at: i64,
    updated_at: i64,
}

#[derive(Debug)]
struct User {
    email: String,
    display_name: String,
    stamp: Stamp,
}

#[derive(Debug)]
struct Engagement {
    org: String,
    name: String,
    client: String,
    description: String,
    nda_required: bool,
    phase: &'static str,
    held_from: Option<&'static str>,
    stamp: Stamp,
}

#[derive(Debug)]
struct Item {
    org: String,
    kind: &'static str,
    engagement: Option<String>,
    author: String,
    content: ItemContent,
    /// `content`'s categories, tags and metadata as stored JSON, encoded once.
    columns: (String, String, String),
    status: &'static str,
    version: i64,
    supersedes: Option<String>,
    superseded_by: Option<String>,
    trashed_at: Option<i64>,
    stamp: Stamp,
}

#[derive(Debug)]
struct Category {
    org: String,
    name: String,
    parent: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(Debug)]
struct Template {
    org: String,
    name: String,
    body: String,
    default_kind: &'static str,
    default_category: Option<String>,
    default_tags: String,
    stamp: Stamp,
}

#[expect(clippy::too_many_arguments, reason = "one argument per column of an item version row")]
fn version_row(
    org: &str,
    id: &str,
    version: i64,
    content: &ItemContent,
    columns: &(String, String, String),
    author: &str,
    restored_from: Option<i64>,
    at: i64,
) -> Vec<Cell> {
    let (categories, tags, metadata) = columns;
    vec![
        org.into(),
        id.into(),
        version.into(),
        content.title.as_str().into(),
        content.body.as_str().into(),
        categories.as_str().into(),
        tags.as_str().into(),
        metadata.as_str().into(),
        author.into(),
        restored_from.into(),
        at.into(),
    ]
}

/// The columns of `item_versions`, in the order of [`version_row`].
pub(crate) const VERSION_COLUMNS: &[&str] = &[
    "org_id",
    "item_id",
    "version",
    "title",
    "body",
    "categories",
    "tags",
    "metadata",
    "author_id",
    "restored_from",
    "created_at",
];

/// Every read model, in memory.
/// Ordered maps, so that each table is written in key order (appending to its indexes).
#[derive(Debug, Default)]
pub(crate) struct ReplayModel {
    organizations: BTreeMap<String, Organization>,
    memberships: BTreeMap<(String, String), Membership>,
    users: BTreeMap<String, User>,
    engagements: BTreeMap<String, Engagement>,
    engagement_members: BTreeMap<(String, String), (String, i64)>,
    items: BTreeMap<String, Item>,
    /// `item_versions` rows not yet handed out by [`ReplayModel::take_version_rows`].
    version_rows: Vec<Vec<Cell>>,
    /// Items purged so far, whose version rows are deleted at the end.
    purged: Vec<String>,
    categories: BTreeMap<String, Category>,
    templates: BTreeMap<String, Template>,
}

/// Rows of one table, ready for a bulk insert.
pub(crate) struct TableRows {
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
}

impl ReplayModel {
    /// Folds one event: `aggregate_id` is the stream's id part, `at` its recorded time.
    pub(crate) fn apply(&mut self, event: &DomainEvent, aggregate_id: &str, stream_version: i64, at: i64) {
        match event {
            DomainEvent::Organization(e) => self.organization(e, aggregate_id, stream_version, at),
            DomainEvent::User(e) => self.user(e, aggregate_id, stream_version, at),
            DomainEvent::Engagement(e) => self.engagement(e, aggregate_id, stream_version, at),
            DomainEvent::Item(e) => self.item(e, aggregate_id, stream_version, at),
            DomainEvent::Category(e) => self.category(e, at),
            DomainEvent::Template(e) => self.template(e, aggregate_id, stream_version, at),
        }
    }

    fn organization(&mut self, event: &OrganizationEvent, org: &str, sv: i64, at: i64) {
        use OrganizationEvent as E;
        if let E::Created { id, name, owner } = event {
            let row = Organization {
                name: name.to_string(),
                budget: None,
                retention: None,
                transcripts: false,
                deletion: None,
                stamp: Stamp::new(sv, at),
            };
            self.organizations.insert(id.to_string(), row);
            let membership = Membership { role: "owner".to_owned(), created_at: at, updated_at: at };
            self.memberships.insert((id.to_string(), owner.to_string()), membership);
            return;
        }
        let key = |user: &domain::ids::UserId| (org.to_owned(), user.to_string());
        match event {
            E::Created { .. } => {}
            E::MemberAdded { user, role } => {
                self.memberships
                    .insert(key(user), Membership { role: role.as_str().to_owned(), created_at: at, updated_at: at });
            }
            E::MemberRoleChanged { user, role } => {
                if let Some(m) = self.memberships.get_mut(&key(user)) {
                    m.role = role.as_str().to_owned();
                    m.updated_at = at;
                }
            }
            E::MemberRemoved { user } => {
                self.memberships.remove(&key(user));
            }
            _ => {}
        }
        let Some(row) = self.organizations.get_mut(org) else { return };
        match event {
            E::Renamed { name } => row.name = name.to_string(),
            E::SettingsChanged { settings } => {
                row.budget = settings.ai_monthly_budget_cents.and_then(|v| i64::try_from(v).ok());
                row.retention = settings.retention_days.map(i64::from);
                row.transcripts = settings.ai_store_transcripts;
            }
            E::DeletionScheduled { effective_at } => row.deletion = Some(to_micros(*effective_at)),
            E::DeletionCancelled => row.deletion = None,
            _ => {}
        }
        row.stamp.touch(sv, at);
    }

    fn user(&mut self, event: &UserEvent, id: &str, sv: i64, at: i64) {
        match event {
            UserEvent::Registered { id, email, display_name } => {
                let row = User {
                    email: email.as_str().to_owned(),
                    display_name: display_name.to_string(),
                    stamp: Stamp::new(sv, at),
                };
                self.users.insert(id.to_string(), row);
            }
            UserEvent::Renamed { display_name } => {
                if let Some(row) = self.users.get_mut(id) {
                    row.display_name = display_name.to_string();
                    row.stamp.touch(sv, at);
                }
            }
        }
    }

    fn engagement(&mut self, event: &EngagementEvent, id: &str, sv: i64, at: i64) {
        use EngagementEvent as E;
        if let E::Created { id, org, name, client, description, nda_required } = event {
            let row = Engagement {
                org: org.to_string(),
                name: name.to_string(),
                client: client.to_string(),
                description: description.clone(),
                nda_required: *nda_required,
                phase: EngagementPhase::Discovery.as_str(),
                held_from: None,
                stamp: Stamp::new(sv, at),
            };
            self.engagements.insert(id.to_string(), row);
            return;
        }
        if let E::Deleted = event {
            self.engagements.remove(id);
            self.engagement_members.retain(|(engagement, _), _| engagement != id);
            return;
        }
        let Some(row) = self.engagements.get_mut(id) else { return };
        match event {
            E::Created { .. } | E::Deleted => {}
            E::DetailsUpdated { name, client, description, nda_required } => {
                row.name = name.to_string();
                row.client = client.to_string();
                row.description.clone_from(description);
                row.nda_required = *nda_required;
            }
            E::PhaseChanged { from, to } => {
                row.phase = to.as_str();
                row.held_from = (*to == EngagementPhase::OnHold).then_some(from.as_str());
            }
            E::MemberAdded { user } => {
                self.engagement_members.insert((id.to_owned(), user.to_string()), (row.org.clone(), at));
            }
            E::MemberRemoved { user } => {
                self.engagement_members.remove(&(id.to_owned(), user.to_string()));
            }
        }
        row.stamp.touch(sv, at);
    }

    fn item(&mut self, event: &ItemEvent, id: &str, sv: i64, at: i64) {
        use ItemEvent as E;
        if let E::Created { id, org, author, kind, engagement, content, supersedes } = event {
            let columns = content_columns(content);
            self.push_version(org.as_str(), id.as_str(), 1, content, &columns, author.as_str(), None, at);
            let row = Item {
                org: org.to_string(),
                kind: kind.as_str(),
                engagement: engagement.as_ref().map(ToString::to_string),
                author: author.to_string(),
                content: content.clone(),
                columns,
                status: "draft",
                version: 1,
                supersedes: supersedes.as_ref().map(ToString::to_string),
                superseded_by: None,
                trashed_at: None,
                stamp: Stamp::new(sv, at),
            };
            self.items.insert(id.to_string(), row);
            return;
        }
        if let E::Purged = event {
            self.items.remove(id);
            self.purged.push(id.to_owned());
            return;
        }
        let Some(row) = self.items.get_mut(id) else { return };
        match event {
            E::Edited { version, content, author } | E::VersionRestored { version, content, author, .. } => {
                let restored_from = match event {
                    E::VersionRestored { restored_from, .. } => Some(i64::from(*restored_from)),
                    _ => None,
                };
                let columns = content_columns(content);
                let version_row = version_row(
                    &row.org,
                    id,
                    i64::from(*version),
                    content,
                    &columns,
                    author.as_str(),
                    restored_from,
                    at,
                );
                row.content = content.clone();
                row.columns = columns;
                row.version = i64::from(*version);
                row.stamp.touch(sv, at);
                self.version_rows.push(version_row);
                return;
            }
            E::StatusChanged { to, .. } => row.status = to.as_str(),
            E::Superseded { by } => {
                row.status = "superseded";
                row.superseded_by = Some(by.to_string());
            }
            E::Trashed { at } => row.trashed_at = Some(to_micros(*at)),
            E::RestoredFromTrash => row.trashed_at = None,
            E::Created { .. } | E::Purged => {}
        }
        row.stamp.touch(sv, at);
    }

    #[expect(clippy::too_many_arguments, reason = "one argument per column of an item version row")]
    fn push_version(
        &mut self,
        org: &str,
        id: &str,
        version: i64,
        content: &ItemContent,
        columns: &(String, String, String),
        author: &str,
        restored_from: Option<i64>,
        at: i64,
    ) {
        self.version_rows.push(version_row(org, id, version, content, columns, author, restored_from, at));
    }

    /// The `item_versions` rows folded since the last call, to be written while folding goes on.
    pub(crate) fn take_version_rows(&mut self) -> Vec<Vec<Cell>> {
        std::mem::take(&mut self.version_rows)
    }

    /// Items purged during the replay: their version rows must go.
    pub(crate) fn purged_items(&self) -> &[String] {
        &self.purged
    }

    fn category(&mut self, event: &CategoryEvent, at: i64) {
        match event {
            CategoryEvent::Created { org, id, name, parent } => {
                let row = Category {
                    org: org.to_string(),
                    name: name.to_string(),
                    parent: parent.as_ref().map(ToString::to_string),
                    created_at: at,
                    updated_at: at,
                };
                self.categories.insert(id.to_string(), row);
            }
            CategoryEvent::Renamed { id, name } => {
                if let Some(row) = self.categories.get_mut(id.as_str()) {
                    row.name = name.to_string();
                    row.updated_at = at;
                }
            }
            CategoryEvent::Moved { id, to, .. } => {
                if let Some(row) = self.categories.get_mut(id.as_str()) {
                    row.parent = to.as_ref().map(ToString::to_string);
                    row.updated_at = at;
                }
            }
            CategoryEvent::Deleted { id, .. } => {
                self.categories.remove(id.as_str());
            }
        }
    }

    fn template(&mut self, event: &TemplateEvent, id: &str, sv: i64, at: i64) {
        match event {
            TemplateEvent::Created { id, org, definition } => {
                let (body, category, tags) = template_columns(definition);
                let row = Template {
                    org: org.to_string(),
                    name: definition.name.to_string(),
                    body,
                    default_kind: definition.default_kind.as_str(),
                    default_category: category.map(str::to_owned),
                    default_tags: tags,
                    stamp: Stamp::new(sv, at),
                };
                self.templates.insert(id.to_string(), row);
            }
            TemplateEvent::Updated { definition } => {
                if let Some(row) = self.templates.get_mut(id) {
                    let (body, category, tags) = template_columns(definition);
                    row.name = definition.name.to_string();
                    row.body = body;
                    row.default_kind = definition.default_kind.as_str();
                    row.default_category = category.map(str::to_owned);
                    row.default_tags = tags;
                    row.stamp.touch(sv, at);
                }
            }
            TemplateEvent::Deleted => {
                self.templates.remove(id);
            }
        }
    }

    /// The rows of every table, in the column order of the schema (`item_versions`: the rows
    /// not yet taken).
    pub(crate) fn into_tables(self) -> Vec<TableRows> {
        let mut tag_counts: BTreeMap<(String, String), i64> = BTreeMap::new();
        let mut item_categories = Vec::new();
        for (id, item) in &self.items {
            for category in &item.content.categories {
                item_categories.push(vec![
                    Cell::from(item.org.as_str()),
                    Cell::from(id.as_str()),
                    Cell::from(category.as_str()),
                ]);
            }
            if item.trashed_at.is_none() {
                for tag in &item.content.tags {
                    *tag_counts.entry((item.org.clone(), tag.as_str().to_owned())).or_default() += 1;
                }
            }
        }
        vec![
            TableRows {
                table: "organizations",
                columns: &[
                    "id",
                    "name",
                    "ai_monthly_budget_cents",
                    "retention_days",
                    "ai_store_transcripts",
                    "deletion_scheduled_for",
                    "stream_version",
                    "created_at",
                    "updated_at",
                ],
                rows: self
                    .organizations
                    .into_iter()
                    .map(|(id, o)| {
                        vec![
                            id.into(),
                            o.name.into(),
                            o.budget.into(),
                            o.retention.into(),
                            i64::from(o.transcripts).into(),
                            o.deletion.into(),
                            o.stamp.stream_version.into(),
                            o.stamp.created_at.into(),
                            o.stamp.updated_at.into(),
                        ]
                    })
                    .collect(),
            },
            TableRows {
                table: "users",
                columns: &["id", "email", "display_name", "stream_version", "created_at", "updated_at"],
                rows: self
                    .users
                    .into_iter()
                    .map(|(id, u)| {
                        vec![
                            id.into(),
                            u.email.into(),
                            u.display_name.into(),
                            u.stamp.stream_version.into(),
                            u.stamp.created_at.into(),
                            u.stamp.updated_at.into(),
                        ]
                    })
                    .collect(),
            },
            TableRows {
                table: "memberships",
                columns: &["org_id", "user_id", "role", "created_at", "updated_at"],
                rows: self
                    .memberships
                    .into_iter()
                    .map(|((org, user), m)| {
                        vec![org.into(), user.into(), m.role.into(), m.created_at.into(), m.updated_at.into()]
                    })
                    .collect(),
            },
            TableRows {
                table: "engagements",
                columns: &[
                    "org_id",
                    "id",
                    "name",
                    "client",
                    "description",
                    "nda_required",
                    "phase",
                    "held_from",
                    "stream_version",
                    "created_at",
                    "updated_at",
                ],
                rows: self
                    .engagements
                    .into_iter()
                    .map(|(id, e)| {
                        vec![
                            e.org.into(),
                            id.into(),
                            e.name.into(),
                            e.client.into(),
                            e.description.into(),
                            i64::from(e.nda_required).into(),
                            e.phase.into(),
                            e.held_from.into(),
                            e.stamp.stream_version.into(),
                            e.stamp.created_at.into(),
                            e.stamp.updated_at.into(),
                        ]
                    })
                    .collect(),
            },
            TableRows {
                table: "engagement_members",
                columns: &["org_id", "engagement_id", "user_id", "added_at"],
                rows: self
                    .engagement_members
                    .into_iter()
                    .map(|((engagement, user), (org, at))| vec![org.into(), engagement.into(), user.into(), at.into()])
                    .collect(),
            },
            TableRows {
                table: "items",
                columns: &[
                    "org_id",
                    "id",
                    "kind",
                    "engagement_id",
                    "author_id",
                    "title",
                    "body",
                    "categories",
                    "tags",
                    "metadata",
                    "status",
                    "version",
                    "supersedes",
                    "superseded_by",
                    "trashed_at",
                    "stream_version",
                    "created_at",
                    "updated_at",
                ],
                rows: self
                    .items
                    .into_iter()
                    .map(|(id, i)| {
                        let (categories, tags, metadata) = i.columns;
                        vec![
                            i.org.into(),
                            id.into(),
                            i.kind.into(),
                            i.engagement.into(),
                            i.author.into(),
                            i.content.title.into(),
                            i.content.body.into(),
                            categories.into(),
                            tags.into(),
                            metadata.into(),
                            i.status.into(),
                            i.version.into(),
                            i.supersedes.into(),
                            i.superseded_by.into(),
                            i.trashed_at.into(),
                            i.stamp.stream_version.into(),
                            i.stamp.created_at.into(),
                            i.stamp.updated_at.into(),
                        ]
                    })
                    .collect(),
            },
            TableRows { table: "item_versions", columns: VERSION_COLUMNS, rows: self.version_rows },
            TableRows {
                table: "item_categories",
                columns: &["org_id", "item_id", "category_id"],
                rows: item_categories,
            },
            TableRows {
                table: "categories",
                columns: &["org_id", "id", "name", "parent_id", "created_at", "updated_at"],
                rows: self
                    .categories
                    .into_iter()
                    .map(|(id, c)| {
                        vec![
                            c.org.into(),
                            id.into(),
                            c.name.into(),
                            c.parent.into(),
                            c.created_at.into(),
                            c.updated_at.into(),
                        ]
                    })
                    .collect(),
            },
            TableRows {
                table: "templates",
                columns: &[
                    "org_id",
                    "id",
                    "name",
                    "body",
                    "default_kind",
                    "default_category_id",
                    "default_tags",
                    "stream_version",
                    "created_at",
                    "updated_at",
                ],
                rows: self
                    .templates
                    .into_iter()
                    .map(|(id, t)| {
                        vec![
                            t.org.into(),
                            id.into(),
                            t.name.into(),
                            t.body.into(),
                            t.default_kind.into(),
                            t.default_category.into(),
                            t.default_tags.into(),
                            t.stamp.stream_version.into(),
                            t.stamp.created_at.into(),
                            t.stamp.updated_at.into(),
                        ]
                    })
                    .collect(),
            },
            TableRows {
                table: "tags",
                columns: &["org_id", "tag", "item_count"],
                rows: tag_counts
                    .into_iter()
                    .map(|((org, tag), count)| vec![org.into(), tag.into(), count.into()])
                    .collect(),
            },
        ]
    }
}
