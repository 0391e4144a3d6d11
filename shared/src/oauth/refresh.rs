//! Refresh tokens and the `refresh_token` grant (RFC 6749 §6, rotation per RFC 9700 §4.14.2).
//!
//! A refresh token is SEALED (AES-256-GCM, purpose [`RefreshToken::PURPOSE`]): it carries its grant,
//! its generation, the client, the patient, the granted scopes, the identity claims for id_tokens and
//! its expiry, so a refresh needs no read. The grant record holds the one generation still valid:
//! each refresh moves it forward by one in a conditional write, which makes every refresh token
//! single-use. Presenting an older generation again (a stolen and replayed token, or a client that
//! refreshed twice with the same token) revokes the whole grant, including the newest token.
//!
//! When refresh tokens are issued: only when the granted scopes include `offline_access` or a portal
//! API scope (`profile_read`, `appointment_read`, `appointment_write`), see
//! [`Scopes::grants_refresh_token`]. A sign-in-only grant (`openid profile email phone`) gets none.
//!
//! Lifetime: a grant lives [`REFRESH_TTL_SECS`] (30 days) from the code exchange, absolutely;
//! rotation does not extend it (the grant record expires then too), after which the patient signs
//! in again.
//!
//! Concurrency: N simultaneous refreshes with the same token race for one conditional write; at most
//! one wins. The others see a stale generation and are treated as reuse, which revokes the grant
//! (so clients must serialise their refreshes, as RFC 9700 rotation implies).
//!
//! [`REFRESH_TTL_SECS`]: crate::keys::REFRESH_TTL_SECS

use serde::{Deserialize, Serialize};

use super::access::{GrantSubject, TokenResponse};
use super::claims::IdentityClaims;
use super::client_auth::{self, ClientCredentials};
use super::refusal::Refusal;
use super::service::TokenService;
use super::OAuthError;
use crate::domain::assurance::Amr;
use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::keys::REFRESH_TTL_SECS;
use crate::keys::{KeySet, Purpose, SealError, SigningAlg};
use crate::metrics::{self, Counter};
use crate::repo::{ApprovedAt, GrantError, GrantId};
use crate::scope::Scopes;
use crate::store::now_unix;

/// What a refresh token carries (sealed; never readable by the client).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    /// The grant (refresh-token family).
    pub grant_id: GrantId,
    /// Which generation of the family this token is (0 at the code exchange).
    pub generation: i64,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The patient.
    pub patient_id: PatientId,
    /// The scopes of the grant (a refresh may ask for fewer, never more).
    pub scope: Scopes,
    /// When the patient authenticated (unix seconds).
    pub auth_time: i64,
    /// The sign-in session at the authorization server (`sid`, OIDC Front-Channel Logout §2 and
    /// RP-Initiated Logout): a logout with an id_token naming it ends that session. Absent from
    /// codes sealed before sessions had a public id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the patient authenticated at the code's sign-in (tokens refreshed from it keep it).
    #[serde(default)]
    pub amr: Amr,
    /// Identity claims for id_tokens issued on refresh.
    pub claims: IdentityClaims,
    /// When the grant ends (unix seconds), whatever the generation.
    pub expires_at: i64,
    /// How the client's id_tokens are signed (from the code; absent means RS256).
    #[serde(default, skip_serializing_if = "SigningAlg::is_rs256")]
    pub id_token_alg: SigningAlg,
    /// When the patient approved the client (the code's), unix milliseconds; absent from tokens
    /// sealed before approvals carried milliseconds (see [`RefreshToken::approved_at`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at_ms: Option<i64>,
}

/// Description of every failure to use a refresh token whose cause the client cannot act on.
const INVALID_REFRESH: &str = "the refresh token is invalid, expired or revoked";

impl RefreshToken {
    /// Sealing purpose (its own key, held by `token` alone), so no other sealed value can pass
    /// for a refresh token.
    pub const PURPOSE: Purpose = Purpose::RefreshToken;

    /// The first token of a grant created by a code exchange.
    pub fn first(subject: &GrantSubject, scopes: &Scopes, expires_at: i64) -> RefreshToken {
        RefreshToken {
            grant_id: subject.grant_id.clone(),
            generation: 0,
            client_id: subject.client_id.clone(),
            patient_id: subject.patient_id.clone(),
            scope: scopes.clone(),
            auth_time: subject.auth_time,
            sid: subject.sid.clone(),
            amr: subject.amr.clone(),
            claims: subject.claims.clone(),
            expires_at,
            id_token_alg: subject.id_token_alg,
            approved_at_ms: subject.approved_at.millis(),
        }
    }

    /// The token that replaces this one after a successful rotation. Its scope stays the grant's
    /// whatever the refresh asked for (RFC 6749 §6: a new refresh token has the same scope).
    pub fn next(&self) -> RefreshToken {
        RefreshToken {
            generation: self.generation + 1,
            ..self.clone()
        }
    }

    /// Seals the token.
    pub fn seal(&self, keys: &KeySet) -> Result<String, OAuthError> {
        keys.sealer(Self::PURPOSE)
            .seal_json(self)
            .map_err(OAuthError::server_error)
    }

    /// Opens a sealed token (authenticity only: expiry and client are the caller's checks).
    pub fn open(keys: &KeySet, text: &str) -> Result<RefreshToken, SealError> {
        keys.sealer(Self::PURPOSE).open_json(text)
    }

    /// Whether the token has expired at `now`.
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at
    }

    /// The subject of tokens issued from it (no nonce: OIDC Core §12.2).
    pub fn subject(&self) -> GrantSubject {
        GrantSubject {
            grant_id: self.grant_id.clone(),
            client_id: self.client_id.clone(),
            patient_id: self.patient_id.clone(),
            auth_time: self.auth_time,
            sid: self.sid.clone(),
            amr: self.amr.clone(),
            nonce: None,
            claims: self.claims.clone(),
            id_token_alg: self.id_token_alg,
            approved_at: self.approved_at(),
        }
    }

    /// When the patient approved the client: to the millisecond, or for a token sealed without,
    /// the second its grant was created (grants with refresh tokens live [`REFRESH_TTL_SECS`]).
    pub fn approved_at(&self) -> ApprovedAt {
        ApprovedAt::sealed(self.approved_at_ms, self.expires_at - REFRESH_TTL_SECS)
    }
}

impl TokenService {
    /// The `refresh_token` grant. One storage round trip when it succeeds.
    ///
    /// `scope`, if given, must name known scopes (else `invalid_scope`) that were all granted (a
    /// wider set is `invalid_scope`); the access token then carries just those, while the new
    /// refresh token keeps the grant's scopes. An id_token is issued when the access token's
    /// scopes include `openid` (without `nonce`).
    ///
    /// Errors: a token that does not open, has expired or belongs to another client, or a grant
    /// that no longer exists: `invalid_grant`; client authentication failing in the transaction:
    /// `invalid_client`; an already-rotated token or a revoked grant: the grant is revoked (again)
    /// and the answer is `invalid_grant`.
    pub(crate) async fn refresh(
        &self,
        credentials: &ClientCredentials,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, Refusal> {
        let keys = self
            .keys
            .for_sealed(RefreshToken::PURPOSE, refresh_token)
            .await;
        let token = RefreshToken::open(&keys, refresh_token)
            .map_err(|_| OAuthError::invalid_grant(INVALID_REFRESH))?;
        if token.client_id != credentials.client_id {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            )
            .into());
        }
        let now = now_unix();
        if token.is_expired(now) {
            return Err(OAuthError::invalid_grant(INVALID_REFRESH).into());
        }
        let scopes = match scope {
            None => token.scope.clone(),
            Some(text) => narrowed_scopes(text, &token.scope)?,
        };

        match self
            .grants
            .rotate_with_client_check(
                &token.grant_id,
                &credentials.client_id,
                token.generation,
                credentials.check.clone(),
                (&token.patient_id, token.approved_at()),
            )
            .await
        {
            Ok(()) => {}
            Err(GrantError::InvalidClient) => return Err(Refusal::Checked(client_auth::failed())),
            Err(GrantError::Reused) => {
                metrics::count(Counter::RefreshReuseDetected);
                self.revoke_after_replay(&token.grant_id, "refresh token reused")
                    .await;
                return Err(Refusal::Checked(OAuthError::invalid_grant(
                    "refresh token was already used or revoked; the grant is revoked",
                )));
            }
            Err(GrantError::NotFound | GrantError::ConsentWithdrawn) => {
                return Err(Refusal::Checked(OAuthError::invalid_grant(INVALID_REFRESH)))
            }
            Err(other) => return Err(Refusal::Checked(other.into())),
        }

        let next = token
            .next()
            .seal(&self.keys.current())
            .map_err(Refusal::Checked)?;
        self.signer()
            .respond(&token.subject(), &scopes, Some(next), false, now)
            .map_err(Refusal::Checked)
    }
}

/// The `scope` of a refresh request: known scopes, at least one, all within `granted`.
fn narrowed_scopes(text: &str, granted: &Scopes) -> Result<Scopes, OAuthError> {
    let requested = Scopes::parse(text).map_err(|e| OAuthError::invalid_scope(e.to_string()))?;
    if requested.is_empty() {
        return Err(OAuthError::invalid_scope(
            "scope must name at least one granted scope (or be omitted)",
        ));
    }
    let extra = requested.difference(granted);
    if !extra.is_empty() {
        return Err(OAuthError::invalid_scope(format!(
            "scope exceeds the original grant: {extra} was not granted"
        )));
    }
    Ok(requested)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_support::keyset_of;
    use crate::keys::Role;
    use crate::oauth::OAuthErrorCode;

    fn token() -> RefreshToken {
        RefreshToken {
            grant_id: GrantId::generate(),
            generation: 3,
            client_id: ClientId::generate(),
            patient_id: PatientId::generate(),
            scope: Scopes::parse("openid offline_access profile_read").unwrap(),
            auth_time: 1,
            sid: Some("s".into()),
            amr: Amr::password_and_code(),
            claims: IdentityClaims::default(),
            expires_at: 2,
            id_token_alg: SigningAlg::ES256,
            approved_at_ms: Some(1_500),
        }
    }

    #[test]
    fn a_refresh_token_opens_only_as_a_refresh_token() {
        let keys = keyset_of(&[Role::Token]);
        let token = token();
        let sealed = token.seal(&keys).unwrap();
        assert_eq!(RefreshToken::open(&keys, &sealed).unwrap(), token);
        assert!(keys
            .sealer(crate::oauth::code::AuthorizationCode::PURPOSE)
            .open(&sealed)
            .is_err());
        // No other function holds the refresh token key: not even `authorize`, which seals codes.
        let authorize = keyset_of(&[Role::Authorize]);
        assert!(RefreshToken::open(&authorize, &sealed).is_err());
        assert!(token.seal(&authorize).is_err());
        assert!(!sealed.contains(token.patient_id.as_str()));
    }

    #[test]
    fn the_next_token_is_one_generation_on_with_the_same_scope_and_expiry() {
        let token = token();
        let next = token.next();
        assert_eq!(next.generation, 4);
        assert_eq!(next.scope, token.scope);
        assert_eq!(next.expires_at, token.expires_at);
        assert!(token.is_expired(2) && !token.is_expired(1));
    }

    #[test]
    fn a_refresh_may_narrow_but_never_widen_the_scope() {
        let granted = token().scope;
        assert_eq!(
            narrowed_scopes("profile_read", &granted)
                .unwrap()
                .to_string(),
            "profile_read"
        );
        for text in ["appointment_write", "profile_read admin", "   "] {
            assert_eq!(
                narrowed_scopes(text, &granted).unwrap_err().code,
                OAuthErrorCode::InvalidScope,
                "{text}"
            );
        }
    }
}
