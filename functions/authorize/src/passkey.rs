//! HTTP of passkeys: the sign-in page (`/oauth/passkey`), the account's passkey page
//! (`/account/mfa/passkeys`) and the ceremony script (`/oauth/passkey.js`). Only requests and
//! responses here: the flows are [`shared::oauth::passkey`].
//!
//! The two pages are the portal's only pages with a script: their Content-Security-Policy adds
//! `script-src 'self'` (no inline script, nothing from elsewhere) to the usual one; every other page
//! keeps `default-src 'none'`. Each page view offers a fresh challenge (stored five minutes); a
//! language switch is a GET of the page, so it offers a new one.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::http::request::{query, source_ip};
use shared::http::response::{self, HTML_CSP};
use shared::oauth::authorize::AuthorizationRequest;
use shared::oauth::csrf;
use shared::oauth::flow::session_set_cookie;
use shared::oauth::flow_error::PageError;
use shared::oauth::passkey::{Added, Removal, SignedIn};
use shared::pages::language::{LanguageSwitch, PageLanguage};
use shared::pages::passkey::{
    self as page, PasskeyItem, PasskeySignInPage, PasskeysPage, PASSKEYS_PATH, SIGN_IN_PATH,
};
use shared::pages::{self};
use shared::repo::Session;

use super::console::returns_to_account;
use super::{add_cookie, App, Early};

/// The ceremony script, compiled in.
const SCRIPT: &str = include_str!("../static/passkey.js");

/// The policy of the passkey pages: the usual one, plus this origin's scripts (the ceremony
/// script, loaded with `<script src>`).
fn with_script(mut response: Response<Body>) -> Response<Body> {
    let current = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|value| value.to_str().ok())
        .unwrap_or(HTML_CSP)
        .to_owned();
    let policy = current.replacen(
        "default-src 'none';",
        "default-src 'none'; script-src 'self';",
        1,
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

fn retry_after(response: &mut Response<Body>, seconds: u64) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
}

impl App {
    /// `GET /oauth/passkey.js`: the ceremony script, cached for a day (its path is fixed, so a
    /// change reaches browsers within a day).
    pub(crate) fn passkey_script(&self) -> Response<Body> {
        let mut response = Response::new(Body::from(SCRIPT));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=86400"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }

    /// `GET /oauth/passkey`: the passkey sign-in of a request (or of the account page).
    pub(crate) async fn passkey_sign_in_page(
        &self,
        request: &Request,
    ) -> Result<Response<Body>, Early> {
        let params = query(request);
        let lang = self.sign_in_language(request, &params).await;
        if returns_to_account(&params) {
            return self
                .passkey_sign_in_form(request, None, "", None, StatusCode::OK, &lang)
                .await;
        }
        let (authorization, sealed) = self.open(request, &params, SIGN_IN_PATH, &lang).await?;
        self.passkey_sign_in_form(
            request,
            Some(&authorization),
            sealed,
            None,
            StatusCode::OK,
            &lang,
        )
        .await
    }

    /// The sign-in page with a fresh challenge bound to the browser's CSRF token.
    async fn passkey_sign_in_form(
        &self,
        request: &Request,
        authorization: Option<&AuthorizationRequest>,
        sealed: &str,
        error: Option<&'static str>,
        status: StatusCode,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let switch = || sign_in_switch(sealed);
        if !self.passkeys.available() {
            return Err(self.error_page(&PageError::BadForm("error-passkeys-off"), lang, switch()));
        }
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let challenge = self
            .passkeys
            .begin_sign_in(&token)
            .await
            .map_err(|error| self.error_page(&error, lang, switch()))?;
        let page = PasskeySignInPage {
            tr: lang.tr,
            switch: switch(),
            client_name: authorization.map_or("", |a| a.client_name.as_str()),
            csrf_token: &token,
            request: sealed,
            ceremony: &challenge.ceremony_id,
            options: &challenge.options,
            error,
        };
        let mut response = self.page(status, pages::render(&page), lang);
        if let Some(authorization) = authorization {
            response = response::allow_form_redirect(response, &authorization.redirect_uri);
        }
        let mut response = with_script(response);
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        Ok(response)
    }

    /// `POST /oauth/passkey`: the authenticator's answer. A session with the passkey's methods,
    /// then the next step of the request (or the account page).
    pub(crate) async fn passkey_sign_in_submit(
        &self,
        request: &Request,
    ) -> Result<Response<Body>, Early> {
        let params = self.form(request, SIGN_IN_PATH)?;
        let lang = self.sign_in_language(request, &params).await;
        let token = self.check_csrf(request, &params, SIGN_IN_PATH, &lang)?;
        let account = returns_to_account(&params);
        let opened = if account {
            None
        } else {
            Some(self.open(request, &params, SIGN_IN_PATH, &lang).await?)
        };
        let (authorization, sealed) = match &opened {
            Some((authorization, sealed)) => (Some(authorization), *sealed),
            None => (None, ""),
        };
        let field = |name: &str| params.get(name).ok().flatten().unwrap_or("");
        let ip = source_ip(request).unwrap_or_else(|| "unknown".to_owned());
        let outcome = self
            .passkeys
            .finish_sign_in(
                field("ceremony"),
                token,
                field("credential"),
                &ip,
                self.session_cookie(request),
            )
            .await
            .map_err(|error| self.error_page(&error, &lang, sign_in_switch(sealed)))?;
        let again = |error, status| {
            self.passkey_sign_in_form(request, authorization, sealed, Some(error), status, &lang)
        };
        let (sid, session) = match outcome {
            SignedIn::Session(sid, session) => (sid, session),
            SignedIn::Expired => return again(page::EXPIRED, StatusCode::BAD_REQUEST).await,
            SignedIn::Refused => return again(page::REFUSED, StatusCode::UNAUTHORIZED).await,
            SignedIn::CounterRegressed => {
                return again(page::COUNTER, StatusCode::UNAUTHORIZED).await
            }
            SignedIn::Locked { retry_after: s } => {
                let mut response = again(page::TOO_MANY, StatusCode::TOO_MANY_REQUESTS).await?;
                retry_after(&mut response, s);
                return Ok(response);
            }
        };
        let mut response = match authorization {
            None => {
                tracing::info!("patient signed in to the account page with a passkey");
                self.back_to_account(None, &lang)
            }
            Some(authorization) => {
                tracing::info!(client_id = %authorization.client_id, "patient signed in with a passkey");
                // The passkey was used for this very request: `prompt=login` is met.
                let mut satisfied = authorization.clone();
                satisfied.prompt.login = false;
                let next = self.flow.proceed(&satisfied, Some(&session)).await;
                self.next_or_error(next, &lang, |_| sign_in_switch(sealed))
            }
        };
        add_cookie(&mut response, &session_set_cookie(&sid, self.secure));
        Ok(response)
    }

    /// `GET /account/mfa/passkeys`: the patient's passkeys and the form that adds one.
    pub(crate) async fn passkeys_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = query(request);
        let lang = self.sign_in_language(request, &params).await;
        let session = self.passkey_session(request, &lang).await?;
        self.passkeys_state(request, &session, Outcome::default(), StatusCode::OK, &lang)
            .await
    }

    /// `POST /account/mfa/passkeys`: `action=add` (the authenticator's answer to the page's
    /// challenge, and a name) or `action=remove` (a passkey's `id`, and the password).
    pub(crate) async fn passkeys_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.form(request, PASSKEYS_PATH)?;
        let lang = self.sign_in_language(request, &params).await;
        let token = self.check_csrf(request, &params, PASSKEYS_PATH, &lang)?;
        let session = self.passkey_session(request, &lang).await?;
        let field = |name: &str| params.get(name).ok().flatten().unwrap_or("");
        let fail = |error: PageError| self.error_page(&error, &lang, passkeys_switch());
        let patient_id = &session.patient_id;
        let ip = source_ip(request).unwrap_or_else(|| "unknown".to_owned());
        let (outcome, status, wait) = match field("action") {
            "remove" => {
                let removal = self
                    .passkeys
                    .remove(patient_id, field("id"), field("password"), &ip)
                    .await
                    .map_err(fail)?;
                match removal {
                    Removal::Removed => (Outcome::removed(), StatusCode::OK, None),
                    Removal::NotFound => (Outcome::default(), StatusCode::OK, None),
                    Removal::Refused => (
                        Outcome::error(page::REMOVAL_REFUSED),
                        StatusCode::UNAUTHORIZED,
                        None,
                    ),
                    Removal::Locked { retry_after } => (
                        Outcome::error(page::TOO_MANY),
                        StatusCode::TOO_MANY_REQUESTS,
                        Some(retry_after),
                    ),
                }
            }
            "add" => {
                let added = self
                    .passkeys
                    .finish_registration(
                        patient_id,
                        field("ceremony"),
                        token,
                        field("name"),
                        field("credential"),
                    )
                    .await
                    .map_err(fail)?;
                match added {
                    Added::Added(name) => {
                        if let Some(patient) = self
                            .patients
                            .get(patient_id)
                            .await
                            .map_err(|error| fail(PageError::from(error)))?
                        {
                            self.accounts.passkey_added_notice(&patient).await;
                        }
                        (Outcome::added(name), StatusCode::OK, None)
                    }
                    Added::Expired => {
                        (Outcome::error(page::EXPIRED), StatusCode::BAD_REQUEST, None)
                    }
                    Added::Refused => {
                        (Outcome::error(page::REFUSED), StatusCode::BAD_REQUEST, None)
                    }
                    Added::Duplicate => {
                        (Outcome::error(page::DUPLICATE), StatusCode::CONFLICT, None)
                    }
                }
            }
            _ => {
                let error = PageError::BadForm("error-missing-passkey-action");
                return Err(self.error_page(&error, &lang, passkeys_switch()));
            }
        };
        let mut response = self
            .passkeys_state(request, &session, outcome, status, &lang)
            .await?;
        if let Some(seconds) = wait {
            retry_after(&mut response, seconds);
        }
        Ok(response)
    }

    /// The passkey page: the list, and a fresh registration challenge.
    async fn passkeys_state(
        &self,
        request: &Request,
        session: &Session,
        outcome: Outcome,
        status: StatusCode,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let fail = |error: PageError| self.error_page(&error, lang, passkeys_switch());
        if !self.passkeys.available() {
            return Err(fail(PageError::BadForm("error-passkeys-off")));
        }
        let email = self.email_of(session).await.map_err(fail)?;
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let (list, challenge) = tokio::try_join!(
            self.passkeys.list(&session.patient_id),
            self.passkeys
                .begin_registration(&session.patient_id, &email, &token),
        )
        .map_err(fail)?;
        let items = PasskeyItem::list(lang.tr, list);
        let page = PasskeysPage {
            tr: lang.tr,
            switch: passkeys_switch(),
            csrf_token: &token,
            passkeys: &items,
            ceremony: &challenge.ceremony_id,
            options: &challenge.options,
            error: outcome.error,
            added: outcome.added.as_deref(),
            removed: outcome.removed,
        };
        let mut response = with_script(self.page(status, pages::render(&page), lang));
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        Ok(response)
    }

    /// The signed-in session of the passkey page, or a page asking the patient to sign in.
    async fn passkey_session(
        &self,
        request: &Request,
        lang: &PageLanguage,
    ) -> Result<Session, Early> {
        let session = self
            .flow
            .session(self.session_cookie(request))
            .await
            .map_err(|error| self.error_page(&error, lang, passkeys_switch()))?;
        match session {
            Some(session) => Ok(session),
            None => Err(Box::new(self.to_account_login(lang))),
        }
    }
}

/// What the last action on the passkey page did.
#[derive(Default)]
struct Outcome {
    error: Option<&'static str>,
    added: Option<String>,
    removed: bool,
}

impl Outcome {
    fn error(error: &'static str) -> Self {
        Self {
            error: Some(error),
            ..Self::default()
        }
    }
    fn added(name: String) -> Self {
        Self {
            added: Some(name),
            ..Self::default()
        }
    }
    fn removed() -> Self {
        Self {
            removed: true,
            ..Self::default()
        }
    }
}

/// The switch of the sign-in page: a GET of it with the same request (a new challenge).
fn sign_in_switch(sealed: &str) -> LanguageSwitch {
    if sealed.is_empty() {
        LanguageSwitch::get(SIGN_IN_PATH, &[("return", "account")])
    } else {
        LanguageSwitch::get(SIGN_IN_PATH, &[("request", sealed)])
    }
}

/// The switch of the account's passkey page: a GET of it.
fn passkeys_switch() -> LanguageSwitch {
    LanguageSwitch::get(PASSKEYS_PATH, &[])
}
