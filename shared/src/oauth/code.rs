//! The authorization code: sealed (AES-256-GCM-SIV, sealed by `authorize`, opened by `token`) so it carries everything the token endpoint needs,
//! and the authorization endpoint writes nothing to issue it. One-time use is enforced at redemption,
//! where the grant it names is created with a not-exists condition.

use serde::{Deserialize, Serialize};

use super::claims::IdentityClaims;
use crate::domain::assurance::Amr;
use crate::keys::{Purpose, SigningAlg};
use crate::repo::ApprovedAt;

/// What an authorization code is bound to (RFC 6749 §4.1.2, RFC 7636, OIDC Core §3.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    /// The grant (refresh-token family) this code starts; its creation makes the code used.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The exact redirect URI of the authorization request.
    pub redirect_uri: String,
    /// PKCE S256 challenge, if the request had one.
    pub code_challenge: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The patient (`sub`).
    pub patient_id: String,
    /// OIDC nonce to echo in the id_token.
    pub nonce: Option<String>,
    /// When the patient authenticated (unix seconds).
    pub auth_time: i64,
    /// The sign-in session at the authorization server (`sid`, OIDC Front-Channel Logout §2 and
    /// RP-Initiated Logout): a logout with an id_token naming it ends that session. Absent from
    /// codes sealed before sessions had a public id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the patient authenticated (RFC 8176); the tokens' `acr` follows from it. Codes sealed
    /// before second factors existed were password sign-ins.
    #[serde(default)]
    pub amr: Amr,
    /// When the code stops being redeemable (unix seconds).
    pub expires_at: i64,
    /// When the patient approved it, unix milliseconds (see [`AuthorizationCode::approved_at`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at_ms: Option<i64>,
    /// Identity claims for the id_token, already filtered by the granted scopes.
    pub claims: IdentityClaims,
    /// How the client's id_tokens are signed (its registration when the code was issued); absent
    /// means RS256.
    #[serde(default, skip_serializing_if = "SigningAlg::is_rs256")]
    pub id_token_alg: SigningAlg,
}

impl AuthorizationCode {
    /// Sealing purpose (its own key), so no other sealed value can pass for a code.
    pub const PURPOSE: Purpose = Purpose::AuthorizationCode;
    /// Lifetime of a code in seconds (RFC 6749 §4.1.2 recommends at most 10 minutes; we use 60 s).
    pub const TTL_SECONDS: i64 = Self::PURPOSE.max_lifetime_secs();

    /// When the patient approved (or had approved) the client, as the token endpoint compares
    /// it with a consent withdrawal: to the millisecond, or for a code sealed without, its issue
    /// second (codes live [`Self::TTL_SECONDS`] from their issue).
    pub fn approved_at(&self) -> ApprovedAt {
        ApprovedAt::sealed(self.approved_at_ms, self.expires_at - Self::TTL_SECONDS)
    }
}
