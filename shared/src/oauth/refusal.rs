//! How the grant flows of the token endpoint report a refusal: whether the client was already
//! authenticated on the way, so the endpoint knows whether it must authenticate the client before
//! telling why (client authentication comes first, see [`super::token`]).

use super::OAuthError;

/// Why a token request was refused, and whether the client was authenticated on the way.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Refused before the transaction that authenticates the client (the code or token does not
    /// open, belongs to another client, a parameter is missing, ...): the client must still
    /// authenticate before it hears why.
    Unchecked(OAuthError),
    /// Refused by the transaction or after it (client authentication failed, the code was redeemed
    /// before, the store is unavailable): the answer as it is.
    Checked(OAuthError),
}

impl From<OAuthError> for Refusal {
    fn from(error: OAuthError) -> Self {
        Refusal::Unchecked(error)
    }
}
