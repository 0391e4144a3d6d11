//! Reading and forging compact JWS (RFC 7515) in tests: what a correct verifier must refuse is
//! easiest to build from a token it accepted.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// The claims of a compact JWS, NOT verified (for inspecting tokens something else verified, or
/// for building forgeries).
///
/// # Panics
/// When `token` is not a compact JWS with a JSON payload.
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a compact JWS");
    decode(payload, "payload")
}

/// The JOSE header of a compact JWS, NOT verified.
///
/// # Panics
/// When `token` is not a compact JWS with a JSON header.
pub fn jwt_header(token: &str) -> Value {
    let header = token.split('.').next().expect("a compact JWS");
    decode(header, "header")
}

/// `token` with its claims replaced by `claims` and the original signature kept: a forgery a
/// correct verifier must refuse.
///
/// # Panics
/// When `token` does not have three parts.
pub fn with_claims(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS");
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    )
}

/// An unsigned (`alg: none`) JWT with `header` fields merged into `{"alg":"none"}`.
pub fn unsigned_jwt(header: &Value, claims: &Value) -> String {
    let mut header = header.clone();
    header["alg"] = Value::from("none");
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn decode(part: &str, what: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("the {what} is not base64url: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("the {what} is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forgeries_keep_what_they_claim_to_keep() {
        let token = unsigned_jwt(&json!({ "typ": "at+jwt" }), &json!({ "sub": "a" }));
        assert_eq!(
            jwt_header(&token),
            json!({ "typ": "at+jwt", "alg": "none" })
        );
        assert!(token.ends_with('.'));
        let signed = format!("{}sig", token);
        let forged = with_claims(&signed, &json!({ "sub": "b" }));
        assert_eq!(jwt_claims(&forged), json!({ "sub": "b" }));
        assert!(forged.ends_with(".sig"));
    }
}
