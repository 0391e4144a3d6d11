//! The UserInfo response (OIDC Core §5.3): `sub` always, plus exactly the claims the access
//! token's scopes release ([`IdentityClaims::released`]).

use serde::Serialize;

use super::{granted_scopes, subject, SubjectError};
use crate::bearer::AccessClaims;
use crate::oauth::claims::IdentityClaims;
use crate::repo::PatientRepo;

/// Scope an access token needs to call the UserInfo endpoint.
pub const REQUIRED_SCOPE: &str = "openid";

/// The UserInfo JSON object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserInfo {
    /// The patient id, identical to the `sub` of the id_token (OIDC Core §5.3.2).
    pub sub: String,
    /// The released claims; absent ones are omitted.
    #[serde(flatten)]
    pub claims: IdentityClaims,
}

/// The UserInfo response for a verified access token. One store read.
pub async fn userinfo(repo: &PatientRepo, token: &AccessClaims) -> Result<UserInfo, SubjectError> {
    let patient = subject(repo, token).await?;
    Ok(UserInfo {
        sub: patient.id.as_str().to_owned(),
        claims: IdentityClaims::released(&patient, &granted_scopes(token)),
    })
}
