//! The `userinfo` function: OIDC discovery, the JWKS (and the video join-link JWKS), userinfo, the
//! patient's profile and the API documentation. Its keys are public ones only.
//!
//! `main.rs` builds an [`App`] once per cold start; every request goes through [`App::handle`].
//! The API documentation is [`shared::openapi::document`] (built on its first request, then kept)
//! and its browsable form [`api_docs`].

pub mod api_docs;

use std::sync::OnceLock;

use async_trait::async_trait;
use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::bearer;
use shared::boot::{Context, Handler};
use shared::cors;
use shared::http::error::ErrorBody;
use shared::http::request;
use shared::http::{response, ApiError, PathParams, Router};
use shared::oidc::discovery::{self, ProviderMetadata};
use shared::oidc::{profile, userinfo, SubjectError};
use shared::openapi::docs_client;
use shared::repo::{PatientRepo, RepoError};

/// The routes this function serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /.well-known/openid-configuration`
    OpenidConfiguration,
    /// `GET /.well-known/oauth-authorization-server`
    AuthorizationServerMetadata,
    /// `GET /.well-known/jwks.json`
    Jwks,
    /// `GET /.well-known/video-jwks.json`
    VideoJwks,
    /// `GET /oauth/userinfo, POST /oauth/userinfo`
    Userinfo,
    /// `GET /api/portal/v1/profile`
    Profile,
    /// `GET /api-docs` (and its files, `?file=`)
    ApiDocs,
    /// `GET /api-docs/openapi.json`
    OpenApi,
}

/// Method + path of every route of this function, as API Gateway and `cargo lambda watch` route them.
pub fn router() -> Router<Route> {
    Router::new(vec![
        (
            Method::GET,
            "/.well-known/openid-configuration",
            Route::OpenidConfiguration,
        ),
        (
            Method::GET,
            "/.well-known/oauth-authorization-server",
            Route::AuthorizationServerMetadata,
        ),
        (Method::GET, "/.well-known/jwks.json", Route::Jwks),
        (
            Method::GET,
            "/.well-known/video-jwks.json",
            Route::VideoJwks,
        ),
        (Method::GET, "/oauth/userinfo", Route::Userinfo),
        (Method::POST, "/oauth/userinfo", Route::Userinfo),
        (Method::GET, "/api/portal/v1/profile", Route::Profile),
        (Method::GET, "/api-docs", Route::ApiDocs),
        (Method::GET, "/api-docs/openapi.json", Route::OpenApi),
    ])
}

/// The routes outside the contract: `GET /api-docs/oauth2-redirect`, Swagger UI's sign-in
/// redirect page (see [`api_docs`]).
pub fn docs_router() -> Router<()> {
    Router::new(vec![(Method::GET, docs_client::REDIRECT_PATH, ())])
}

/// The function's state, built once per instance.
pub struct App {
    context: Context,
    router: Router<Route>,
    patients: PatientRepo,
    /// The provider metadata, built once from the configuration (it never changes while the
    /// instance lives).
    metadata: serde_json::Value,
    /// The OpenAPI document, built on first use (most instances never serve it).
    openapi: OnceLock<api_docs::Document>,
    /// The browsable documentation.
    docs: api_docs::ApiDocs,
    /// Its sign-in redirect page's route.
    docs_router: Router<()>,
}

impl App {
    /// Builds the function around the shared init state.
    pub fn new(context: Context) -> Self {
        Self {
            metadata: ProviderMetadata::from_config(&context.config).to_json(),
            openapi: OnceLock::new(),
            docs: api_docs::ApiDocs::new(&context.config.issuer),
            patients: PatientRepo::new(context.store.clone()),
            router: router(),
            docs_router: docs_router(),
            context,
        }
    }

    async fn dispatch(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let (route, _params): (Route, PathParams) = self
            .router
            .resolve(request.method(), request.uri().path())?;
        match route {
            Route::OpenidConfiguration | Route::AuthorizationServerMetadata => Ok(
                response::public_json(&self.metadata, discovery::CACHE_MAX_AGE_SECS),
            ),
            // The keys of the current key document: after a rotation, the key published for the
            // next one appears here within the keys' maximum age.
            Route::Jwks => Ok(response::public_json(
                &self.context.keys.current().jwks(),
                discovery::CACHE_MAX_AGE_SECS,
            )),
            Route::VideoJwks => {
                let keys = self.context.keys.current().video_jwks().ok_or_else(|| {
                    ApiError::Internal("the key document has no video keys".into())
                })?;
                Ok(response::public_json(&keys, discovery::CACHE_MAX_AGE_SECS))
            }
            Route::Userinfo => self.userinfo(request).await,
            Route::Profile => self.profile(request).await,
            Route::ApiDocs => self.docs.respond(request, &request::query(request)),
            Route::OpenApi => Ok(self
                .openapi_document()?
                .respond(request, discovery::CACHE_MAX_AGE_SECS)),
        }
    }

    /// The OpenAPI document of this deployment (its issuer).
    fn openapi_document(&self) -> Result<&api_docs::Document, ApiError> {
        if let Some(document) = self.openapi.get() {
            return Ok(document);
        }
        let document = api_docs::Document::new(&self.context.config)?;
        Ok(self.openapi.get_or_init(|| document))
    }

    /// `GET|POST /oauth/userinfo`: the token may come in the `Authorization` header or, on POST, as
    /// the form field `access_token` (RFC 6750 §2.2); never in the query.
    async fn userinfo(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let token = match self
            .context
            .authenticate_patient(request, &[userinfo::REQUIRED_SCOPE], true)
            .await
        {
            Ok((token, _)) => token,
            Err(error) => return Ok(error.into_response()),
        };
        match userinfo::userinfo(&self.patients, &token).await {
            Ok(info) => Ok(response::json(StatusCode::OK, &info)),
            Err(error) => subject_error(error),
        }
    }

    /// `GET /api/portal/v1/profile`: the resource owner's own profile.
    async fn profile(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let token = match self
            .context
            .authenticate_patient(request, &profile::REQUIRED_SCOPES, false)
            .await
        {
            Ok((token, _)) => token,
            Err(error) => return Ok(error.into_response()),
        };
        match profile::profile(&self.patients, &token).await {
            Ok(profile) => Ok(response::json(StatusCode::OK, &profile)),
            Err(error) => subject_error(error),
        }
    }
}

/// A token whose patient is gone is no longer a valid token (401 `invalid_token`, with the same
/// challenge format as [`bearer::BearerError::into_response`]); store failures go through [`ApiError`].
fn subject_error(error: SubjectError) -> Result<Response<Body>, ApiError> {
    match error {
        SubjectError::Gone => {
            let description = error.to_string();
            let mut answer = response::json(
                StatusCode::UNAUTHORIZED,
                &ErrorBody {
                    error: "invalid_token",
                    error_description: &description,
                },
            );
            let challenge = format!(
                "Bearer realm=\"{}\", error=\"invalid_token\", error_description=\"{description}\"",
                bearer::REALM
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                answer.headers_mut().insert(header::WWW_AUTHENTICATE, value);
            }
            Ok(answer)
        }
        SubjectError::Repo(RepoError::Store(error)) => Err(error.into()),
        SubjectError::Repo(other) => Err(ApiError::Internal(other.to_string())),
    }
}

#[async_trait]
impl Handler for App {
    fn route(&self, request: &Request) -> Option<String> {
        let (method, path) = (request.method(), request.uri().path());
        self.router
            .route_name(method, path)
            .or_else(|| self.docs_router.route_name(method, path))
    }

    /// Answers CORS preflights for the CORS paths this function serves, then routes; every answer
    /// on a CORS path (errors included) carries the CORS headers for an allowed origin.
    async fn handle(&self, request: Request) -> Response<Body> {
        if request.uri().path() == docs_client::REDIRECT_PATH {
            // A page in the patient's sign-in popup: no CORS.
            return self
                .docs_router
                .resolve(request.method(), request.uri().path())
                .and_then(|_| self.docs.redirect(&request, &request::query(&request)))
                .unwrap_or_else(ApiError::into_response);
        }
        cors::respond(&request, &self.context.config, &self.router, async {
            self.dispatch(&request)
                .await
                .unwrap_or_else(ApiError::into_response)
        })
        .await
    }

    fn context(&self) -> &Context {
        &self.context
    }
}
