//! The `authorize` function: authorization endpoint, login, consent and logout pages.
//!
//! `main.rs` builds an [`App`] once per cold start; every request goes through [`App::handle`].
//! This file only turns requests into calls to [`shared::oauth::flow`] and [`shared::oauth::logout`]
//! and their results into responses: pages (always through [`response::html`], so they carry the
//! framing, sniffing, referrer and caching protections), redirects and cookies. None of these routes
//! sends CORS headers: they serve top-level browser navigations only, and no script on another
//! origin has any business reading a login or consent page.

use async_trait::async_trait;
use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::boot::{Context, Handler};
use shared::http::request::{cookie, form, query, source_ip, Params};
use shared::http::{response, ApiError, PathParams, Router};
use shared::oauth::authorize::AuthorizationRequest;
use shared::oauth::flow::{
    needs_login, session_clear_cookie, session_cookie_name, session_set_cookie, Flow, Next, SignIn,
};
use shared::oauth::flow_error::{FlowError, PageError};
use shared::oauth::{csrf, logout};
use shared::pages::{self, ConsentPage, LoginPage, MessagePage};
use shared::repo::{ClientRepo, SessionRepo};

/// The routes this function serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /oauth/authorize, POST /oauth/authorize`
    Authorize,
    /// `GET /oauth/login, POST /oauth/login`
    Login,
    /// `GET /oauth/consent, POST /oauth/consent`
    Consent,
    /// `GET /oauth/logout, POST /oauth/logout`
    Logout,
}

/// Method + path of every route of this function, as API Gateway and `cargo lambda watch` route them.
pub fn router() -> Router<Route> {
    Router::new(vec![
        (Method::GET, "/oauth/authorize", Route::Authorize),
        (Method::POST, "/oauth/authorize", Route::Authorize),
        (Method::GET, "/oauth/login", Route::Login),
        (Method::POST, "/oauth/login", Route::Login),
        (Method::GET, "/oauth/consent", Route::Consent),
        (Method::POST, "/oauth/consent", Route::Consent),
        (Method::GET, "/oauth/logout", Route::Logout),
        (Method::POST, "/oauth/logout", Route::Logout),
    ])
}

/// The function's state, built once per instance.
pub struct App {
    context: Context,
    router: Router<Route>,
    flow: Flow,
    clients: ClientRepo,
    sessions: SessionRepo,
    secure: bool,
}

/// A response already decided (an early exit of a handler).
type Early = Box<Response<Body>>;

impl App {
    /// Builds the function around the shared init state.
    pub fn new(context: Context) -> Self {
        let flow = Flow::new(&context);
        Self {
            clients: ClientRepo::new(context.store.clone()),
            sessions: SessionRepo::new(context.store.clone()),
            secure: flow.secure_cookies(),
            flow,
            context,
            router: router(),
        }
    }

    async fn dispatch(&self, request: Request) -> Result<Response<Body>, ApiError> {
        let (route, _params): (Route, PathParams) = self
            .router
            .resolve(request.method(), request.uri().path())?;
        let post = request.method() == Method::POST;
        let response = match (route, post) {
            (Route::Authorize, _) => self.authorize(&request).await,
            (Route::Login, false) => self.login_page(&request).await,
            (Route::Login, true) => self.login_submit(&request).await,
            (Route::Consent, false) => self.consent_page(&request).await,
            (Route::Consent, true) => self.consent_submit(&request).await,
            (Route::Logout, _) => self.logout(&request).await,
        };
        Ok(response.unwrap_or_else(|early| *early))
    }

    /// `/oauth/authorize` (GET query or POST form, OIDC Core §3.1.2.1).
    async fn authorize(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.params(request)?;
        let next = self
            .flow
            .authorize(&params, self.session_cookie(request))
            .await;
        Ok(self.next_or_error(next))
    }

    /// `GET /oauth/login`: the sign-in form for a sealed request.
    async fn login_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = query(request);
        let (authorization, sealed) = self.open(&params).await?;
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = LoginPage {
            client_name: &authorization.client_name,
            email: authorization.login_hint.as_deref().unwrap_or(""),
            error: None,
            csrf_token: &token,
            request: sealed,
        };
        let mut response = response::allow_form_redirect(
            response::html(StatusCode::OK, pages::render(&page)),
            &authorization.redirect_uri,
        );
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        Ok(response)
    }

    /// `POST /oauth/login`: CSRF, throttling, credentials, then the session and the next step.
    async fn login_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.form(request)?;
        let token = self.check_csrf(request, &params)?;
        let (authorization, sealed) = self.open(&params).await?;
        let email = params.get("email").ok().flatten().unwrap_or("");
        let password = params.get("password").ok().flatten().unwrap_or("");
        // API Gateway's view of the caller, never a header the caller controls.
        let ip = source_ip(request).unwrap_or_else(|| "unknown".to_owned());
        let outcome = self
            .flow
            .sign_in(
                &authorization,
                email,
                password,
                &ip,
                self.session_cookie(request),
            )
            .await
            .map_err(|error| self.error_page(&error))?;
        let retry = |status: StatusCode, message: &str| {
            let page = LoginPage {
                client_name: &authorization.client_name,
                email: email.trim(),
                error: Some(message),
                csrf_token: token,
                request: sealed,
            };
            response::allow_form_redirect(
                response::html(status, pages::render(&page)),
                &authorization.redirect_uri,
            )
        };
        Ok(match outcome {
            SignIn::SignedIn { sid, next } => {
                let mut response = self.next_or_error(next);
                add_cookie(&mut response, &session_set_cookie(&sid, self.secure));
                response
            }
            SignIn::Rejected => retry(StatusCode::UNAUTHORIZED, pages::BAD_CREDENTIALS),
            SignIn::Incomplete => retry(StatusCode::BAD_REQUEST, pages::MISSING_CREDENTIALS),
            SignIn::Locked { retry_after } => {
                let mut response = retry(StatusCode::TOO_MANY_REQUESTS, pages::TOO_MANY_ATTEMPTS);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
        })
    }

    /// `GET /oauth/consent`: what the app asks for, for a signed-in patient.
    async fn consent_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = query(request);
        let (authorization, sealed) = self.open(&params).await?;
        self.signed_in(request, &authorization).await?;
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = ConsentPage::new(
            &authorization.client_name,
            &authorization.scopes,
            &token,
            sealed,
        );
        let mut response = response::allow_form_redirect(
            response::html(StatusCode::OK, pages::render(&page)),
            &authorization.redirect_uri,
        );
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        Ok(response)
    }

    /// `POST /oauth/consent`: allow (record and issue the code) or deny (`access_denied`).
    async fn consent_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.form(request)?;
        self.check_csrf(request, &params)?;
        let (authorization, _) = self.open(&params).await?;
        let session = self.signed_in(request, &authorization).await?;
        let allow = match params.get("decision") {
            Ok(Some("allow")) => true,
            Ok(Some("deny")) => false,
            _ => {
                let error = PageError::BadForm("Choose Allow or Deny.".into());
                return Err(self.error_page(&error));
            }
        };
        let next = self.flow.consent(&authorization, &session, allow).await;
        Ok(self.next_or_error(next))
    }

    /// `/oauth/logout` (OIDC RP-Initiated Logout): always ends the session, then returns to the app
    /// if the request proves where to, or shows a page.
    async fn logout(&self, request: &Request) -> Result<Response<Body>, Early> {
        let clear = session_clear_cookie(self.secure);
        let params = self.params(request).map_err(|mut early| {
            add_cookie(&mut early, &clear);
            early
        })?;
        let ended = match self.session_cookie(request) {
            Some(sid) => self.sessions.delete(sid).await.map_err(PageError::from),
            None => Ok(()),
        };
        // An id_token_hint signed by a key this instance has not loaded yet reloads its keys.
        let keys = match params.get("id_token_hint") {
            Ok(Some(hint)) => self.context.keys.for_token(hint).await,
            _ => self.context.keys.current(),
        };
        let target = logout::resolve(&keys, self.flow.issuer(), &self.clients, &params).await;
        let mut response = match (ended, target) {
            (Err(error), _) => *self.error_page(&error),
            (Ok(()), Ok(Some(location))) => response::redirect(&location),
            (Ok(()), Ok(None)) => {
                response::html(StatusCode::OK, pages::render(&MessagePage::signed_out()))
            }
            (Ok(()), Err(error)) => {
                tracing::info!(reason = %error, "logout request not honoured for the redirect");
                let message = format!(
                    "You have been signed out of MyPatientPortal, but the app's request to send you \
                     back could not be accepted, so you stay here. You can close this window. (For \
                     the app's developer: {error}.)"
                );
                let status =
                    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
                response::html(
                    status,
                    pages::render(&MessagePage::error("You are signed out", &message)),
                )
            }
        };
        add_cookie(&mut response, &clear);
        Ok(response)
    }

    /// The sealed request of a login or consent page, opened; or the "start again" page.
    async fn open<'p>(&self, params: &'p Params) -> Result<(AuthorizationRequest, &'p str), Early> {
        let sealed = params.get("request").ok().flatten();
        match (self.flow.open_request(sealed).await, sealed) {
            (Ok(authorization), Some(sealed)) => Ok((authorization, sealed)),
            (Err(error), _) => Err(self.error_page(&error)),
            (Ok(_), None) => Err(self.error_page(&PageError::RequestExpired)),
        }
    }

    /// The live session that satisfies the request's sign-in rules, or a 303 to the login page.
    async fn signed_in(
        &self,
        request: &Request,
        authorization: &AuthorizationRequest,
    ) -> Result<shared::repo::Session, Early> {
        let session = self
            .flow
            .session(self.session_cookie(request))
            .await
            .map_err(|error| self.error_page(&error))?;
        match session {
            Some(session) if !needs_login(authorization, Some(&session)) => Ok(session),
            _ => {
                let next = self.flow.login_location(authorization).map(Next::Login);
                Err(Box::new(self.next_or_error(next)))
            }
        }
    }

    /// The CSRF check of a form post; returns the (verified) token for a re-rendered form.
    fn check_csrf<'p>(&self, request: &Request, params: &'p Params) -> Result<&'p str, Early> {
        let field = params.get(csrf::FIELD).ok().flatten();
        match field {
            Some(token) if csrf::verify(self.csrf_cookie(request), Some(token)) => Ok(token),
            _ => {
                tracing::info!("form rejected by the CSRF check");
                Err(self.error_page(&PageError::Csrf))
            }
        }
    }

    /// Query of a GET, form of a POST.
    fn params(&self, request: &Request) -> Result<Params, Early> {
        if request.method() == Method::POST {
            self.form(request)
        } else {
            Ok(query(request))
        }
    }

    /// The form body, or a page saying why it cannot be read (413, 415).
    fn form(&self, request: &Request) -> Result<Params, Early> {
        form(request).map_err(|error| {
            let page = MessagePage::error(
                "The form could not be read",
                "Your browser sent something this page does not accept. Go back and try again.",
            );
            Box::new(response::html(error.status(), pages::render(&page)))
        })
    }

    fn session_cookie<'r>(&self, request: &'r Request) -> Option<&'r str> {
        cookie(request, session_cookie_name(self.secure))
    }

    fn csrf_cookie<'r>(&self, request: &'r Request) -> Option<&'r str> {
        cookie(request, csrf::cookie_name(self.secure))
    }

    fn error_page(&self, error: &PageError) -> Early {
        let message = error.message();
        let page = MessagePage::error(error.title(), &message);
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = response::html(status, pages::render(&page));
        if *error == PageError::Unavailable {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        Box::new(response)
    }

    fn next_or_error(&self, next: Result<Next, FlowError>) -> Response<Body> {
        match next {
            // 303: the login and consent pages are fetched with GET whatever the method before.
            Ok(Next::Login(location) | Next::Consent(location)) => {
                let mut response = response::redirect(&location);
                if response.status() == StatusCode::FOUND {
                    *response.status_mut() = StatusCode::SEE_OTHER;
                }
                response
            }
            Ok(Next::Code(location)) => response::redirect(&location),
            Err(FlowError::Page(error)) => *self.error_page(&error),
            Err(FlowError::Redirect(redirect)) => redirect.error.into_redirect(
                &redirect.redirect_uri,
                redirect.state.as_deref(),
                self.flow.issuer(),
            ),
        }
    }
}

fn add_cookie(response: &mut Response<Body>, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        Err(_) => tracing::error!("a cookie value is not a valid header value"),
    }
}

#[async_trait]
impl Handler for App {
    async fn handle(&self, request: Request) -> Response<Body> {
        self.dispatch(request)
            .await
            .unwrap_or_else(ApiError::into_response)
    }

    fn context(&self) -> &Context {
        &self.context
    }
}
