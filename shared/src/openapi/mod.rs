//! The OpenAPI 3.1 document of every contract route, generated from the code: the response and
//! request schemas are the very types the functions serialise and parse
//! ([`crate::booking::views`], [`crate::oidc`], [`crate::oauth`], [`crate::http::error`]), and the
//! operations are described next to them with `#[utoipa::path]`:
//! - [`booking_paths`]-like modules, one per function: `authorize` and `token` (`oauth_paths`),
//!   `userinfo` (`oidc_paths`), `booking` and `asap`;
//! - [`params`] and [`forms`]: query parameters and form bodies;
//! - [`responses`]: the error answers, shared by the operations;
//! - [`docs_client`]: the public client the browsable documentation signs in with ("Authorize");
//! - [`security`]: the OAuth 2.0 scheme (authorization code, with every scope) and HTTP Basic
//!   client authentication.
//!
//! The `userinfo` function serves [`document`] at `/api-docs/openapi.json` and a browsable copy at
//! `/api-docs`; `tests/tests/openapi_parity.rs` checks the document's routes and scopes against
//! the functions' routers and the contract, and an end-to-end test runs schemathesis against it.

mod account_paths;
mod asap_paths;
mod booking_paths;
mod console_paths;
pub mod docs_client;
pub mod forms;
mod mfa_paths;
mod oauth_paths;
mod oidc_paths;
pub mod params;
mod passkey_paths;
pub mod responses;
pub mod security;

use utoipa::openapi::server::Server;
use utoipa::openapi::{Components, OpenApi as Document, RefOr, Required};
use utoipa::{Modify, OpenApi};

use crate::booking::views::{AsapListState, NamedRef};
use crate::config::Config;
use crate::http::error::ErrorBody;
use crate::oauth::error::TokenErrorBody;

/// Path of the OpenAPI document.
pub const DOCUMENT_PATH: &str = "/api-docs/openapi.json";

/// Path of the browsable documentation.
pub const UI_PATH: &str = "/api-docs";

/// POST operations whose body may be left out: `/oauth/userinfo` takes the token from the
/// `Authorization` header as well, and joining the ASAP list needs no address.
const OPTIONAL_POST_BODIES: [&str; 2] = [
    "/oauth/userinfo",
    "/api/portal/v1/appointments/{id}/asap_list",
];

/// Marks the bodies of [`OPTIONAL_POST_BODIES`] optional (`#[utoipa::path]` makes every body of a
/// non-`Option` type required, and an `Option` one would admit a JSON `null`).
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, doc: &mut Document) {
        for path in OPTIONAL_POST_BODIES {
            let body = doc
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
                .and_then(|operation| operation.request_body.as_mut());
            if let Some(RefOr::T(body)) = body {
                body.required = Some(Required::False);
            }
        }
    }
}

/// What the document says about the API as a whole (its `info.description`).
const OVERVIEW: &str = "\
The MyPatientPortal OAuth 2.0 / OpenID Connect server and patient booking API.

* **Authorization:** resource routes take `Authorization: Bearer <access_token>` (RS256 JWT, RFC \
9068) and require every scope listed on the operation. A missing, invalid or expired token is \
`401` with `WWW-Authenticate: Bearer error=\"invalid_token\"`; a token without a required scope \
is `403` with `WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"…\"`.
* **Errors:** JSON `{\"error\", \"error_description\"}` (at the token endpoints, RFC 6749 §5.2). \
An unknown path is `404`; a method a path does not serve is `405` with `Allow`; a body over 64 KiB \
is `413`; a storage outage is `503` with `Retry-After`.
* **CORS:** `/oauth/token`, `/oauth/revoke`, `/oauth/userinfo`, `/.well-known/*`, \
`/api/portal/v1/*` and this document answer preflights and carry CORS headers for the configured origins; the \
authorization pages never do.
* **Another patient's appointment** answers exactly like an unknown one: `404`.";

/// The operations and schemas the derive collects; [`document`] adds what depends on the
/// deployment (server, OAuth URLs).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "MyPatientPortal API",
        description = OVERVIEW,
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        oauth_paths::authorize_get,
        oauth_paths::authorize_post,
        oauth_paths::login_page,
        oauth_paths::login_submit,
        oauth_paths::consent_page,
        oauth_paths::consent_submit,
        oauth_paths::logout_get,
        oauth_paths::logout_post,
        mfa_paths::code_page,
        mfa_paths::code_submit,
        mfa_paths::totp_page,
        mfa_paths::totp_submit,
        passkey_paths::passkey_sign_in_page,
        passkey_paths::passkey_sign_in,
        passkey_paths::passkey_script,
        passkey_paths::passkeys_page,
        passkey_paths::passkeys_submit,
        console_paths::account_page,
        console_paths::account_profile,
        console_paths::account_password,
        console_paths::account_language,
        console_paths::account_revoke_app,
        console_paths::account_sign_out_everywhere,
        console_paths::account_delete,
        console_paths::account_email,
        console_paths::account_email_confirm_page,
        console_paths::account_email_confirm,
        account_paths::register_page,
        account_paths::register_submit,
        account_paths::verify_page,
        account_paths::verify_submit,
        account_paths::resend_page,
        account_paths::resend_submit,
        account_paths::forgot_page,
        account_paths::forgot_submit,
        account_paths::reset_page,
        account_paths::reset_submit,
        oauth_paths::token,
        oauth_paths::revoke,
        oauth_paths::introspect,
        oidc_paths::openid_configuration,
        oidc_paths::authorization_server_metadata,
        oidc_paths::jwks,
        oidc_paths::video_jwks,
        oidc_paths::userinfo_get,
        oidc_paths::userinfo_post,
        oidc_paths::get_profile,
        oidc_paths::api_docs,
        oidc_paths::openapi_document,
        booking_paths::list_insurances,
        booking_paths::list_appointment_categories,
        booking_paths::list_appointment_types,
        booking_paths::search_availabilities,
        booking_paths::book_appointment,
        booking_paths::list_appointments,
        booking_paths::get_appointment,
        booking_paths::reschedule_appointment,
        booking_paths::cancel_appointment,
        booking_paths::list_appointment_availabilities,
        booking_paths::get_video_consultation,
        asap_paths::join_asap_list,
        asap_paths::leave_asap_list,
        asap_paths::get_earlier_availability,
    ),
    modifiers(&OptionalBodies),
    components(
        schemas(ErrorBody, TokenErrorBody, NamedRef, AsapListState),
        responses(
            responses::BadRequest,
            responses::Unauthorized,
            responses::Forbidden,
            responses::NotFound,
            responses::Conflict,
            responses::PreconditionFailed,
            responses::PayloadTooLarge,
            responses::UnsupportedMediaType,
            responses::Unprocessable,
            responses::Unavailable,
            responses::OAuthBadRequest,
            responses::OAuthUnauthorized,
            responses::OAuthPayloadTooLarge,
            responses::OAuthUnavailable,
        ),
    ),
    tags(
        (name = "authorize", description = "Authorization endpoint, login, consent and logout pages (HTML, for browsers)"),
        (name = "token", description = "Token, revocation and introspection endpoints (RFC 6749, 7009, 7662)"),
        (name = "userinfo", description = "OpenID Connect discovery, keys, UserInfo, the patient profile and this documentation"),
        (name = "booking", description = "Catalog, availabilities, booking, rescheduling, cancellation and video consultations"),
        (name = "asap", description = "The ASAP list: an email when an earlier slot frees up"),
    ),
)]
struct ApiDoc;

/// The OpenAPI document for the server at the configured issuer: its only server is the issuer,
/// and the OAuth 2.0 scheme's URLs are the issuer's authorization and token endpoints.
pub fn document(config: &Config) -> Document {
    let issuer = config.issuer_str();
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.servers = Some(vec![Server::new(issuer)]);
    let components = doc.components.get_or_insert_with(Components::new);
    components
        .security_schemes
        .insert(security::OAUTH2.to_owned(), security::oauth2(issuer).into());
    components
        .security_schemes
        .insert(security::BEARER.to_owned(), security::bearer().into());
    components.security_schemes.insert(
        security::CLIENT_BASIC.to_owned(),
        security::client_basic().into(),
    );
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_lookup(|name| {
            (name == "PORTAL_ISSUER").then(|| "https://id.example".to_owned())
        })
        .unwrap()
    }

    #[test]
    fn the_document_is_openapi_3_1_for_the_issuer() {
        let json = serde_json::to_value(document(&config())).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1."));
        assert_eq!(json["servers"][0]["url"], "https://id.example");
        let flow = &json["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"];
        assert_eq!(
            flow["authorizationUrl"],
            "https://id.example/oauth/authorize"
        );
        assert_eq!(flow["tokenUrl"], "https://id.example/oauth/token");
        assert_eq!(flow["scopes"].as_object().unwrap().len(), 8);
    }

    #[test]
    fn bodies_the_functions_do_without_are_optional() {
        let json = serde_json::to_value(document(&config())).unwrap();
        for path in OPTIONAL_POST_BODIES {
            let body = &json["paths"][path]["post"]["requestBody"];
            assert!(body.is_object(), "{path}");
            assert_ne!(body["required"], true, "{path}");
        }
        let booking = &json["paths"]["/api/portal/v1/booking"]["post"]["requestBody"];
        assert_eq!(booking["required"], true);
    }

    #[test]
    fn the_jwks_schemas_describe_the_served_key_sets() {
        let keys = crate::keys::test_support::keyset_of(&[crate::keys::Role::Userinfo]);
        let parsed: forms::Jwks = serde_json::from_value(keys.jwks()).unwrap();
        assert!(!parsed.keys.is_empty());
        let video: forms::VideoJwks = serde_json::from_value(keys.video_jwks().unwrap()).unwrap();
        assert!(!video.keys.is_empty());
    }
}
