//! The identity operations of function `userinfo`: discovery, JWKS, UserInfo, the portal profile
//! and this documentation. Description-only functions, like [`super::booking_paths`].
#![allow(dead_code)] // Description-only functions: utoipa reads their attributes, nothing calls them.

use super::forms::{Jwks, UserinfoForm, VideoJwks};
use super::responses::{BadRequest, Forbidden, NotFound, Unauthorized, Unavailable};
use crate::oidc::discovery::ProviderMetadata;
use crate::oidc::profile::Profile;
use crate::oidc::userinfo::UserInfo;

/// OpenID Provider metadata
///
/// OpenID Connect Discovery 1.0. Cacheable for five minutes.
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    operation_id = "openid_configuration",
    tag = "userinfo",
    responses(
        (status = 200, description = "The provider metadata", body = ProviderMetadata, headers(
            ("Cache-Control" = String, description = "`public, max-age=300`"),
        )),
    )
)]
fn openid_configuration() {}

/// Authorization server metadata
///
/// RFC 8414: the same metadata as the OpenID Connect discovery document.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    operation_id = "authorization_server_metadata",
    tag = "userinfo",
    responses(
        (status = 200, description = "The provider metadata", body = ProviderMetadata, headers(
            ("Cache-Control" = String, description = "`public, max-age=300`"),
        )),
    )
)]
fn authorization_server_metadata() {}

/// Signing keys
///
/// The JWKS that verifies access tokens and id_tokens. Cacheable for five minutes.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    operation_id = "jwks",
    tag = "userinfo",
    responses(
        (status = 200, description = "The public keys", body = Jwks, headers(
            ("Cache-Control" = String, description = "`public, max-age=300`"),
        )),
    )
)]
fn jwks() {}

/// Video join-link keys
///
/// The JWKS that verifies the tokens in video consultation join links (ES256, `typ: video+jwt`),
/// for the video service. Separate from the token JWKS: a join-link key verifies nothing else.
/// Cacheable for five minutes.
#[utoipa::path(
    get,
    path = "/.well-known/video-jwks.json",
    operation_id = "video_jwks",
    tag = "userinfo",
    responses(
        (status = 200, description = "The public keys", body = VideoJwks, headers(
            ("Cache-Control" = String, description = "`public, max-age=300`"),
        )),
    )
)]
fn video_jwks() {}

/// UserInfo
///
/// OIDC Core §5.3: `sub` and the claims the token's scopes release (`profile`: name, given and
/// family name, birth date; `email`: email and whether it is verified; `phone`: phone number).
#[utoipa::path(
    get,
    path = "/oauth/userinfo",
    operation_id = "userinfo_get",
    tag = "userinfo",
    security(("oauth2" = ["openid"]), ("bearer" = ["openid"])),
    responses(
        (status = 200, description = "The claims", body = UserInfo),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
fn userinfo_get() {}

/// UserInfo (form post)
///
/// The same as `GET /oauth/userinfo`; the access token may also come as the form field
/// `access_token` (RFC 6750 §2.2), but not in both places.
#[utoipa::path(
    post,
    path = "/oauth/userinfo",
    operation_id = "userinfo_post",
    tag = "userinfo",
    request_body(content = UserinfoForm, content_type = "application/x-www-form-urlencoded"),
    security(("oauth2" = ["openid"]), ("bearer" = ["openid"])),
    responses(
        (status = 200, description = "The claims", body = UserInfo),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
fn userinfo_post() {}

/// The patient's profile
#[utoipa::path(
    get,
    path = "/api/portal/v1/profile",
    operation_id = "get_profile",
    tag = "userinfo",
    security(("oauth2" = ["profile_read"]), ("bearer" = ["profile_read"])),
    responses(
        (status = 200, description = "The profile", body = Profile),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 503, response = Unavailable),
    )
)]
fn get_profile() {}

/// API documentation
///
/// This document, browsable (Swagger UI, served from this function: it works offline). The page
/// loads its scripts and styles from this same path with `?file=`.
#[utoipa::path(
    get,
    path = "/api-docs",
    operation_id = "api_docs",
    tag = "userinfo",
    params(
        ("file" = Option<String>, Query, description = "One of the page's files (`swagger-ui-bundle.js`, `swagger-ui.css`, ...), served gzip-encoded to clients that accept it"),
    ),
    responses(
        (status = 200, description = "The documentation page, or the file asked for", content(
            ("text/html"),
            ("text/javascript"),
            ("text/css"),
            ("image/png"),
        )),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    )
)]
fn api_docs() {}

/// OpenAPI document
///
/// This OpenAPI 3.1 document, generated from the code's own types.
#[utoipa::path(
    get,
    path = "/api-docs/openapi.json",
    operation_id = "openapi_document",
    tag = "userinfo",
    responses(
        (status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object, headers(
            ("Cache-Control" = String, description = "`public, max-age=300`"),
        )),
    )
)]
fn openapi_document() {}
