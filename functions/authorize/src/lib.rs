//! The `authorize` function: authorization endpoint, login, consent and logout pages, the
//! account pages of registration, verification and password recovery ([`account`]), and the
//! second factor ([`mfa`]: the sign-in's code page and the account's authenticator-app page), and
//! passkeys ([`passkey`]: their sign-in page, the account's passkey page, the ceremony script).
//!
//! `main.rs` builds an [`App`] once per cold start; every request goes through [`App::handle`].
//! This file only turns requests into calls to [`shared::oauth::flow`] and [`shared::oauth::logout`]
//! and their results into responses: pages (always through [`response::html`], so they carry the
//! framing, sniffing, referrer and caching protections), redirects and cookies. None of these routes
//! sends CORS headers: they serve top-level browser navigations only, and no script on another
//! origin has any business reading a login or consent page.
//!
//! Every page is in the language [`language::choose`] picks (the sign-in's `ui_locales`, then
//! the patient's choice, then `Accept-Language`) and carries a language switch. The switch of the
//! login and consent pages posts to them with `lang` and shows the same page again in that
//! language, which the sign-in then keeps (it is sealed into the request), a cookie remembers, and
//! a signed-in patient's account stores; error pages repeat their request with `lang`.

mod account;
mod console;
mod mfa;
mod passkey;

use async_trait::async_trait;
use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::account::AccountConsole;
use shared::account::Accounts;
use shared::boot::{Context, Handler};
use shared::http::request::{cookie, form, query, source_ip, Params};
use shared::http::{response, ApiError, PathParams, Router};
use shared::i18n::negotiate::{from_ui_locales, SWITCH_FIELD};
use shared::oauth::authorize::AuthorizationRequest;
use shared::oauth::flow::{
    needs_login, session_clear_cookie, session_cookie_name, session_set_cookie, Flow, Next, SignIn,
};
use shared::oauth::flow_error::{FlowError, PageError};
use shared::oauth::passkey::Passkeys;
use shared::oauth::second_factor::SecondFactors;
use shared::oauth::{csrf, logout};
use shared::pages::language::{self, LanguageSwitch, PageLanguage};
use shared::pages::mfa::{CODE_PATH, TOTP_PATH};
use shared::pages::passkey::{PASSKEYS_PATH, SCRIPT_PATH, SIGN_IN_PATH};
use shared::pages::{self, ConsentPage, LoginPage, LogoutConfirmPage, MessagePage};
use shared::repo::{ClientRepo, PatientRepo, SessionRepo};

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
    /// `GET /oauth/mfa, POST /oauth/mfa`: the second factor of a sign-in
    SecondFactor,
    /// `GET /account/mfa/totp, POST /account/mfa/totp`: the authenticator app of the account
    Totp,
    /// `GET /oauth/passkey, POST /oauth/passkey`: signing in with a passkey
    PasskeySignIn,
    /// `GET /oauth/passkey.js`: the passkey ceremony script
    PasskeyScript,
    /// `GET /account/mfa/passkeys, POST /account/mfa/passkeys`: the passkeys of the account
    Passkeys,
    /// The account page and its forms (`/account…`, see [`console::ROUTES`]).
    Console(console::ConsoleRoute),
    /// `GET /account/register, POST /account/register` (404 with `PORTAL_SELF_REGISTRATION=off`)
    Register,
    /// `GET /account/verify, POST /account/verify`
    Verify,
    /// `GET /account/verify/resend, POST /account/verify/resend`
    Resend,
    /// `GET /account/password/forgot, POST /account/password/forgot`
    Forgot,
    /// `GET /account/password/reset, POST /account/password/reset`
    Reset,
}

/// Method + path of every route of this function, as API Gateway and `cargo lambda watch` route them.
pub fn router() -> Router<Route> {
    let mut routes = vec![
        (Method::GET, "/oauth/authorize", Route::Authorize),
        (Method::POST, "/oauth/authorize", Route::Authorize),
        (Method::GET, "/oauth/login", Route::Login),
        (Method::POST, "/oauth/login", Route::Login),
        (Method::GET, "/oauth/consent", Route::Consent),
        (Method::POST, "/oauth/consent", Route::Consent),
        (Method::GET, "/oauth/logout", Route::Logout),
        (Method::POST, "/oauth/logout", Route::Logout),
        (Method::GET, CODE_PATH, Route::SecondFactor),
        (Method::POST, CODE_PATH, Route::SecondFactor),
        (Method::GET, TOTP_PATH, Route::Totp),
        (Method::POST, TOTP_PATH, Route::Totp),
        (Method::GET, SIGN_IN_PATH, Route::PasskeySignIn),
        (Method::POST, SIGN_IN_PATH, Route::PasskeySignIn),
        (Method::GET, SCRIPT_PATH, Route::PasskeyScript),
        (Method::GET, PASSKEYS_PATH, Route::Passkeys),
        (Method::POST, PASSKEYS_PATH, Route::Passkeys),
        (Method::GET, account::REGISTER_PATH, Route::Register),
        (Method::POST, account::REGISTER_PATH, Route::Register),
        (Method::GET, account::VERIFY_PATH, Route::Verify),
        (Method::POST, account::VERIFY_PATH, Route::Verify),
        (Method::GET, account::RESEND_PATH, Route::Resend),
        (Method::POST, account::RESEND_PATH, Route::Resend),
        (Method::GET, account::FORGOT_PATH, Route::Forgot),
        (Method::POST, account::FORGOT_PATH, Route::Forgot),
        (Method::GET, account::RESET_PATH, Route::Reset),
        (Method::POST, account::RESET_PATH, Route::Reset),
    ];
    routes.extend(
        console::ROUTES
            .into_iter()
            .map(|(method, path, route)| (method, path, Route::Console(route))),
    );
    Router::new(routes)
}

/// The function's state, built once per instance.
pub struct App {
    context: Context,
    router: Router<Route>,
    flow: Flow,
    console: AccountConsole,
    accounts: Accounts,
    clients: ClientRepo,
    sessions: SessionRepo,
    patients: PatientRepo,
    second_factors: SecondFactors,
    passkeys: Passkeys,
    secure: bool,
}

/// A response already decided (an early exit of a handler).
type Early = Box<Response<Body>>;

impl App {
    /// Builds the function around the shared init state.
    pub fn new(context: Context) -> Self {
        let flow = Flow::new(&context);
        Self {
            console: AccountConsole::new(&context),
            accounts: Accounts::new(&context),
            clients: ClientRepo::new(context.store.clone()),
            sessions: SessionRepo::new(context.store.clone()),
            patients: PatientRepo::new(context.store.clone()),
            second_factors: SecondFactors::new(&context),
            passkeys: Passkeys::new(&context),
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
            (Route::SecondFactor, false) => self.code_page(&request).await,
            (Route::SecondFactor, true) => self.code_submit(&request).await,
            (Route::Totp, false) => self.totp_page(&request).await,
            (Route::Totp, true) => self.totp_submit(&request).await,
            (Route::PasskeySignIn, false) => self.passkey_sign_in_page(&request).await,
            (Route::PasskeySignIn, true) => self.passkey_sign_in_submit(&request).await,
            (Route::PasskeyScript, _) => Ok(self.passkey_script()),
            (Route::Passkeys, false) => self.passkeys_page(&request).await,
            (Route::Passkeys, true) => self.passkeys_submit(&request).await,
            (Route::Console(console::ConsoleRoute::Page), _) => self.console_page(&request).await,
            (Route::Console(console::ConsoleRoute::EmailConfirm), _) => {
                self.email_confirm(&request).await
            }
            (Route::Console(route), _) => self.console_post(&request, route).await,
            (Route::Register, _) if !self.accounts.self_registration() => {
                return Err(ApiError::NotFound(
                    "registration is turned off: the institution creates accounts".into(),
                ))
            }
            (Route::Register, false) => self.register_page(&request).await,
            (Route::Register, true) => self.register_submit(&request).await,
            (Route::Verify, false) => self.verify_page(&request).await,
            (Route::Verify, true) => self.verify_submit(&request).await,
            (Route::Resend, post) => self.resend(&request, post).await,
            (Route::Forgot, post) => self.forgot(&request, post).await,
            (Route::Reset, false) => self.reset_page(&request).await,
            (Route::Reset, true) => self.reset_submit(&request).await,
        };
        Ok(response.unwrap_or_else(|early| *early))
    }

    /// `/oauth/authorize` (GET query or POST form, OIDC Core §3.1.2.1).
    async fn authorize(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.params(request, AUTHORIZE_PATH)?;
        let ui_locale = params
            .get("ui_locales")
            .ok()
            .flatten()
            .and_then(from_ui_locales);
        let lang = self.language(request, &params, ui_locale);
        let next = self
            .flow
            .authorize(&params, self.session_cookie(request))
            .await;
        // A redirect_uri that was refused (or came with an unknown client) is never put back into
        // a page; repeating the rest shows the same error in the other language.
        let switch = |error: &PageError| match error {
            PageError::UnknownClient | PageError::BadRedirectUri => {
                let kept = ["client_id", "ui_locales"];
                repeat(request, AUTHORIZE_PATH, &params, Some(&kept))
            }
            _ => repeat(request, AUTHORIZE_PATH, &params, None),
        };
        Ok(self.next_or_error(next, &lang, switch))
    }

    /// `GET /oauth/login`: the sign-in form for a sealed request.
    async fn login_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = query(request);
        let lang = self.sign_in_language(request, &params).await;
        if console::returns_to_account(&params) {
            return Ok(self.account_login_form(request, "", &lang, None));
        }
        let (authorization, sealed) = self.open(request, &params, LOGIN_PATH, &lang).await?;
        let (authorization, sealed) = self.follow_switch(authorization, sealed, &lang)?;
        let email = authorization.login_hint.as_deref().unwrap_or("");
        Ok(self.login_form(request, &authorization, &sealed, email, &lang))
    }

    /// The login page of a request (200), with a CSRF token (and cookie if the browser has none).
    fn login_form(
        &self,
        request: &Request,
        authorization: &AuthorizationRequest,
        sealed: &str,
        email: &str,
        lang: &PageLanguage,
    ) -> Response<Body> {
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = LoginPage::new(lang.tr, &authorization.client_name, &token, sealed)
            .with_email(email)
            .with_register(self.accounts.self_registration())
            .with_passkeys(self.passkeys.available());
        let mut response = response::allow_form_redirect(
            self.page(StatusCode::OK, pages::render(&page), lang),
            &authorization.redirect_uri,
        );
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        response
    }

    /// `POST /oauth/login`: CSRF, throttling, credentials, then the session and the next step; or
    /// the language switch, which shows the login page again in the chosen language.
    async fn login_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.form(request, LOGIN_PATH)?;
        let lang = self.sign_in_language(request, &params).await;
        let token = self.check_csrf(request, &params, LOGIN_PATH, &lang)?;
        if console::returns_to_account(&params) {
            if lang.switched.is_some() {
                return Ok(self.account_login_form(request, "", &lang, None));
            }
            return self.account_sign_in(request, &params, &lang).await;
        }
        let (authorization, sealed) = self.open(request, &params, LOGIN_PATH, &lang).await?;
        if lang.switched.is_some() {
            let (authorization, sealed) = self.follow_switch(authorization, sealed, &lang)?;
            let email = authorization.login_hint.as_deref().unwrap_or("");
            return Ok(self.login_form(request, &authorization, &sealed, email, &lang));
        }
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
            .map_err(|error| {
                let switch = repeat(request, LOGIN_PATH, &params, Some(&SIGN_IN_STATE));
                self.error_page(&error, &lang, switch)
            })?;
        let retry = |status: StatusCode, message: &'static str| {
            let page = LoginPage::new(lang.tr, &authorization.client_name, token, sealed)
                .with_email(email.trim())
                .with_register(self.accounts.self_registration())
                .with_passkeys(self.passkeys.available())
                .with_error(message);
            let page = if message == pages::UNVERIFIED {
                page.unverified()
            } else {
                page
            };
            response::allow_form_redirect(
                self.page(status, pages::render(&page), &lang),
                &authorization.redirect_uri,
            )
        };
        Ok(match outcome {
            SignIn::SignedIn { sid, next } => {
                let switch =
                    |_: &PageError| repeat(request, LOGIN_PATH, &params, Some(&SIGN_IN_STATE));
                let mut response = self.next_or_error(next, &lang, switch);
                add_cookie(&mut response, &session_set_cookie(&sid, self.secure));
                response
            }
            SignIn::SecondFactor { pending } => self.code_form(
                request,
                &authorization,
                sealed,
                &pending,
                None,
                StatusCode::OK,
                &lang,
            ),
            SignIn::Rejected => retry(StatusCode::UNAUTHORIZED, pages::BAD_CREDENTIALS),
            SignIn::Incomplete => retry(StatusCode::BAD_REQUEST, pages::MISSING_CREDENTIALS),
            SignIn::Unverified { .. } => retry(StatusCode::FORBIDDEN, pages::UNVERIFIED),
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
        let lang = self.sign_in_language(request, &params).await;
        let (authorization, sealed) = self.open(request, &params, CONSENT_PATH, &lang).await?;
        self.signed_in(request, &authorization, &params, &lang)
            .await?;
        // A GET changes no account: only the page, the sign-in and the cookie follow a switch.
        let (authorization, sealed) = self.follow_switch(authorization, sealed, &lang)?;
        Ok(self.consent_form(request, &authorization, &sealed, &lang))
    }

    /// The consent page of a request (200), with a CSRF token (and cookie if the browser has none).
    fn consent_form(
        &self,
        request: &Request,
        authorization: &AuthorizationRequest,
        sealed: &str,
        lang: &PageLanguage,
    ) -> Response<Body> {
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = ConsentPage::new(
            lang.tr,
            &authorization.client_name,
            &authorization.scopes,
            &token,
            sealed,
        );
        let mut response = response::allow_form_redirect(
            self.page(StatusCode::OK, pages::render(&page), lang),
            &authorization.redirect_uri,
        );
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        response
    }

    /// `POST /oauth/consent`: allow (record and issue the code) or deny (`access_denied`); or the
    /// language switch, which shows the page again in the chosen language and stores it as the
    /// patient's language.
    async fn consent_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.form(request, CONSENT_PATH)?;
        let lang = self.sign_in_language(request, &params).await;
        self.check_csrf(request, &params, CONSENT_PATH, &lang)?;
        let (authorization, sealed) = self.open(request, &params, CONSENT_PATH, &lang).await?;
        let session = self
            .signed_in(request, &authorization, &params, &lang)
            .await?;
        if let Some(chosen) = lang.switched {
            // The page follows the switch whatever happens here: storing is for the mails.
            if let Err(error) = self.patients.set_locale(&session.patient_id, chosen).await {
                tracing::warn!(cause = %error, "could not store the patient's language");
            }
            let (authorization, sealed) = self.follow_switch(authorization, sealed, &lang)?;
            return Ok(self.consent_form(request, &authorization, &sealed, &lang));
        }
        let allow = match params.get("decision") {
            Ok(Some("allow")) => true,
            Ok(Some("deny")) => false,
            _ => {
                let error = PageError::BadForm("error-missing-decision");
                let switch = repeat(request, CONSENT_PATH, &params, Some(&SIGN_IN_STATE));
                return Err(self.error_page(&error, &lang, switch));
            }
        };
        let next = self.flow.consent(&authorization, &session, allow).await;
        let switch = |_: &PageError| repeat(request, CONSENT_PATH, &params, Some(&SIGN_IN_STATE));
        Ok(self.next_or_error(next, &lang, switch))
    }

    /// `/oauth/logout` (OIDC RP-Initiated Logout): ends the session the cookie names and the one
    /// the `id_token_hint` names, then returns to the app if the request proves where to, or shows
    /// a page. A request with neither hint nor session cookie is first confirmed by the patient.
    async fn logout(&self, request: &Request) -> Result<Response<Body>, Early> {
        let clear = session_clear_cookie(self.secure);
        let params = self.params(request, LOGOUT_PATH).map_err(|mut early| {
            add_cookie(&mut early, &clear);
            early
        })?;
        let ui_locale = params
            .get("ui_locales")
            .ok()
            .flatten()
            .and_then(from_ui_locales);
        let lang = self.language(request, &params, ui_locale);
        // An id_token_hint signed by a key this instance has not loaded yet reloads its keys.
        let keys = match params.get("id_token_hint") {
            Ok(Some(hint)) => self.context.keys.for_token(hint).await,
            _ => self.context.keys.current(),
        };
        let resolution = logout::resolve(&keys, self.flow.issuer(), &self.clients, &params).await;
        let hinted = !matches!(params.get("id_token_hint"), Ok(None));
        let unproven = !hinted && self.session_cookie(request).is_none();
        // A request that cannot succeed anyway gets its error page, not a question.
        if unproven && resolution.target.is_ok() && !self.confirmed(request, &params) {
            let page = self.logout_question(request, &params, &lang);
            return Ok(match &resolution.target {
                // The confirmed form ends in a redirect to the app: the page's CSP must allow it.
                Ok(Some(location)) => response::allow_form_redirect(page, location),
                _ => page,
            });
        }
        // Signed out whatever the page's language: the switch only shows the page again.
        let switch = || LanguageSwitch::get(LOGOUT_PATH, &[]);
        let by_cookie = async {
            match self.session_cookie(request) {
                Some(sid) => self.sessions.delete(sid).await,
                None => Ok(()),
            }
        };
        let by_hint = async {
            match &resolution.sid {
                Some(sid) => self.sessions.delete_by_public_id(sid).await,
                None => Ok(()),
            }
        };
        let ended = tokio::try_join!(by_cookie, by_hint)
            .map(|_| ())
            .map_err(PageError::from);
        let mut response = match (ended, resolution.target) {
            (Err(error), _) => *self.error_page(&error, &lang, switch()),
            (Ok(()), Ok(Some(location))) => self.remembered(response::redirect(&location), &lang),
            (Ok(()), Ok(None)) => {
                let page = MessagePage::notice(lang.tr, switch(), "signed-out");
                self.page(StatusCode::OK, pages::render(&page), &lang)
            }
            (Ok(()), Err(error)) => {
                tracing::info!(reason = %error, "logout request not honoured for the redirect");
                // The detail is for the app's developer, in English like every error_description.
                let detail = error.to_string();
                let page = MessagePage::new(
                    lang.tr,
                    switch(),
                    "signed-out-no-return",
                    &[("detail", &detail)],
                    true,
                );
                let status =
                    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
                self.page(status, pages::render(&page), &lang)
            }
        };
        add_cookie(&mut response, &clear);
        Ok(response)
    }

    /// Whether a logout is the patient's answer to [`App::logout_question`]: a POST from our own
    /// page, with its CSRF token.
    fn confirmed(&self, request: &Request, params: &Params) -> bool {
        request.method() == Method::POST
            && matches!(params.get("confirm"), Ok(Some("yes")))
            && csrf::verify(
                self.csrf_cookie(request),
                params.get(csrf::FIELD).ok().flatten(),
            )
    }

    /// The page asking the patient to confirm a logout that proves nothing (no hint, no cookie).
    fn logout_question(
        &self,
        request: &Request,
        params: &Params,
        lang: &PageLanguage,
    ) -> Response<Body> {
        const KEPT: [&str; 4] = [
            "post_logout_redirect_uri",
            "client_id",
            "state",
            "ui_locales",
        ];
        let hidden = params
            .iter()
            .filter(|(name, _)| KEPT.contains(name))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = LogoutConfirmPage::new(lang.tr, &token, hidden);
        let mut response = self.page(StatusCode::OK, pages::render(&page), lang);
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        response
    }

    /// The language of a page: the switch (`lang`) of `params`, then `ui_locale`, then the
    /// patient's cookie, then `Accept-Language`.
    fn language(
        &self,
        request: &Request,
        params: &Params,
        ui_locale: Option<shared::i18n::Locale>,
    ) -> PageLanguage {
        let switch = params.get(SWITCH_FIELD).ok().flatten();
        language::choose(request, switch, ui_locale, None, self.secure)
    }

    /// The language of a login or consent request: as [`App::language`], with the `ui_locales`
    /// choice sealed into its request (read here without judging it: [`App::open`] does that).
    async fn sign_in_language(&self, request: &Request, params: &Params) -> PageLanguage {
        let sealed = params.get("request").ok().flatten();
        let ui_locale = match sealed {
            Some(sealed) => self
                .flow
                .open_request(Some(sealed))
                .await
                .ok()
                .and_then(|authorization| authorization.ui_locale),
            None => None,
        };
        self.language(request, params, ui_locale)
    }

    /// The sealed request of a login or consent page, opened; or the "start again" page.
    async fn open<'p>(
        &self,
        request: &Request,
        params: &'p Params,
        path: &'static str,
        lang: &PageLanguage,
    ) -> Result<(AuthorizationRequest, &'p str), Early> {
        let sealed = params.get("request").ok().flatten();
        let switch = || repeat(request, path, params, Some(&SIGN_IN_STATE));
        match (self.flow.open_request(sealed).await, sealed) {
            (Ok(authorization), Some(sealed)) => Ok((authorization, sealed)),
            (Err(error), _) => Err(self.error_page(&error, lang, switch())),
            (Ok(_), None) => Err(self.error_page(&PageError::RequestExpired, lang, switch())),
        }
    }

    /// The request and its sealed form in the language the switch chose, if it was used: the rest
    /// of the sign-in follows the patient's choice rather than the app's `ui_locales`.
    fn follow_switch(
        &self,
        mut authorization: AuthorizationRequest,
        sealed: &str,
        lang: &PageLanguage,
    ) -> Result<(AuthorizationRequest, String), Early> {
        let Some(chosen) = lang.switched else {
            return Ok((authorization, sealed.to_owned()));
        };
        authorization.ui_locale = Some(chosen);
        match authorization.seal(&self.context.keys.current()) {
            Ok(sealed) => Ok((authorization, sealed)),
            Err(error) => {
                tracing::error!(cause = %error, "sealing an authorization request failed");
                let switch = LanguageSwitch::get(AUTHORIZE_PATH, &[]);
                Err(self.error_page(&PageError::Internal, lang, switch))
            }
        }
    }

    /// The live session that satisfies the request's sign-in rules, or a 303 to the login page.
    async fn signed_in(
        &self,
        request: &Request,
        authorization: &AuthorizationRequest,
        params: &Params,
        lang: &PageLanguage,
    ) -> Result<shared::repo::Session, Early> {
        let switch = || repeat(request, CONSENT_PATH, params, Some(&SIGN_IN_STATE));
        let session = self
            .flow
            .session(self.session_cookie(request))
            .await
            .map_err(|error| self.error_page(&error, lang, switch()))?;
        match session {
            Some(session) if !needs_login(authorization, Some(&session)) => Ok(session),
            _ => {
                let next = self.flow.login_location(authorization).map(Next::Login);
                Err(Box::new(self.next_or_error(next, lang, |_| switch())))
            }
        }
    }

    /// The CSRF check of a form post; returns the (verified) token for a re-rendered form.
    fn check_csrf<'p>(
        &self,
        request: &Request,
        params: &'p Params,
        path: &'static str,
        lang: &PageLanguage,
    ) -> Result<&'p str, Early> {
        let field = params.get(csrf::FIELD).ok().flatten();
        match field {
            Some(token) if csrf::verify(self.csrf_cookie(request), Some(token)) => Ok(token),
            _ => {
                tracing::info!("form rejected by the CSRF check");
                let switch = repeat(request, path, params, Some(&SIGN_IN_STATE));
                Err(self.error_page(&PageError::Csrf, lang, switch))
            }
        }
    }

    /// Query of a GET, form of a POST.
    fn params(&self, request: &Request, path: &'static str) -> Result<Params, Early> {
        if request.method() == Method::POST {
            self.form(request, path)
        } else {
            Ok(query(request))
        }
    }

    /// The form body, or a page saying why it cannot be read (413, 415).
    fn form(&self, request: &Request, path: &'static str) -> Result<Params, Early> {
        form(request).map_err(|error| {
            let lang = self.language(request, &query(request), None);
            let page = MessagePage::error(
                lang.tr,
                LanguageSwitch::get(path, &[]),
                "error-unreadable-form",
            );
            Box::new(self.page(error.status(), pages::render(&page), &lang))
        })
    }

    fn session_cookie<'r>(&self, request: &'r Request) -> Option<&'r str> {
        cookie(request, session_cookie_name(self.secure))
    }

    fn csrf_cookie<'r>(&self, request: &'r Request) -> Option<&'r str> {
        cookie(request, csrf::cookie_name(self.secure))
    }

    /// A page, remembering the language the switch chose.
    fn page(&self, status: StatusCode, html: String, lang: &PageLanguage) -> Response<Body> {
        self.remembered(response::html(status, html), lang)
    }

    /// `response` with the language cookie when the switch was used.
    fn remembered(&self, mut response: Response<Body>, lang: &PageLanguage) -> Response<Body> {
        if let Some(chosen) = lang.switched {
            add_cookie(&mut response, &language::remember(chosen, self.secure));
        }
        response
    }

    fn error_page(&self, error: &PageError, lang: &PageLanguage, switch: LanguageSwitch) -> Early {
        let page = MessagePage::error(lang.tr, switch, error.message_id());
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = self.page(status, pages::render(&page), lang);
        if *error == PageError::Unavailable {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        Box::new(response)
    }

    fn next_or_error(
        &self,
        next: Result<Next, FlowError>,
        lang: &PageLanguage,
        switch: impl FnOnce(&PageError) -> LanguageSwitch,
    ) -> Response<Body> {
        match next {
            // 303: the login and consent pages are fetched with GET whatever the method before.
            Ok(Next::Login(location) | Next::Consent(location) | Next::SecondFactor(location)) => {
                let mut response = response::redirect(&location);
                if response.status() == StatusCode::FOUND {
                    *response.status_mut() = StatusCode::SEE_OTHER;
                }
                self.remembered(response, lang)
            }
            Ok(Next::Code(location)) => self.remembered(response::redirect(&location), lang),
            Err(FlowError::Page(error)) => *self.error_page(&error, lang, switch(&error)),
            Err(FlowError::Redirect(redirect)) => redirect.error.into_redirect(
                &redirect.redirect_uri,
                redirect.state.as_deref(),
                self.flow.issuer(),
            ),
        }
    }
}

/// Paths of the routes, as the pages' language switches repeat them.
const AUTHORIZE_PATH: &str = "/oauth/authorize";
const LOGIN_PATH: &str = "/oauth/login";
const CONSENT_PATH: &str = "/oauth/consent";
const LOGOUT_PATH: &str = "/oauth/logout";

/// What the error pages of the login and consent steps keep when their switch repeats the request.
const SIGN_IN_STATE: [&str; 2] = ["request", csrf::FIELD];

/// The switch of an error page: the same request again (same method, `path`), with the `keep`
/// parameters (every parameter when `None`) and `lang`.
fn repeat(
    request: &Request,
    path: &'static str,
    params: &Params,
    keep: Option<&[&str]>,
) -> LanguageSwitch {
    let hidden: Vec<(&str, &str)> = params
        .iter()
        .filter(|(name, _)| keep.is_none_or(|keep| keep.contains(name)))
        .collect();
    if request.method() == Method::POST {
        LanguageSwitch::post(path, &hidden)
    } else {
        LanguageSwitch::get(path, &hidden)
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
    fn route(&self, request: &Request) -> Option<String> {
        self.router
            .route_name(request.method(), request.uri().path())
    }

    async fn handle(&self, request: Request) -> Response<Body> {
        self.dispatch(request)
            .await
            .unwrap_or_else(ApiError::into_response)
    }

    fn context(&self) -> &Context {
        &self.context
    }
}
