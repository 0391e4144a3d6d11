//! HTTP of the account pages: registration, address verification, the verification link sent
//! again, and password recovery. Only requests and responses here: the flows are
//! [`shared::account`].
//!
//! Every page carries the sealed sign-in request the patient came from (`request`, empty when
//! none) or the mailed link's `token`; a language switch repeats the page's GET with them. Forms
//! are checked against the CSRF cookie like the login form.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::account::link::LinkKind;
use shared::account::recovery::{Forgot, Reset};
use shared::account::registration::{Registered, RegistrationForm, Resent};
use shared::account::verification::Verified;
use shared::account::FieldError;
use shared::http::request::{source_ip, Params};
use shared::oauth::authorize::AuthorizationRequest;
use shared::oauth::csrf;
use shared::oauth::flow::session_clear_cookie;
use shared::pages;
use shared::pages::account::{
    EmailFormPage, NoticePage, RegisterPage, RegisterValues, ResetPage, VerifyPage,
};
use shared::pages::language::{LanguageSwitch, PageLanguage};

use super::{add_cookie, App, Early};

/// Paths of the account routes.
pub const REGISTER_PATH: &str = "/account/register";
/// See [`REGISTER_PATH`].
pub const VERIFY_PATH: &str = "/account/verify";
/// See [`REGISTER_PATH`].
pub const RESEND_PATH: &str = "/account/verify/resend";
/// See [`REGISTER_PATH`].
pub const FORGOT_PATH: &str = "/account/password/forgot";
/// See [`REGISTER_PATH`].
pub const RESET_PATH: &str = "/account/password/reset";

/// The sign-in a page carries: opened (if still good) and as sealed.
struct Pending {
    request: Option<AuthorizationRequest>,
    sealed: String,
}

impl App {
    pub(crate) async fn register_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.params(request, REGISTER_PATH)?;
        let (pending, lang) = self.pending(request, &params).await;
        let values = RegisterValues::default();
        Ok(self.register_form(
            request,
            &pending,
            &lang,
            StatusCode::OK,
            values,
            vec![],
            None,
        ))
    }

    pub(crate) async fn register_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.params(request, REGISTER_PATH)?;
        let (pending, lang) = self.pending(request, &params).await;
        self.check_csrf(request, &params, REGISTER_PATH, &lang)?;
        let field = |name: &str| params.get(name).ok().flatten().unwrap_or("");
        let form = RegistrationForm {
            email: field("email"),
            password: field("password"),
            given_name: field("given_name"),
            family_name: field("family_name"),
            birthdate: field("birthdate"),
            phone_number: field("phone_number"),
        };
        let outcome = self
            .accounts
            .register(
                &form,
                lang.tr.locale(),
                &ip(request),
                pending.request.clone(),
            )
            .await
            .map_err(|error| self.error_page(&error, &lang, switch(REGISTER_PATH, &pending)))?;
        let values = RegisterValues {
            email: form.email.trim(),
            given_name: form.given_name,
            family_name: form.family_name,
            birthdate: form.birthdate,
            phone_number: form.phone_number,
        };
        Ok(match outcome {
            Registered::MailSent => self.notice(&lang, &pending, "account-check-mail", false, None),
            Registered::Invalid(errors) => self.register_form(
                request,
                &pending,
                &lang,
                StatusCode::BAD_REQUEST,
                values,
                errors,
                None,
            ),
            Registered::Throttled => self.register_form(
                request,
                &pending,
                &lang,
                StatusCode::TOO_MANY_REQUESTS,
                values,
                vec![],
                Some("account-too-many"),
            ),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn register_form(
        &self,
        request: &Request,
        pending: &Pending,
        lang: &PageLanguage,
        status: StatusCode,
        values: RegisterValues<'_>,
        errors: Vec<FieldError>,
        alert: Option<&'static str>,
    ) -> Response<Body> {
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = RegisterPage {
            tr: lang.tr,
            switch: switch(REGISTER_PATH, pending),
            csrf_token: &token,
            request: &pending.sealed,
            values,
            errors,
            alert,
            token: None,
        };
        self.with_csrf(
            self.page(status, pages::render(&page), lang),
            &token,
            new_cookie,
        )
    }

    pub(crate) async fn verify_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.params(request, VERIFY_PATH)?;
        let token = params.get("token").ok().flatten().unwrap_or("");
        let lang = self
            .link_language(request, &params, LinkKind::Verify, token)
            .await;
        Ok(match self.accounts.check_verification(token).await {
            Verified::Ready(link) => {
                let (csrf_token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
                let page = VerifyPage {
                    tr: lang.tr,
                    switch: LanguageSwitch::get(VERIFY_PATH, &[("token", token)]),
                    email: &link.email,
                    csrf_token: &csrf_token,
                    token,
                };
                let response = self.page(StatusCode::OK, pages::render(&page), &lang);
                self.with_csrf(response, &csrf_token, new_cookie)
            }
            _ => self.link_invalid(&lang, RESEND_PATH, "account-resend-title"),
        })
    }

    pub(crate) async fn verify_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.params(request, VERIFY_PATH)?;
        let token = params.get("token").ok().flatten().unwrap_or("");
        let lang = self
            .link_language(request, &params, LinkKind::Verify, token)
            .await;
        self.check_csrf(request, &params, VERIFY_PATH, &lang)?;
        let switch = || LanguageSwitch::get(VERIFY_PATH, &[("token", token)]);
        match self.accounts.verify(token).await {
            Ok(Verified::Done(pending)) => {
                let next = self.continue_link(pending.map(|p| *p), "account-continue");
                Ok(self.notice_with(&lang, switch(), "account-verified", false, next))
            }
            Ok(_) => Ok(self.link_invalid(&lang, RESEND_PATH, "account-resend-title")),
            Err(error) => Err(self.error_page(&error, &lang, switch())),
        }
    }

    /// `/account/verify/resend` (GET form, POST sends) and `/account/password/forgot`: the two
    /// one-field forms.
    pub(crate) async fn resend(
        &self,
        request: &Request,
        post: bool,
    ) -> Result<Response<Body>, Early> {
        self.email_form(request, post, RESEND_PATH, "account-resend")
            .await
    }

    pub(crate) async fn forgot(
        &self,
        request: &Request,
        post: bool,
    ) -> Result<Response<Body>, Early> {
        self.email_form(request, post, FORGOT_PATH, "account-forgot")
            .await
    }

    async fn email_form(
        &self,
        request: &Request,
        post: bool,
        path: &'static str,
        words: &'static str,
    ) -> Result<Response<Body>, Early> {
        let params = self.params(request, path)?;
        let (pending, lang) = self.pending(request, &params).await;
        let email = params.get("email").ok().flatten().unwrap_or("").trim();
        if !post {
            return Ok(self.email_page(request, &pending, &lang, path, words, email, None));
        }
        self.check_csrf(request, &params, path, &lang)?;
        let ip = ip(request);
        let answer = if path == FORGOT_PATH {
            self.accounts
                .forgot(email, &ip, pending.request.clone())
                .await
                .map(|outcome| match outcome {
                    Forgot::Done => Ok(()),
                    Forgot::Invalid(error) => Err((StatusCode::BAD_REQUEST, error.message)),
                    Forgot::Throttled => Err((StatusCode::TOO_MANY_REQUESTS, "account-too-many")),
                })
        } else {
            self.accounts
                .resend_verification(email, &ip, pending.request.clone())
                .await
                .map(|outcome| match outcome {
                    Resent::Done => Ok(()),
                    Resent::Invalid(error) => Err((StatusCode::BAD_REQUEST, error.message)),
                    Resent::Throttled => Err((StatusCode::TOO_MANY_REQUESTS, "account-too-many")),
                })
        };
        Ok(match answer {
            Ok(Ok(())) => self.notice(&lang, &pending, "account-check-mail", false, Some(path)),
            Ok(Err((status, message))) => {
                let mut response =
                    self.email_page(request, &pending, &lang, path, words, email, Some(message));
                *response.status_mut() = status;
                response
            }
            Err(error) => *self.error_page(&error, &lang, switch(path, &pending)),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn email_page(
        &self,
        request: &Request,
        pending: &Pending,
        lang: &PageLanguage,
        path: &'static str,
        words: &'static str,
        email: &str,
        error: Option<&'static str>,
    ) -> Response<Body> {
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = EmailFormPage {
            tr: lang.tr,
            switch: switch(path, pending),
            words,
            action: path,
            csrf_token: &token,
            request: &pending.sealed,
            email,
            error,
        };
        let status = if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        self.with_csrf(
            self.page(status, pages::render(&page), lang),
            &token,
            new_cookie,
        )
    }

    pub(crate) async fn reset_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.params(request, RESET_PATH)?;
        let token = params.get("token").ok().flatten().unwrap_or("");
        let lang = self
            .link_language(request, &params, LinkKind::Reset, token)
            .await;
        match self.accounts.check_reset(token).await {
            Ok(Reset::Ready(_)) => Ok(self.reset_form(request, &lang, token, None)),
            Ok(Reset::Register { email, .. }) => {
                let values = RegisterValues {
                    email: &email,
                    ..RegisterValues::default()
                };
                Ok(self.claim_form(request, &lang, token, values, vec![]))
            }
            Ok(_) => Ok(self.link_invalid(&lang, FORGOT_PATH, "account-forgot-title")),
            Err(error) => {
                let switch = LanguageSwitch::get(RESET_PATH, &[("token", token)]);
                Err(self.error_page(&error, &lang, switch))
            }
        }
    }

    pub(crate) async fn reset_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.params(request, RESET_PATH)?;
        let token = params.get("token").ok().flatten().unwrap_or("");
        let lang = self
            .link_language(request, &params, LinkKind::Reset, token)
            .await;
        self.check_csrf(request, &params, RESET_PATH, &lang)?;
        let field = |name: &str| params.get(name).ok().flatten().unwrap_or("");
        let password = field("password");
        let sign_out_apps = field("sign_out_apps") == "yes";
        let switch = || LanguageSwitch::get(RESET_PATH, &[("token", token)]);
        // The registration form of a never-verified account's link sends the names.
        let claim = params.get("given_name").ok().flatten().is_some();
        let form = RegistrationForm {
            email: "",
            password,
            given_name: field("given_name"),
            family_name: field("family_name"),
            birthdate: field("birthdate"),
            phone_number: field("phone_number"),
        };
        let outcome = if claim {
            self.accounts.claim(token, &form, lang.tr.locale()).await
        } else {
            self.accounts.reset(token, password, sign_out_apps).await
        };
        match outcome {
            Ok(Reset::Register { email, errors }) => {
                let values = RegisterValues {
                    email: &email,
                    given_name: form.given_name,
                    family_name: form.family_name,
                    birthdate: form.birthdate,
                    phone_number: form.phone_number,
                };
                let status = if claim {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                };
                let mut response = self.claim_form(request, &lang, token, values, errors);
                *response.status_mut() = status;
                Ok(response)
            }
            Ok(Reset::Registered(pending)) => {
                let next = self.continue_link(pending.map(|p| *p), "account-continue");
                Ok(self.notice_with(&lang, switch(), "account-claimed", false, next))
            }
            Ok(Reset::Ready(error)) => {
                let mut response = self.reset_form(request, &lang, token, error.map(|e| e.message));
                *response.status_mut() = StatusCode::BAD_REQUEST;
                Ok(response)
            }
            Ok(Reset::Done(pending)) => {
                let next = self.continue_link(pending.map(|p| *p), "account-continue");
                let mut response =
                    self.notice_with(&lang, switch(), "account-password-changed", false, next);
                // Every session ended: this browser's cookie names none any more.
                add_cookie(&mut response, &session_clear_cookie(self.secure));
                Ok(response)
            }
            Ok(Reset::Invalid) => Ok(self.link_invalid(&lang, FORGOT_PATH, "account-forgot-title")),
            Err(error) => Err(self.error_page(&error, &lang, switch())),
        }
    }

    fn reset_form(
        &self,
        request: &Request,
        lang: &PageLanguage,
        token: &str,
        error: Option<&'static str>,
    ) -> Response<Body> {
        let (csrf_token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = ResetPage {
            tr: lang.tr,
            switch: LanguageSwitch::get(RESET_PATH, &[("token", token)]),
            csrf_token: &csrf_token,
            token,
            error,
        };
        let response = self.page(StatusCode::OK, pages::render(&page), lang);
        self.with_csrf(response, &csrf_token, new_cookie)
    }

    /// The registration form of a never-verified account's reset link: the address is the
    /// link's, and the fresh account replaces the unverified one.
    fn claim_form(
        &self,
        request: &Request,
        lang: &PageLanguage,
        token: &str,
        values: RegisterValues<'_>,
        errors: Vec<FieldError>,
    ) -> Response<Body> {
        let (csrf_token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = RegisterPage {
            tr: lang.tr,
            switch: LanguageSwitch::get(RESET_PATH, &[("token", token)]),
            csrf_token: &csrf_token,
            request: "",
            values,
            errors,
            alert: None,
            token: Some(token),
        };
        let response = self.page(StatusCode::OK, pages::render(&page), lang);
        self.with_csrf(response, &csrf_token, new_cookie)
    }

    /// The page of a link that no longer works, pointing to where a new one is asked for.
    fn link_invalid(
        &self,
        lang: &PageLanguage,
        again: &'static str,
        again_text: &'static str,
    ) -> Response<Body> {
        let mut response = self.notice_with(
            lang,
            LanguageSwitch::get(again, &[]),
            "account-link-invalid",
            true,
            Some((again.to_owned(), again_text)),
        );
        *response.status_mut() = StatusCode::BAD_REQUEST;
        response
    }

    /// A notice on a page that carries `pending` (its switch repeats `again`, or nothing).
    fn notice(
        &self,
        lang: &PageLanguage,
        pending: &Pending,
        id: &'static str,
        alert: bool,
        again: Option<&'static str>,
    ) -> Response<Body> {
        let switch = match again {
            Some(path) => switch(path, pending),
            None => switch(REGISTER_PATH, pending),
        };
        self.notice_with(lang, switch, id, alert, None)
    }

    fn notice_with(
        &self,
        lang: &PageLanguage,
        switch: LanguageSwitch,
        id: &'static str,
        alert: bool,
        link: Option<(String, &'static str)>,
    ) -> Response<Body> {
        let page = NoticePage {
            tr: lang.tr,
            switch,
            id,
            alert,
            link,
        };
        self.page(StatusCode::OK, pages::render(&page), lang)
    }

    /// The link back into the sign-in the patient came from, renewed.
    fn continue_link(
        &self,
        pending: Option<AuthorizationRequest>,
        text: &'static str,
    ) -> Option<(String, &'static str)> {
        let renewed = shared::account::renewed(pending?);
        match self.flow.login_location(&renewed) {
            Ok(location) => Some((location, text)),
            Err(error) => {
                tracing::warn!(?error, "the pending sign-in could not be renewed");
                None
            }
        }
    }

    /// The sign-in request a page carries (a bad or expired one is dropped: the detour works
    /// without it) and the page's language (the switch, the request's `ui_locales`, the cookie,
    /// `Accept-Language`).
    async fn pending(&self, request: &Request, params: &Params) -> (Pending, PageLanguage) {
        let sealed = params
            .get("request")
            .ok()
            .flatten()
            .filter(|s| !s.is_empty());
        let opened = match sealed {
            Some(_) => self.flow.open_request(sealed).await.ok(),
            None => None,
        };
        let lang = self.language(request, params, opened.as_ref().and_then(|r| r.ui_locale));
        let pending = Pending {
            sealed: match &opened {
                Some(_) => sealed.unwrap_or_default().to_owned(),
                None => String::new(),
            },
            request: opened,
        };
        (pending, lang)
    }

    /// The language of a mailed link's page: the switch, else the mail's language.
    async fn link_language(
        &self,
        request: &Request,
        params: &Params,
        kind: LinkKind,
        token: &str,
    ) -> PageLanguage {
        let mailed = self.accounts.link_language(kind, token).await;
        self.language(request, params, mailed)
    }

    fn with_csrf(&self, mut response: Response<Body>, token: &str, new: bool) -> Response<Body> {
        if new {
            add_cookie(&mut response, &csrf::set_cookie(token, self.secure));
        }
        response
    }
}

/// The language switch of a page carrying `pending`: its GET again.
fn switch(path: &'static str, pending: &Pending) -> LanguageSwitch {
    if pending.sealed.is_empty() {
        LanguageSwitch::get(path, &[])
    } else {
        LanguageSwitch::get(path, &[("request", &pending.sealed)])
    }
}

fn ip(request: &Request) -> String {
    // API Gateway's view of the caller, never a header the caller controls.
    source_ip(request).unwrap_or_else(|| "unknown".to_owned())
}
