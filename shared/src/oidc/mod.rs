//! OpenID Connect provider documents and the identity endpoints' logic, with no HTTP in them:
//! - [`discovery`]: the provider metadata (OIDC Discovery 1.0, RFC 8414), built once per instance.
//! - [`userinfo`]: the claims the UserInfo endpoint returns for an access token (OIDC Core §5.3).
//! - [`profile`]: the portal profile resource (`GET /api/portal/v1/profile`).
//!
//! Both resource lookups cost exactly one store read: the access token was already verified in
//! memory (see [`crate::bearer`]), so the only thing left to fetch is the patient it names.

pub mod discovery;
pub mod profile;
pub mod userinfo;

use crate::bearer::AccessClaims;
use crate::domain::patient::{Patient, PatientId};
use crate::repo::{PatientRepo, RepoError};
use crate::scope::{Scope, Scopes};

/// Why the patient an access token names could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    /// The token's `sub` names no patient (the account was deleted, or the subject is not a patient
    /// id at all). The token no longer identifies anyone: resource servers answer 401
    /// `invalid_token`.
    #[error("the account this token was issued for no longer exists")]
    Gone,
    /// The store failed or holds a record this code cannot read.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// The patient the (already verified) access token was issued for. One store read.
pub async fn subject(repo: &PatientRepo, claims: &AccessClaims) -> Result<Patient, SubjectError> {
    let id = PatientId::parse(&claims.sub).map_err(|_| SubjectError::Gone)?;
    repo.get(&id).await?.ok_or(SubjectError::Gone)
}

/// The known scopes of a token. Unknown names are skipped rather than failing the request: the
/// token is ours and signed, so an unknown name can only be a scope a newer or older release
/// defined, and it never releases anything here.
pub fn granted_scopes(claims: &AccessClaims) -> Scopes {
    let mut scopes = Scopes::new();
    for scope in claims.scopes().filter_map(|name| Scope::parse(name).ok()) {
        scopes.insert(scope);
    }
    scopes
}
