//! HTTP of the account page (`/account` and its forms) and of the sign-in that leads to it: the
//! one place where [`shared::account`]'s outcomes become pages, redirects and cookies.
//!
//! - No fresh session: `GET /account` answers 303 to the login page with
//!   [`ACCOUNT_RETURN`] (a fixed value, not a URL: the login page can only ever return here), and
//!   a form post the same, so the patient signs in again and comes back.
//! - A form that was acted on answers 303 back to `/account?done=…` (so a reload repeats
//!   nothing); a refused one shows the page again with the alert beside its field.
//! - Every form carries the CSRF token; the page's language is the switch's, then the cookie's,
//!   then the patient's stored one, then `Accept-Language`.

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::account::link::LinkKind;
use shared::account::overview::Overview;
use shared::account::settings::ProfileForm;
use shared::account::Rejected;
use shared::domain::client::ClientId;
use shared::http::request::{query, source_ip, Params};
use shared::http::response;
use shared::i18n::negotiate::SWITCH_FIELD;
use shared::i18n::Locale;
use shared::oauth::csrf;
use shared::oauth::flow::{session_clear_cookie, session_set_cookie, Authentication, SignIn};
use shared::oauth::flow_error::PageError;
use shared::pages::console::{ConsolePage, Done, EmailConfirmPage, ProfileValues, ACCOUNT_RETURN};
use shared::pages::language::{self, LanguageSwitch, PageLanguage};
use shared::pages::{self, LoginPage, MessagePage};
use shared::repo::EmailChange;
use shared::repo::Session;

use super::{add_cookie, App, Early};

/// The account page.
pub const ACCOUNT_PATH: &str = "/account";

/// The account page's routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsoleRoute {
    /// `GET /account`
    Page,
    /// `POST /account/profile`
    Profile,
    /// `POST /account/password`
    Password,
    /// `POST /account/language`
    Language,
    /// `POST /account/apps/revoke`
    RevokeApp,
    /// `POST /account/sessions/end`
    SignOutEverywhere,
    /// `POST /account/delete`
    Delete,
    /// `POST /account/email`
    Email,
    /// `GET /account/email/confirm, POST /account/email/confirm` (the mailed link: no session
    /// needed, it may be opened on another device)
    EmailConfirm,
}

/// Method + path of every account page route.
pub const ROUTES: [(Method, &str, ConsoleRoute); 10] = [
    (Method::GET, ACCOUNT_PATH, ConsoleRoute::Page),
    (Method::POST, "/account/profile", ConsoleRoute::Profile),
    (Method::POST, "/account/password", ConsoleRoute::Password),
    (Method::POST, "/account/language", ConsoleRoute::Language),
    (
        Method::POST,
        "/account/apps/revoke",
        ConsoleRoute::RevokeApp,
    ),
    (
        Method::POST,
        "/account/sessions/end",
        ConsoleRoute::SignOutEverywhere,
    ),
    (Method::POST, "/account/delete", ConsoleRoute::Delete),
    (Method::POST, "/account/email", ConsoleRoute::Email),
    (Method::GET, EMAIL_CONFIRM_PATH, ConsoleRoute::EmailConfirm),
    (Method::POST, EMAIL_CONFIRM_PATH, ConsoleRoute::EmailConfirm),
];

/// The email-change link.
pub const EMAIL_CONFIRM_PATH: &str = "/account/email/confirm";

/// Whether a login form (or link) is the account page's sign-in.
pub fn returns_to_account(params: &Params) -> bool {
    let (field, value) = ACCOUNT_RETURN;
    params.get("request").ok().flatten().is_none()
        && matches!(params.get(field), Ok(Some(given)) if given == value)
}

impl App {
    /// The account page's form posts.
    pub(super) async fn console_post(
        &self,
        request: &Request,
        route: ConsoleRoute,
    ) -> Result<Response<Body>, Early> {
        let params = self.form(request, ACCOUNT_PATH)?;
        let lang = self.language(request, &params, None);
        self.check_csrf(request, &params, ACCOUNT_PATH, &lang)?;
        let Some((session, raw_sid)) = self.console_session(request, &lang).await? else {
            return Ok(self.to_account_login(&lang));
        };
        let ip = source_ip(request).unwrap_or_else(|| "unknown".to_owned());
        let field = |name: &str| params.get(name).ok().flatten().unwrap_or("");
        let done = |done: Done| Ok(self.back_to_account(Some(done), &lang));
        match route {
            ConsoleRoute::Page | ConsoleRoute::EmailConfirm => self.console_page(request).await,
            ConsoleRoute::Email => {
                let confirmed = self
                    .console
                    .confirm_password(&session, field("password"), &ip, "email_password")
                    .await;
                let outcome = match confirmed {
                    Ok(Ok((patient, _))) => {
                        self.accounts
                            .request_email_change(&patient, field("new_email"))
                            .await
                    }
                    other => other.map(|result| result.map(|_| ())),
                };
                match outcome {
                    Ok(Ok(())) => done(Done::EmailSent),
                    Ok(Err(rejected)) => {
                        self.refused(request, &session, rejected, None, &lang).await
                    }
                    Err(error) => Err(self.console_error(&error, &lang)),
                }
            }
            ConsoleRoute::Profile => {
                let form = ProfileForm {
                    given_name: field("given_name"),
                    family_name: field("family_name"),
                    birthdate: field("birthdate"),
                    phone_number: field("phone_number"),
                };
                match self.console.update_profile(&session, form).await {
                    Ok(Ok(())) => done(Done::Profile),
                    Ok(Err(rejected)) => {
                        let typed = ProfileValues {
                            given_name: form.given_name.to_owned(),
                            family_name: form.family_name.to_owned(),
                            birthdate: form.birthdate.to_owned(),
                            phone_number: form.phone_number.to_owned(),
                        };
                        self.refused(request, &session, rejected, Some(typed), &lang)
                            .await
                    }
                    Err(error) => Err(self.console_error(&error, &lang)),
                }
            }
            ConsoleRoute::Password => {
                let outcome = self
                    .console
                    .change_password(
                        &session,
                        &raw_sid,
                        field("current_password"),
                        field("new_password"),
                        &ip,
                    )
                    .await;
                match outcome {
                    Ok(Ok(patient)) => {
                        self.accounts
                            .password_changed(&patient.email, patient.locale)
                            .await;
                        done(Done::Password)
                    }
                    Ok(Err(rejected)) => {
                        self.refused(request, &session, rejected, None, &lang).await
                    }
                    Err(error) => Err(self.console_error(&error, &lang)),
                }
            }
            ConsoleRoute::Language => {
                let Some(locale) = params
                    .get(SWITCH_FIELD)
                    .ok()
                    .flatten()
                    .and_then(Locale::parse)
                else {
                    let error = PageError::BadForm("console-language-unknown");
                    return Err(self.console_error(&error, &lang));
                };
                self.console
                    .set_language(&session, locale)
                    .await
                    .map_err(|error| self.console_error(&error, &lang))?;
                let mut response = self.back_to_account(Some(Done::Language), &lang);
                add_cookie(&mut response, &language::remember(locale, self.secure));
                Ok(response)
            }
            ConsoleRoute::RevokeApp => {
                let Ok(client) = ClientId::parse(field("client_id")) else {
                    let error = PageError::BadForm("console-apps-unknown-client");
                    return Err(self.console_error(&error, &lang));
                };
                self.console
                    .revoke_app(&session.patient_id, &client)
                    .await
                    .map_err(|error| self.console_error(&error, &lang))?;
                done(Done::AppRemoved)
            }
            ConsoleRoute::SignOutEverywhere => {
                self.console
                    .sign_out_everywhere(&session)
                    .await
                    .map_err(|error| self.console_error(&error, &lang))?;
                Ok(self.farewell("console-signed-out-everywhere", &lang))
            }
            ConsoleRoute::Delete => {
                match self
                    .console
                    .delete_account(&session, field("password"), &ip)
                    .await
                {
                    Ok(Ok(_)) => Ok(self.farewell("console-deleted", &lang)),
                    Ok(Err(rejected)) => {
                        self.refused(request, &session, rejected, None, &lang).await
                    }
                    Err(error) => Err(self.console_error(&error, &lang)),
                }
            }
        }
    }

    /// `GET /account`.
    pub(super) async fn console_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = query(request);
        let lang = self.language(request, &params, None);
        let Some((session, _)) = self.console_session(request, &lang).await? else {
            return Ok(self.to_account_login(&lang));
        };
        let Some(overview) = self.overview(&session, &lang).await? else {
            return Ok(self.to_account_login(&lang));
        };
        let lang = self.console_language(request, &params, &overview);
        let done = params.get("done").ok().flatten().and_then(Done::parse);
        Ok(
            self.console_form(request, &overview, &lang, StatusCode::OK, |page| {
                page.with_done(done)
            }),
        )
    }

    /// The page again with a refused form's alert: 429 for a throttled password, else 400.
    async fn refused(
        &self,
        request: &Request,
        session: &Session,
        rejected: Rejected,
        typed: Option<ProfileValues>,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let Some(overview) = self.overview(session, lang).await? else {
            return Ok(self.to_account_login(lang));
        };
        let status = if rejected.message == pages::TOO_MANY_ATTEMPTS {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::BAD_REQUEST
        };
        let lang = self.console_language(request, &query(request), &overview);
        Ok(
            self.console_form(request, &overview, &lang, status, |page| {
                page.with_error(rejected, typed)
            }),
        )
    }

    fn console_form(
        &self,
        request: &Request,
        overview: &Overview,
        lang: &PageLanguage,
        status: StatusCode,
        finish: impl FnOnce(ConsolePage) -> ConsolePage,
    ) -> Response<Body> {
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = finish(ConsolePage::new(
            lang.tr,
            &token,
            overview,
            self.context.config.time_zone,
        ));
        let mut response = self.page(status, pages::render(&page), lang);
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        response
    }

    /// The page's language: as [`App::language`], with the patient's stored language before
    /// `Accept-Language`.
    fn console_language(
        &self,
        request: &Request,
        params: &Params,
        overview: &Overview,
    ) -> PageLanguage {
        let switch = params.get(SWITCH_FIELD).ok().flatten();
        language::choose(
            request,
            switch,
            None,
            Some(overview.patient.locale),
            self.secure,
        )
    }

    /// The fresh session of the cookie and its raw id, if any.
    async fn console_session(
        &self,
        request: &Request,
        lang: &PageLanguage,
    ) -> Result<Option<(Session, String)>, Early> {
        let raw = self.session_cookie(request);
        let session = self
            .console
            .session(raw)
            .await
            .map_err(|error| self.console_error(&error, lang))?;
        Ok(session.zip(raw.map(str::to_owned)))
    }

    async fn overview(
        &self,
        session: &Session,
        lang: &PageLanguage,
    ) -> Result<Option<Overview>, Early> {
        self.console
            .overview(session)
            .await
            .map_err(|error| self.console_error(&error, lang))
    }

    /// 303 to the account page's sign-in.
    pub(super) fn to_account_login(&self, lang: &PageLanguage) -> Response<Body> {
        let (field, value) = ACCOUNT_RETURN;
        let location = format!(
            "{}/oauth/login?{field}={value}",
            self.flow.issuer().trim_end_matches('/')
        );
        self.see_other(&location, lang)
    }

    /// 303 to the account page, with the notice of `done`.
    pub(super) fn back_to_account(
        &self,
        done: Option<Done>,
        lang: &PageLanguage,
    ) -> Response<Body> {
        let mut location = format!("{}{ACCOUNT_PATH}", self.flow.issuer().trim_end_matches('/'));
        if let Some(done) = done {
            location.push_str("?done=");
            location.push_str(done.name());
        }
        self.see_other(&location, lang)
    }

    pub(super) fn see_other(&self, location: &str, lang: &PageLanguage) -> Response<Body> {
        let mut response = response::redirect(location);
        if response.status() == StatusCode::FOUND {
            *response.status_mut() = StatusCode::SEE_OTHER;
        }
        self.remembered(response, lang)
    }

    /// The page after the session ended (signed out everywhere, account deleted), which also
    /// clears the session cookie.
    fn farewell(&self, message: &str, lang: &PageLanguage) -> Response<Body> {
        let page = MessagePage::notice(lang.tr, LanguageSwitch::get(ACCOUNT_PATH, &[]), message);
        let mut response = self.page(StatusCode::OK, pages::render(&page), lang);
        add_cookie(&mut response, &session_clear_cookie(self.secure));
        response
    }

    fn console_error(&self, error: &PageError, lang: &PageLanguage) -> Early {
        self.error_page(error, lang, LanguageSwitch::get(ACCOUNT_PATH, &[]))
    }

    /// The login page of the account page's sign-in, with an alert `error` (and its status).
    pub(super) fn account_login_form(
        &self,
        request: &Request,
        email: &str,
        lang: &PageLanguage,
        error: Option<(StatusCode, &'static str)>,
    ) -> Response<Body> {
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let mut page = LoginPage::for_account(lang.tr, &token)
            .with_email(email)
            .with_register(self.accounts.self_registration())
            .with_passkeys(self.passkeys.available());
        if let Some((_, message)) = error {
            page = page.with_error(message);
        }
        let status = error.map_or(StatusCode::OK, |(status, _)| status);
        let mut response = self.page(status, pages::render(&page), lang);
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        response
    }

    /// `POST /oauth/login` of the account page's sign-in (CSRF already checked): a session and
    /// 303 to `/account`, or the form again with the reason.
    pub(super) async fn account_sign_in(
        &self,
        request: &Request,
        params: &Params,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let email = params.get("email").ok().flatten().unwrap_or("");
        let password = params.get("password").ok().flatten().unwrap_or("");
        let ip = source_ip(request).unwrap_or_else(|| "unknown".to_owned());
        let outcome = self
            .flow
            .authenticate(email, password, &ip, self.session_cookie(request))
            .await
            .map_err(|error| self.console_error(&error, lang))?;
        let retry = |status, message| {
            self.account_login_form(request, email.trim(), lang, Some((status, message)))
        };
        Ok(match outcome {
            Authentication::SignedIn { sid, .. } => {
                tracing::info!("patient signed in to the account page");
                let mut response = self.back_to_account(None, lang);
                add_cookie(&mut response, &session_set_cookie(&sid, self.secure));
                response
            }
            Authentication::NotSignedIn(answer) => match answer {
                SignIn::SecondFactor { pending } => {
                    self.account_code_form(request, &pending, None, StatusCode::OK, lang)
                }
                SignIn::Incomplete => retry(StatusCode::BAD_REQUEST, pages::MISSING_CREDENTIALS),
                SignIn::Unverified { .. } => retry(StatusCode::FORBIDDEN, pages::UNVERIFIED),
                SignIn::Locked { retry_after } => {
                    let mut response =
                        retry(StatusCode::TOO_MANY_REQUESTS, pages::TOO_MANY_ATTEMPTS);
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                    response
                }
                SignIn::Rejected | SignIn::SignedIn { .. } => {
                    retry(StatusCode::UNAUTHORIZED, pages::BAD_CREDENTIALS)
                }
            },
        })
    }
}

impl App {
    /// `GET /account/email/confirm` shows the button, `POST` changes the address. No session
    /// needed: the link proves the new mailbox, and the change is bound to the account, its old
    /// address and its password at the time (see `shared::account::email_change`).
    pub(super) async fn email_confirm(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.params(request, EMAIL_CONFIRM_PATH)?;
        let token = params.get("token").ok().flatten().unwrap_or("");
        let mailed = self
            .accounts
            .link_language(LinkKind::EmailChange, token)
            .await;
        let lang = self.language(request, &params, mailed);
        let switch = || LanguageSwitch::get(EMAIL_CONFIRM_PATH, &[("token", token)]);
        if request.method() == Method::GET {
            let Some(link) = self.accounts.email_change_link(token).await else {
                return Ok(self.link_outcome("console-email-link-invalid", true, &lang, switch()));
            };
            let (csrf_token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
            let page = EmailConfirmPage {
                tr: lang.tr,
                switch: switch(),
                email: &link.email,
                csrf_token: &csrf_token,
                token,
            };
            let mut response = self.page(StatusCode::OK, pages::render(&page), &lang);
            if new_cookie {
                add_cookie(&mut response, &csrf::set_cookie(&csrf_token, self.secure));
            }
            return Ok(response);
        }
        self.check_csrf(request, &params, EMAIL_CONFIRM_PATH, &lang)?;
        let outcome = self
            .accounts
            .confirm_email_change(token)
            .await
            .map_err(|error| self.error_page(&error, &lang, switch()))?;
        Ok(match outcome {
            EmailChange::Changed => {
                self.link_outcome("console-email-changed", false, &lang, switch())
            }
            EmailChange::Taken => self.link_outcome("console-email-taken", true, &lang, switch()),
            EmailChange::Stale => {
                self.link_outcome("console-email-link-invalid", true, &lang, switch())
            }
        })
    }

    fn link_outcome(
        &self,
        message: &str,
        alert: bool,
        lang: &PageLanguage,
        switch: LanguageSwitch,
    ) -> Response<Body> {
        let page = MessagePage::new(lang.tr, switch, message, &[], alert);
        let status = if alert {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        self.page(status, pages::render(&page), lang)
    }
}
