//! Signs up: registers a user with a password and creates their organization, then opens a
//! session in it.

use store::read_model::{OrganizationView, UserView};

use super::create_organization::CreateOrganization;
use super::log_in::Tokens;
use super::register_user::RegisterUser;
use crate::security::passwords;
use crate::{App, AppError, Caller, Store};

/// Input of [`App::sign_up`].
#[derive(Clone)]
pub struct SignUp {
    pub email: String,
    pub password: String,
    pub name: String,
    pub organization_name: String,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUp").field("email", &self.email).field("name", &self.name).finish_non_exhaustive()
    }
}

/// What signing up made.
#[derive(Debug, Clone)]
pub struct SignedUp {
    pub user: UserView,
    pub organization: OrganizationView,
    pub tokens: Tokens,
}

impl<S: Store> App<S> {
    pub async fn sign_up(&self, input: SignUp) -> Result<SignedUp, AppError> {
        passwords::check_strength(&input.password, &[&input.email, &input.name, &input.organization_name])?;
        // Hash before anything is written: a failure here leaves nothing behind.
        let hash = passwords::hash(input.password).await?;
        let caller = Caller { actor: None, request_id: input.request_id };
        let user = self.register_user(&caller, RegisterUser { email: input.email, display_name: input.name }).await?;
        self.store.set_password_hash(&user.id, &hash, self.clock.now()).await?;
        let caller = Caller { actor: domain::ids::UserId::parse(&user.id).ok(), ..caller };
        let org = self
            .create_organization(&caller, CreateOrganization { name: input.organization_name, owner: user.id.clone() })
            .await?;
        tracing::info!(user_id = %user.id, org_id = %org.id, "signed up");
        let tokens = self.open_session(&user.id, &org.id, input.user_agent).await?;
        let missing = || AppError::Internal("a just-created object is missing from the read models".to_owned());
        Ok(SignedUp {
            user: self.store.user(&user.id).await?.ok_or_else(missing)?,
            organization: self.store.organization(&org.id).await?.ok_or_else(missing)?,
            tokens,
        })
    }
}
