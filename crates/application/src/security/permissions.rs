//! The one permission table: what each role may do. Every HTTP route and UI action names the
//! permission it needs; `docs/permissions.md` renders this table and a test keeps the two equal.

use domain::role::Role;

/// Something a caller may be allowed to do in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See the organization's name and settings.
    ReadOrganization,
    /// Rename the organization, change its settings.
    ManageOrganization,
    /// See the member list.
    ReadMembers,
    /// Add and remove members, change roles.
    ManageMembers,
    /// See engagements (guests: only those they are members of).
    ReadEngagements,
    /// Create, edit, transition and delete engagements, manage their members.
    WriteEngagements,
    /// See knowledge items and their history (guests: only their engagements' items).
    ReadItems,
    /// Create, edit, transition, trash and restore items.
    WriteItems,
    /// See categories, tags and templates.
    ReadTaxonomy,
    /// Create, change and delete categories and templates.
    WriteTaxonomy,
    /// Create, list and revoke API keys.
    ManageApiKeys,
    /// Read the organization's audit trail.
    ReadAuditTrail,
    /// Ask the AI assistant (summaries, answers, risk checklists) over what the caller may read;
    /// paid models spend the organization's budget.
    UseAi,
    /// See the organization's AI usage and costs.
    ReadAiUsage,
}

impl Permission {
    /// Every permission, in the order of the documented table.
    pub const ALL: [Permission; 14] = [
        Permission::ReadOrganization,
        Permission::ManageOrganization,
        Permission::ReadMembers,
        Permission::ManageMembers,
        Permission::ReadEngagements,
        Permission::WriteEngagements,
        Permission::ReadItems,
        Permission::WriteItems,
        Permission::ReadTaxonomy,
        Permission::WriteTaxonomy,
        Permission::ManageApiKeys,
        Permission::ReadAuditTrail,
        Permission::UseAi,
        Permission::ReadAiUsage,
    ];

    /// The permission's name in documentation and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadOrganization => "read_organization",
            Permission::ManageOrganization => "manage_organization",
            Permission::ReadMembers => "read_members",
            Permission::ManageMembers => "manage_members",
            Permission::ReadEngagements => "read_engagements",
            Permission::WriteEngagements => "write_engagements",
            Permission::ReadItems => "read_items",
            Permission::WriteItems => "write_items",
            Permission::ReadTaxonomy => "read_taxonomy",
            Permission::WriteTaxonomy => "write_taxonomy",
            Permission::ManageApiKeys => "manage_api_keys",
            Permission::ReadAuditTrail => "read_audit_trail",
            Permission::UseAi => "use_ai",
            Permission::ReadAiUsage => "read_ai_usage",
        }
    }

    /// Whether `role` holds this permission.
    pub fn granted_to(self, role: Role) -> bool {
        use Permission as P;
        match role {
            Role::Owner | Role::Admin => true,
            Role::Consultant => !matches!(
                self,
                P::ManageOrganization | P::ManageMembers | P::ManageApiKeys | P::ReadAuditTrail | P::ReadAiUsage
            ),
            Role::Viewer => matches!(
                self,
                P::ReadOrganization | P::ReadMembers | P::ReadEngagements | P::ReadItems | P::ReadTaxonomy | P::UseAi
            ),
            Role::Guest => matches!(self, P::ReadOrganization | P::ReadEngagements | P::ReadItems),
        }
    }
}

/// The permission table as Markdown, as `docs/permissions.md` shows it.
pub fn markdown_table() -> String {
    let mut out = String::from("| permission |");
    for role in Role::ALL {
        out.push_str(&format!(" {role} |"));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    for permission in Permission::ALL {
        out.push_str(&format!("\n| `{}` |", permission.as_str()));
        for role in Role::ALL {
            out.push_str(if permission.granted_to(role) { " yes |" } else { " no |" });
        }
    }
    out.push('\n');
    out
}
