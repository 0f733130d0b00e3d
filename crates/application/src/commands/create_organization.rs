//! Creates an organization with its first owner.

use domain::Aggregate;
use domain::ids::{OrgId, UserId};
use domain::organization::{Organization, OrganizationCommand};
use domain::text::Name;
use domain::user::User;

use super::Changed;
use crate::{App, AppError, Caller, Store};

/// Input of [`App::create_organization`].
#[derive(Debug, Clone)]
pub struct CreateOrganization {
    pub name: String,
    /// The registered user who becomes the first owner.
    pub owner: String,
}

impl<S: Store> App<S> {
    /// Creates an organization owned by an existing user.
    pub async fn create_organization(&self, caller: &Caller, input: CreateOrganization) -> Result<Changed, AppError> {
        let name = Name::parse(&input.name)?;
        let owner = UserId::parse(&input.owner)?;
        if self.load::<User>(owner.as_str()).await?.version == 0 {
            return Err(AppError::NotFound(format!("user {owner} not found")));
        }
        let id = OrgId::from_suffix(&self.ids.next_suffix());
        let done = self
            .execute_new::<Organization>(id.as_str(), caller.metadata(Some(&id)), |org| {
                org.decide(OrganizationCommand::Create { id: id.clone(), name: name.clone(), owner: owner.clone() })
            })
            .await?;
        Ok(Changed { id: id.to_string(), version: done.version })
    }
}
