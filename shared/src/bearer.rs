//! The one bearer-token check every resource endpoint uses (RFC 6750), with no storage read: the
//! access token is a JWT we signed (RFC 9068), so its signature, type, issuer, audience, expiry and
//! scopes are all checked in memory.
//!
//! Errors become responses in exactly one place, [`BearerError::into_response`], so every endpoint
//! answers with the same status codes and `WWW-Authenticate` challenges (RFC 6750 §3).

use http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};

use crate::domain::client::ClientId;
use crate::domain::patient::PatientId;
use crate::http::error::ErrorBody;
use crate::http::request::{self, Params};
use crate::http::response;
use crate::jwt::{self, Audience, JwtError};
use crate::keys::KeySet;

/// The `realm` of every challenge.
pub const REALM: &str = "MyPatientPortal";

/// The claims of an access token (RFC 9068 §2.2 plus `gid`, the grant family id).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer: this server.
    pub iss: String,
    /// Subject: the patient id.
    pub sub: String,
    /// Audience: the API's own audience (a string or an array).
    pub aud: Audience,
    /// The client the token was issued to.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Expiry (unix seconds).
    pub exp: i64,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Unique token id (for revocation lists).
    pub jti: String,
    /// Grant id: the authorization this token descends from (introspection checks it).
    pub gid: String,
    /// When the patient authenticated (unix seconds).
    pub auth_time: i64,
    /// Level of assurance of that sign-in (`urn:mypatientportal:loa:1` or `…:2`), so resource
    /// servers can demand two factors. Absent from tokens issued before second factors existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

impl AccessClaims {
    /// The granted scopes, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|s| s == scope)
    }

    /// The client the token was issued to. Every token this server issues names a valid one; any
    /// other value makes the token unusable here (401 `invalid_token`).
    pub fn client(&self) -> Result<ClientId, BearerError> {
        ClientId::parse(&self.client_id).map_err(|_| {
            BearerError::InvalidToken(JwtError::Malformed("the client id is not valid".into()))
        })
    }

    /// The patient the token was issued for. Every token this server issues names one; a `sub`
    /// that is not a patient id makes the token unusable here (401 `invalid_token`).
    pub fn patient_id(&self) -> Result<PatientId, BearerError> {
        PatientId::parse(&self.sub).map_err(|_| {
            BearerError::InvalidToken(JwtError::Malformed(
                "the subject is not a patient id".into(),
            ))
        })
    }
}

/// Why a request was not authorised, mapped to its response by [`BearerError::into_response`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BearerError {
    /// No bearer token at all (or only another authentication scheme): 401 with a bare challenge.
    #[error("no access token was presented")]
    Missing,
    /// The request is malformed (token sent twice, empty credentials, ...): 400 `invalid_request`.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The token is not valid here (forged, expired, wrong type/issuer/audience): 401
    /// `invalid_token`.
    #[error("invalid token: {0}")]
    InvalidToken(#[from] JwtError),
    /// The token is valid but lacks a required scope: 403 `insufficient_scope`.
    #[error("insufficient scope: requires {}", .required.join(" "))]
    InsufficientScope {
        /// Every scope the endpoint requires.
        required: Vec<String>,
    },
}

/// Authenticates the request's access token and checks it carries every scope in `required`:
/// [`presented_token`], then [`check`] against `keys`.
pub fn authenticate(
    request: &Request,
    keys: &KeySet,
    issuer: &str,
    audience: &str,
    required: &[&str],
    allow_form_body: bool,
) -> Result<AccessClaims, BearerError> {
    let token = presented_token(request, allow_form_body)?;
    check(keys, &token, issuer, audience, required)
}

/// The access token a request presents.
///
/// It comes from `Authorization: Bearer <token>` (scheme case-insensitive) or, only when
/// `allow_form_body` is set and the request is a non-GET `application/x-www-form-urlencoded` one,
/// from the body field `access_token` (RFC 6750 §2.2). Both at once is an `invalid_request`; tokens
/// in the query string (§2.3) are not accepted.
pub fn presented_token(request: &Request, allow_form_body: bool) -> Result<String, BearerError> {
    let from_header = header_token(request)?;
    let from_body = if allow_form_body {
        form_token(request)?
    } else {
        None
    };
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(BearerError::InvalidRequest(
            "the access token must be sent in exactly one way".into(),
        )),
        (Some(token), None) => Ok(token),
        (None, Some(token)) => Ok(token),
        (None, None) => Err(BearerError::Missing),
    }
}

/// Verifies an access token against `keys` (signature by a published token key, `typ`, issuer,
/// audience, expiry) and checks it carries every scope in `required`.
pub fn check(
    keys: &KeySet,
    token: &str,
    issuer: &str,
    audience: &str,
    required: &[&str],
) -> Result<AccessClaims, BearerError> {
    let claims = verify_token(keys, token, issuer, audience)?;
    require_scopes(&claims, required)?;
    Ok(claims)
}

/// The first half of [`check`]: the token verified, before its scopes are looked at (so a
/// refusal for scope can still name the token's patient, as the audit log does).
pub fn verify_token(
    keys: &KeySet,
    token: &str,
    issuer: &str,
    audience: &str,
) -> Result<AccessClaims, BearerError> {
    Ok(jwt::verify(
        keys,
        token,
        jwt::TYP_ACCESS_TOKEN,
        issuer,
        audience,
    )?)
}

/// The second half of [`check`]: every scope in `required` was granted (403
/// `insufficient_scope` otherwise).
pub fn require_scopes(claims: &AccessClaims, required: &[&str]) -> Result<(), BearerError> {
    if required.iter().any(|scope| !claims.has_scope(scope)) {
        return Err(BearerError::InsufficientScope {
            required: required.iter().map(|s| (*s).to_owned()).collect(),
        });
    }
    Ok(())
}

/// The credentials of an `Authorization: Bearer` header; other schemes count as no token.
fn header_token(request: &Request) -> Result<Option<String>, BearerError> {
    let mut values = request.headers().get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(BearerError::InvalidRequest(
            "more than one Authorization header".into(),
        ));
    }
    let value = value.to_str().map_err(|_| {
        BearerError::InvalidRequest("the Authorization header is not valid text".into())
    })?;
    let value = value.trim();
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let credentials = credentials.trim();
    if credentials.is_empty() {
        return Err(BearerError::InvalidRequest(
            "the Bearer credentials are empty".into(),
        ));
    }
    if credentials.contains(char::is_whitespace) {
        return Err(BearerError::InvalidRequest(
            "the Bearer credentials must be a single token".into(),
        ));
    }
    Ok(Some(credentials.to_owned()))
}

/// The `access_token` field of a form body (RFC 6750 §2.2: never on GET, single-part form only).
fn form_token(request: &Request) -> Result<Option<String>, BearerError> {
    if request.method() == Method::GET
        || request.method() == Method::HEAD
        || !request::content_type_is(request, "application/x-www-form-urlencoded")
    {
        return Ok(None);
    }
    let bytes = request::body(request)
        .map_err(|_| BearerError::InvalidRequest("the request body is too large".into()))?;
    let params = Params::parse(bytes);
    let token = params
        .get("access_token")
        .map_err(|_| BearerError::InvalidRequest("access_token is repeated".into()))?;
    Ok(token.map(str::to_owned))
}

impl BearerError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            BearerError::Missing | BearerError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            BearerError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            BearerError::InsufficientScope { .. } => StatusCode::FORBIDDEN,
        }
    }

    /// The response: status, `WWW-Authenticate` challenge (RFC 6750 §3) and a JSON
    /// `{"error","error_description"}` body.
    ///
    /// A request without any token gets a bare `Bearer realm="…"` challenge, as §3.1 says a server
    /// should not send error details to a client that did not try to authenticate; its JSON body
    /// still says `invalid_token` so clients reading bodies see a code.
    pub fn into_response(self) -> Response<Body> {
        let description = match &self {
            BearerError::Missing => {
                "an access token is required (Authorization: Bearer <token>)".to_owned()
            }
            BearerError::InvalidRequest(why) => why.clone(),
            BearerError::InvalidToken(why) => why.to_string(),
            BearerError::InsufficientScope { required } => {
                format!("this request requires the scopes: {}", required.join(" "))
            }
        };
        let code = match &self {
            BearerError::Missing | BearerError::InvalidToken(_) => "invalid_token",
            BearerError::InvalidRequest(_) => "invalid_request",
            BearerError::InsufficientScope { .. } => "insufficient_scope",
        };
        // RFC 6750 §3.1 would leave the error code out when no token was sent; CONTRACT.md asks for
        // `error="invalid_token"` on every 401, and clients key their re-authentication on it.
        let challenge = format!(
            "Bearer realm=\"{REALM}\", error=\"{code}\", error_description=\"{}\"",
            quotable(&description)
        );
        let mut challenge = challenge;
        if let BearerError::InsufficientScope { required } = &self {
            challenge.push_str(&format!(", scope=\"{}\"", quotable(&required.join(" "))));
        }
        let mut response = response::json(
            self.status(),
            &ErrorBody {
                error: code,
                error_description: &description,
            },
        );
        let value = HeaderValue::from_str(&challenge)
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"MyPatientPortal\""));
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
        response
    }
}

/// Keeps only characters RFC 6750 allows inside a quoted challenge value (%x20-21 / %x23-5B /
/// %x5D-7E): no quotes, backslashes or control characters.
fn quotable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::keys::test_support::keyset;

    const ISS: &str = "https://portal.example";
    const AUD: &str = "https://portal.example/api/portal/v1";
    const READ: &[&str] = &["profile_read", "appointment_read"];

    fn claims(scope: &str, exp_in: i64) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({ "iss": ISS, "sub": "patient-1", "aud": AUD, "client_id": "client-1",
                "scope": scope, "exp": now + exp_in, "iat": now, "jti": "jti-1",
                "gid": "grant-1", "auth_time": now - 60 })
    }

    fn token(keys: &KeySet, scope: &str) -> String {
        keys.sign_jwt("at+jwt", &claims(scope, 300)).unwrap()
    }

    fn get(authorization: Option<&str>) -> Request {
        let mut builder = http::Request::builder()
            .method("GET")
            .uri("/api/portal/v1/appointments");
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        builder.body(Body::Empty).unwrap()
    }

    fn post_form(authorization: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder()
            .method("POST")
            .uri("/oauth/userinfo")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        builder.body(Body::from(body.to_owned())).unwrap()
    }

    fn challenge(response: &Response<Body>) -> String {
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned()
    }

    fn body(response: &Response<Body>) -> Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn a_valid_token_with_every_required_scope_is_accepted() {
        let keys = keyset();
        let token = token(&keys, "openid profile_read appointment_read");
        let request = get(Some(&format!("Bearer {token}")));
        let claims = authenticate(&request, &keys, ISS, AUD, READ, false).unwrap();
        assert_eq!(claims.sub, "patient-1");
        assert_eq!(claims.gid, "grant-1");
        assert_eq!(claims.aud, Audience::one(AUD));
        assert!(claims.has_scope("openid") && !claims.has_scope("open"));
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        let keys = keyset();
        let token = token(&keys, "profile_read appointment_read");
        for scheme in ["bearer", "BEARER", "BeArEr"] {
            let request = get(Some(&format!("{scheme} {token}")));
            assert!(authenticate(&request, &keys, ISS, AUD, READ, false).is_ok());
        }
    }

    #[test]
    fn a_request_without_a_token_gets_an_invalid_token_challenge_as_the_contract_says() {
        let keys = keyset();
        for request in [get(None), get(Some("Basic Y2xpZW50OnNlY3JldA=="))] {
            let err = authenticate(&request, &keys, ISS, AUD, READ, false).unwrap_err();
            assert_eq!(err, BearerError::Missing);
            let response = err.into_response();
            assert_eq!(response.status(), 401);
            let challenge = challenge(&response);
            assert!(
                challenge.starts_with("Bearer realm=\"MyPatientPortal\", error=\"invalid_token\""),
                "{challenge}"
            );
            assert_eq!(body(&response)["error"], "invalid_token");
            assert_eq!(response.headers()["cache-control"], "no-store");
        }
    }

    #[test]
    fn a_forged_or_garbage_token_is_invalid_token() {
        let keys = keyset();
        let good = token(&keys, "profile_read appointment_read");
        let forged = format!("{}x", &good[..good.len() - 1]);
        for value in [format!("Bearer {forged}"), "Bearer abc.def.ghi".into()] {
            let err = authenticate(&get(Some(&value)), &keys, ISS, AUD, READ, false).unwrap_err();
            assert!(matches!(err, BearerError::InvalidToken(_)), "{err:?}");
            let response = err.into_response();
            assert_eq!(response.status(), 401);
            let header = challenge(&response);
            assert!(
                header.starts_with("Bearer realm=\"MyPatientPortal\", error=\"invalid_token\", error_description=\""),
                "{header}"
            );
            assert_eq!(body(&response)["error"], "invalid_token");
        }
    }

    #[test]
    fn an_expired_token_is_invalid_token_and_says_so() {
        let keys = keyset();
        let expired = keys
            .sign_jwt("at+jwt", &claims("profile_read appointment_read", -120))
            .unwrap();
        let err = authenticate(
            &get(Some(&format!("Bearer {expired}"))),
            &keys,
            ISS,
            AUD,
            READ,
            false,
        )
        .unwrap_err();
        assert_eq!(err, BearerError::InvalidToken(JwtError::Expired));
        let response = err.into_response();
        assert_eq!(response.status(), 401);
        assert!(challenge(&response).contains("error=\"invalid_token\""));
        assert!(body(&response)["error_description"]
            .as_str()
            .unwrap()
            .contains("expired"));
    }

    #[test]
    fn an_id_token_or_a_token_for_another_audience_is_refused() {
        let keys = keyset();
        let id_token = keys
            .sign_jwt("JWT", &claims("profile_read appointment_read", 300))
            .unwrap();
        let err = authenticate(
            &get(Some(&format!("Bearer {id_token}"))),
            &keys,
            ISS,
            AUD,
            READ,
            false,
        )
        .unwrap_err();
        assert_eq!(err, BearerError::InvalidToken(JwtError::WrongType));

        let mut other = claims("profile_read appointment_read", 300);
        other["aud"] = json!("client-1");
        let token = keys.sign_jwt("at+jwt", &other).unwrap();
        let err = authenticate(
            &get(Some(&format!("Bearer {token}"))),
            &keys,
            ISS,
            AUD,
            READ,
            false,
        )
        .unwrap_err();
        assert_eq!(err, BearerError::InvalidToken(JwtError::WrongAudience));
    }

    #[test]
    fn a_token_missing_a_scope_is_forbidden_and_the_challenge_lists_every_required_scope() {
        let keys = keyset();
        let token = token(&keys, "openid profile_read appointment_read");
        let required = ["profile_read", "appointment_write"];
        let err = authenticate(
            &get(Some(&format!("Bearer {token}"))),
            &keys,
            ISS,
            AUD,
            &required,
            false,
        )
        .unwrap_err();
        assert!(matches!(err, BearerError::InsufficientScope { .. }));
        let response = err.into_response();
        assert_eq!(response.status(), 403);
        let header = challenge(&response);
        assert!(header.contains("error=\"insufficient_scope\""), "{header}");
        assert!(
            header.ends_with("scope=\"profile_read appointment_write\""),
            "{header}"
        );
        assert_eq!(body(&response)["error"], "insufficient_scope");
    }

    #[test]
    fn malformed_authorization_headers_are_invalid_requests() {
        let keys = keyset();
        for value in ["Bearer", "Bearer   ", "Bearer a b"] {
            let err = authenticate(&get(Some(value)), &keys, ISS, AUD, READ, false).unwrap_err();
            assert!(matches!(err, BearerError::InvalidRequest(_)), "{value}");
            let response = err.into_response();
            assert_eq!(response.status(), 400);
            assert!(challenge(&response).contains("error=\"invalid_request\""));
            assert_eq!(body(&response)["error"], "invalid_request");
        }
        let token = token(&keys, "profile_read appointment_read");
        let twice = http::Request::builder()
            .header("authorization", format!("Bearer {token}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Body::Empty)
            .unwrap();
        assert!(matches!(
            authenticate(&twice, &keys, ISS, AUD, READ, false),
            Err(BearerError::InvalidRequest(_))
        ));
    }

    #[test]
    fn a_form_body_token_is_accepted_only_where_allowed() {
        let keys = keyset();
        let token = token(&keys, "openid");
        let request = post_form(None, &format!("access_token={token}"));
        assert!(authenticate(&request, &keys, ISS, AUD, &["openid"], true).is_ok());
        assert_eq!(
            authenticate(&request, &keys, ISS, AUD, &["openid"], false).unwrap_err(),
            BearerError::Missing
        );
        // Never from a GET, even with a form content type.
        let get_with_body = http::Request::builder()
            .method("GET")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("access_token={token}")))
            .unwrap();
        assert_eq!(
            authenticate(&get_with_body, &keys, ISS, AUD, &["openid"], true).unwrap_err(),
            BearerError::Missing
        );
    }

    #[test]
    fn a_token_in_both_the_header_and_the_body_is_an_invalid_request() {
        let keys = keyset();
        let token = token(&keys, "openid");
        let request = post_form(
            Some(&format!("Bearer {token}")),
            &format!("access_token={token}"),
        );
        let err = authenticate(&request, &keys, ISS, AUD, &["openid"], true).unwrap_err();
        assert!(matches!(err, BearerError::InvalidRequest(_)));
        assert_eq!(err.into_response().status(), 400);

        let repeated = post_form(None, &format!("access_token={token}&access_token={token}"));
        assert!(matches!(
            authenticate(&repeated, &keys, ISS, AUD, &["openid"], true),
            Err(BearerError::InvalidRequest(_))
        ));
    }

    #[test]
    fn challenge_values_never_carry_quotes_or_control_characters() {
        assert_eq!(quotable("a \"b\" \\c\n"), "a 'b' /c?");
        let response = BearerError::InvalidRequest("bad \"value\"".into()).into_response();
        assert_eq!(
            challenge(&response),
            "Bearer realm=\"MyPatientPortal\", error=\"invalid_request\", error_description=\"bad 'value'\""
        );
    }

    #[test]
    fn the_subject_is_the_patient_and_any_other_subject_is_an_invalid_token() {
        let keys = keyset();
        let request = get(Some(&format!("Bearer {}", token(&keys, "openid"))));
        let mut claims = authenticate(&request, &keys, ISS, AUD, &["openid"], false).unwrap();
        claims.sub = "patient1".into();
        assert_eq!(claims.patient_id().unwrap().as_str(), "patient1");
        claims.sub = "patient-1".into();
        let err = claims.patient_id().unwrap_err();
        assert!(matches!(err, BearerError::InvalidToken(_)));
        let response = err.into_response();
        assert_eq!(response.status(), 401);
        assert!(challenge(&response).contains("error=\"invalid_token\""));
    }
}
