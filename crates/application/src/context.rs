//! Who is calling: recorded in every event's metadata and used for tenant checks.

use domain::ids::{OrgId, UserId};
use domain::role::Role;
use store::EventMetadata;

/// A caller outside any organization (registration, creating an organization, the CLI).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub actor: Option<UserId>,
    pub request_id: Option<String>,
}

impl Caller {
    pub(crate) fn metadata(&self, org: Option<&OrgId>) -> EventMetadata {
        EventMetadata {
            org_id: org.map(ToString::to_string),
            actor: self.actor.as_ref().map(ToString::to_string),
            request_id: self.request_id.clone(),
            correlation_id: self.request_id.clone(),
            causation_id: None,
        }
    }
}

/// A member acting inside one organization. Authentication and permission checks happen at
/// the edge (HTTP, CLI) before one of these is built.
#[derive(Debug, Clone)]
pub struct TenantContext {
    pub org: OrgId,
    pub actor: UserId,
    pub role: Role,
    pub request_id: Option<String>,
}

impl TenantContext {
    pub(crate) fn metadata(&self) -> EventMetadata {
        Caller { actor: Some(self.actor.clone()), request_id: self.request_id.clone() }.metadata(Some(&self.org))
    }
}
