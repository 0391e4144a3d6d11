//! Reading the parameters of OAuth requests: a parameter sent more than once is an
//! `invalid_request` (RFC 6749 §3.1 for the authorization endpoint, §3.2 for the token endpoint),
//! and an empty one counts as absent.

use super::OAuthError;
use crate::http::request::Params;

/// One parameter; a repeated one is an `invalid_request`.
pub(crate) fn param<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, OAuthError> {
    params
        .get(name)
        .map_err(|_| OAuthError::invalid_request(format!("parameter `{name}` is repeated")))
}

/// A required parameter (`invalid_request` when missing or repeated).
pub(crate) fn require<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    param(params, name)?
        .ok_or_else(|| OAuthError::invalid_request(format!("parameter `{name}` is required")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::OAuthErrorCode;

    #[test]
    fn repeated_parameters_are_refused_and_empty_ones_are_absent() {
        let params = Params::parse(b"a=1&b=&c=2&c=3");
        assert_eq!(param(&params, "a").unwrap(), Some("1"));
        assert_eq!(param(&params, "b").unwrap(), None);
        assert_eq!(param(&params, "missing").unwrap(), None);
        let repeated = param(&params, "c").unwrap_err();
        assert_eq!(repeated.code, OAuthErrorCode::InvalidRequest);
        assert!(repeated.description.contains("`c` is repeated"));
        assert_eq!(require(&params, "a").unwrap(), "1");
        let missing = require(&params, "b").unwrap_err();
        assert_eq!(missing.code, OAuthErrorCode::InvalidRequest);
        assert!(missing.description.contains("`b` is required"));
    }
}
