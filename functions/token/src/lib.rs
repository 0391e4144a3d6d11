//! The `token` function: token (RFC 6749 §3.2), revocation (RFC 7009) and introspection
//! (RFC 7662) endpoints.
//!
//! `main.rs` builds an [`App`] once per cold start; every request goes through [`App::handle`].
//! This crate only speaks HTTP: it reads the form and the `Authorization` header, calls
//! [`shared::oauth::service::TokenService`], and turns the result into a response. Every OAuth error
//! goes out through [`OAuthError::into_token_response`] (RFC 6749 §5.2 JSON, 401 with
//! `WWW-Authenticate` for `invalid_client`, 503 when the store is unavailable), and every response
//! carries `Cache-Control: no-store` and `Pragma: no-cache`.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::boot::{Context, Handler};
use shared::config::Config;
use shared::cors;
use shared::http::request::{self, Params};
use shared::http::{response, ApiError, PathParams, Router};
use shared::oauth::client_auth::ClientCredentials;
use shared::oauth::revoke::TokenTypeHint;
use shared::oauth::service::TokenService;
use shared::oauth::OAuthError;

/// The routes this function serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /oauth/token`
    Token,
    /// `POST /oauth/revoke`
    Revoke,
    /// `POST /oauth/introspect`
    Introspect,
}

/// Method + path of every route of this function, as API Gateway and `cargo lambda watch` route them.
pub fn router() -> Router<Route> {
    Router::new(vec![
        (Method::POST, "/oauth/token", Route::Token),
        (Method::POST, "/oauth/revoke", Route::Revoke),
        (Method::POST, "/oauth/introspect", Route::Introspect),
    ])
}

/// The function's state, built once per instance.
pub struct App {
    service: TokenService,
    config: Arc<Config>,
    router: Router<Route>,
    context: Context,
}

impl App {
    /// Builds the function around the shared init state.
    pub fn new(context: Context) -> Self {
        Self {
            service: TokenService::new(&context),
            config: context.config.clone(),
            router: router(),
            context,
        }
    }

    async fn dispatch(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let (route, _params): (Route, PathParams) = self
            .router
            .resolve(request.method(), request.uri().path())?;
        let result = match route {
            Route::Token => self.token(request).await,
            Route::Revoke => self.revoke(request).await,
            Route::Introspect => self.introspect(request).await,
        };
        Ok(with_pragma(result.unwrap_or_else(oauth_error_response)))
    }

    /// `POST /oauth/token`: the `authorization_code` and `refresh_token` grants.
    async fn token(&self, request: &Request) -> Result<Response<Body>, OAuthFailure> {
        let (params, credentials) = read(request)?;
        let tokens = self.service.token(credentials, &params).await?;
        Ok(response::json(StatusCode::OK, &tokens))
    }

    /// `POST /oauth/revoke`: 200 with an empty body whether or not there was something to revoke.
    async fn revoke(&self, request: &Request) -> Result<Response<Body>, OAuthFailure> {
        let (params, credentials) = read(request)?;
        let token = required(&params, "token")?;
        let hint = TokenTypeHint::parse(optional(&params, "token_type_hint")?);
        self.service.revoke(&credentials, token, hint).await?;
        Ok(response::empty(StatusCode::OK))
    }

    /// `POST /oauth/introspect`: `{"active": ...}` for the authenticated client's own tokens.
    async fn introspect(&self, request: &Request) -> Result<Response<Body>, OAuthFailure> {
        let (params, credentials) = read(request)?;
        let token = required(&params, "token")?;
        let hint = TokenTypeHint::parse(optional(&params, "token_type_hint")?);
        let answer = self.service.introspect(&credentials, token, hint).await?;
        Ok(response::json(StatusCode::OK, &answer))
    }
}

/// An OAuth error, and the status to answer it with when it is not the code's usual one (a body
/// over the size limit is `invalid_request` with 413).
#[derive(Debug)]
struct OAuthFailure {
    error: OAuthError,
    status: Option<StatusCode>,
}

impl From<OAuthError> for OAuthFailure {
    fn from(error: OAuthError) -> Self {
        Self {
            error,
            status: None,
        }
    }
}

fn oauth_error_response(failure: OAuthFailure) -> Response<Body> {
    let mut response = failure.error.into_token_response();
    if let Some(status) = failure.status {
        *response.status_mut() = status;
    }
    response
}

/// RFC 6749 §5.1 asks for `Pragma: no-cache` next to `Cache-Control: no-store` on token responses;
/// every answer of this function carries both (router 404/405 answers included).
fn with_pragma(mut response: Response<Body>) -> Response<Body> {
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// The form body and the client's credentials of an endpoint request.
fn read(request: &Request) -> Result<(Params, ClientCredentials), OAuthFailure> {
    let params = form(request)?;
    let authorization = authorization(request)?;
    let credentials = ClientCredentials::extract(authorization, &params)?;
    Ok((params, credentials))
}

/// The form body: `application/x-www-form-urlencoded` is required (RFC 6749 §3.2, RFC 7009 §2.1,
/// RFC 7662 §2.1); anything else is `invalid_request`, and a body over the limit is refused with
/// 413 before it is parsed.
fn form(request: &Request) -> Result<Params, OAuthFailure> {
    match request::form(request) {
        Ok(params) => Ok(params),
        Err(ApiError::PayloadTooLarge { limit }) => Err(OAuthFailure {
            error: OAuthError::invalid_request(format!(
                "the request body is larger than {limit} bytes"
            )),
            status: Some(StatusCode::PAYLOAD_TOO_LARGE),
        }),
        Err(ApiError::UnsupportedMediaType { .. }) => Err(OAuthError::invalid_request(
            "the request body must be application/x-www-form-urlencoded",
        )
        .into()),
        Err(_) => Err(OAuthError::invalid_request("the request body cannot be read").into()),
    }
}

/// The single `Authorization` header, if any; several are an `invalid_request`, and a value that
/// is not visible ASCII is an `invalid_client` (it cannot hold valid credentials).
fn authorization(request: &Request) -> Result<Option<&str>, OAuthError> {
    let mut values = request.headers().get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(OAuthError::invalid_request(
            "more than one Authorization header",
        ));
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| OAuthError::invalid_client("the Authorization header is not valid text"))
}

fn optional<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, OAuthError> {
    params
        .get(name)
        .map_err(|_| OAuthError::invalid_request(format!("parameter `{name}` is repeated")))
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, OAuthError> {
    optional(params, name)?
        .ok_or_else(|| OAuthError::invalid_request(format!("parameter `{name}` is required")))
}

#[async_trait]
impl Handler for App {
    fn route(&self, request: &Request) -> Option<String> {
        self.router
            .route_name(request.method(), request.uri().path())
    }

    /// Browser apps (public clients) call `/oauth/token` and `/oauth/revoke` cross-origin: their
    /// preflights are answered here and every response, errors included, carries the CORS headers
    /// for allowed origins ([`cors`]; `/oauth/introspect` is server-to-server and gets none).
    async fn handle(&self, request: Request) -> Response<Body> {
        let methods = cors::methods_for(&self.router, request.uri().path());
        if let Some(answer) = cors::preflight(&request, &self.config, &methods) {
            return with_pragma(answer);
        }
        let response = self
            .dispatch(&request)
            .await
            .unwrap_or_else(|error| with_pragma(error.into_response()));
        cors::decorate(&request, &self.config, response)
    }

    fn context(&self) -> &Context {
        &self.context
    }
}
