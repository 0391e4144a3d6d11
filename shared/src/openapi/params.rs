//! Query parameters of the documented routes, as [`IntoParams`] types.
//!
//! The functions read these parameters themselves (with [`crate::http::request::Params`], which
//! refuses repeated parameters); these types only describe them. Unknown parameters are ignored.

use utoipa::IntoParams;

/// `GET /appointment_categories`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoriesQuery {
    /// Only the categories this insurance may book (404 when it does not exist).
    #[param(minimum = 1, example = 136)]
    pub insurance_id: Option<i64>,
}

/// `GET /appointment_types`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TypesQuery {
    /// Only the types of this category.
    #[param(minimum = 1, example = 53)]
    pub category_id: Option<i64>,
    /// Only the types this insurance may book.
    #[param(minimum = 1, example = 136)]
    pub insurance_id: Option<i64>,
}

/// The window and page of an availability search.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowQuery {
    /// First instant: an ISO 8601 date (`2026-12-01`, the institution's local midnight) or
    /// date-time (`2026-12-01T09:00:00+01:00`; without an offset, local time). Default: now.
    #[param(example = "2026-12-01")]
    pub from: Option<String>,
    /// Last instant (a date includes that whole day). Default: 14 days after `from`; at most 31
    /// days after it.
    #[param(example = "2026-12-14")]
    pub to: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The ids of an availability search (`GET /availabilities`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchIdsQuery {
    /// The appointment category.
    #[param(minimum = 1, example = 53)]
    pub category_id: i64,
    /// The appointment type (of that category).
    #[param(minimum = 1, example = 198)]
    pub type_id: i64,
    /// The patient's insurance (it must be allowed to book the category and the type).
    #[param(minimum = 1, example = 136)]
    pub insurance_id: i64,
}

/// `GET /appointments`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// An appointment in the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppointmentId {
    /// The appointment id.
    #[param(example = "x7Ghq2LmP0aZrT5vWc9sD1kYbN3e")]
    pub id: String,
}

/// `GET /oauth/authorize` (and the same fields as the form of `POST /oauth/authorize`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// Always `code`.
    #[param(example = "code")]
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// One of the client's registered redirect URIs, exactly.
    pub redirect_uri: Option<String>,
    /// Space-separated scopes.
    #[param(example = "openid profile_read appointment_read")]
    pub scope: Option<String>,
    /// Opaque value returned with the response.
    pub state: Option<String>,
    /// PKCE challenge (RFC 7636): base64url SHA-256 of the verifier.
    pub code_challenge: Option<String>,
    /// Only `S256`.
    #[param(example = "S256")]
    pub code_challenge_method: Option<String>,
    /// OIDC: echoed in the id_token.
    pub nonce: Option<String>,
    /// OIDC: `none`, `login` or `consent`.
    pub prompt: Option<String>,
    /// OIDC: the longest time since sign-in (seconds) the client accepts; an older sign-in is
    /// asked for again, both factors.
    pub max_age: Option<u64>,
    /// OIDC: the level of assurance asked for, space-separated (`urn:mypatientportal:loa:1`,
    /// `urn:mypatientportal:loa:2`); `loa:2` needs a second factor (set up on the way if the
    /// patient has none; `prompt=none` then fails with `interaction_required`).
    #[param(example = "urn:mypatientportal:loa:2")]
    pub acr_values: Option<String>,
    /// OIDC: the email to pre-fill on the login page.
    pub login_hint: Option<String>,
    /// OIDC: the languages the patient prefers, space-separated BCP 47 tags; the first one
    /// supported (`ui_locales_supported`, `de-AT` counts as `de`) is the language of the pages.
    #[param(example = "de en")]
    pub ui_locales: Option<String>,
    /// The language switch of this server's own error pages (`en`, `de`), which repeat the request
    /// with it: outranks `ui_locales`.
    pub lang: Option<String>,
}

/// `GET /oauth/login` and `GET /oauth/consent`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SealedRequestQuery {
    /// The sealed authorization request the authorization endpoint redirected with.
    pub request: String,
}

/// `GET /oauth/logout` (OIDC RP-Initiated Logout 1.0).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutQuery {
    /// An id_token this server issued to the client.
    pub id_token_hint: Option<String>,
    /// Where to send the browser afterwards: a post-logout URI registered by the client.
    pub post_logout_redirect_uri: Option<String>,
    /// The client, when no `id_token_hint` names it.
    pub client_id: Option<String>,
    /// Returned to `post_logout_redirect_uri`.
    pub state: Option<String>,
    /// The languages of the signed-out page, space-separated BCP 47 tags.
    pub ui_locales: Option<String>,
    /// The language switch of the signed-out page (`en`, `de`).
    pub lang: Option<String>,
}
