//! HTTP of the second factor: the code page of a sign-in (`/oauth/mfa`) and the authenticator-app
//! page of the account (`/account/mfa/totp`). Only requests and responses here: the flows are
//! [`shared::oauth::second_factor`].
//!
//! `/oauth/mfa` is reached two ways: by the login form's answer, for a patient with an
//! authenticator app (the page carries the sealed pending sign-in, and the session starts only
//! when the code is right), and by a redirect of the flow when a signed-in session is weaker than
//! the request asks for (step-up: the code upgrades that session; a patient without an app is sent
//! to set one up first and comes back here).

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::http::request::{query, source_ip, Params};
use shared::http::response;
use shared::oauth::authorize::AuthorizationRequest;
use shared::oauth::csrf;
use shared::oauth::error::append_query;
use shared::oauth::flow::session_set_cookie;
use shared::oauth::flow_error::PageError;
use shared::oauth::second_factor::{CodeCheck, Enrolment, Offer, Removal};
use shared::pages::language::{LanguageSwitch, PageLanguage};
use shared::pages::mfa::{
    self, grouped, CodePage, RecoveryCodesPage, TotpActivePage, TotpEnrolPage, CODE_PATH, TOTP_PATH,
};
use shared::pages::passkey::SIGN_IN_PATH;
use shared::pages::{self, MessagePage};
use shared::repo::Session;

use super::console::returns_to_account;
use super::{add_cookie, repeat, App, Early};

/// A failed attempt, as the page answers it.
fn failure(check: &CodeCheck) -> Option<(StatusCode, &'static str)> {
    match check {
        CodeCheck::Wrong => Some((StatusCode::UNAUTHORIZED, mfa::WRONG_CODE)),
        CodeCheck::Replayed => Some((StatusCode::UNAUTHORIZED, mfa::USED_CODE)),
        CodeCheck::Locked { .. } => Some((StatusCode::TOO_MANY_REQUESTS, mfa::TOO_MANY_CODES)),
        CodeCheck::Accepted | CodeCheck::NotEnrolled => None,
    }
}

fn retry_after(response: &mut Response<Body>, seconds: u64) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
}

/// The answer to a failed attempt: the form again with its message (and `Retry-After` when the
/// account is locked); `None` when the check did not fail.
fn refused(
    check: &CodeCheck,
    form_again: impl FnOnce(Option<&'static str>, StatusCode) -> Response<Body>,
) -> Option<Response<Body>> {
    let (status, message) = failure(check)?;
    let mut response = form_again(Some(message), status);
    if let CodeCheck::Locked {
        retry_after: seconds,
    } = check
    {
        retry_after(&mut response, *seconds);
    }
    Some(response)
}

impl App {
    /// `GET /oauth/mfa`: the step-up of a signed-in session.
    pub(crate) async fn code_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = query(request);
        let lang = self.sign_in_language(request, &params).await;
        let (authorization, sealed) = self.open(request, &params, CODE_PATH, &lang).await?;
        let session = self
            .signed_in(request, &authorization, &params, &lang)
            .await?;
        self.step_up(request, &authorization, sealed, &session, &lang)
            .await
    }

    /// The code form for a session that needs it, the setup page for a patient without an app,
    /// or the next step of the flow when the session is strong enough already.
    async fn step_up(
        &self,
        request: &Request,
        authorization: &AuthorizationRequest,
        sealed: &str,
        session: &Session,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let switch = |_: &PageError| LanguageSwitch::get(CODE_PATH, &[("request", sealed)]);
        let strong_enough = authorization
            .acr
            .is_none_or(|required| session.amr.acr() >= required);
        if strong_enough {
            let next = self.flow.proceed(authorization, Some(session)).await;
            return Ok(self.next_or_error(next, lang, switch));
        }
        let enrolled = self
            .second_factors
            .enrolled(&session.patient_id)
            .await
            .map_err(|error| self.error_page(&error, lang, switch(&error)))?;
        if !enrolled {
            // A patient whose second factor is a passkey steps up by signing in with it.
            let has_passkey = self.passkeys.available()
                && !self
                    .passkeys
                    .list(&session.patient_id)
                    .await
                    .map_err(|error| self.error_page(&error, lang, switch(&error)))?
                    .is_empty();
            let path = if has_passkey { SIGN_IN_PATH } else { TOTP_PATH };
            let page = format!("{}{path}", self.flow.issuer().trim_end_matches('/'));
            let location = append_query(&page, &[("request", sealed)]);
            return Ok(self.see_other(&location, lang));
        }
        Ok(self.code_form(
            request,
            authorization,
            sealed,
            "",
            None,
            StatusCode::OK,
            lang,
        ))
    }

    /// The code page (with a CSRF token, and its cookie if the browser has none).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn code_form(
        &self,
        request: &Request,
        authorization: &AuthorizationRequest,
        sealed: &str,
        pending: &str,
        error: Option<&'static str>,
        status: StatusCode,
        lang: &PageLanguage,
    ) -> Response<Body> {
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let mut page = CodePage::new(lang.tr, &authorization.client_name, &token, sealed, pending)
            .with_passkeys(self.passkeys.available());
        if let Some(error) = error {
            page = page.with_error(error);
        }
        let mut response = response::allow_form_redirect(
            self.page(status, pages::render(&page), lang),
            &authorization.redirect_uri,
        );
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        response
    }

    /// The code page of the account page's own sign-in (no app).
    pub(crate) fn account_code_form(
        &self,
        request: &Request,
        pending: &str,
        error: Option<&'static str>,
        status: StatusCode,
        lang: &PageLanguage,
    ) -> Response<Body> {
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let mut page = CodePage::for_account(lang.tr, &token, pending)
            .with_passkeys(self.passkeys.available());
        if let Some(error) = error {
            page = page.with_error(error);
        }
        let mut response = self.page(status, pages::render(&page), lang);
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        response
    }

    /// `POST /oauth/mfa` of the account page's sign-in: the session, then the account page.
    async fn account_code_submit(
        &self,
        request: &Request,
        params: &Params,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let pending_text = params.get("pending").ok().flatten().unwrap_or("");
        let keep = ["return", csrf::FIELD, "pending"];
        let switch = || repeat(request, CODE_PATH, params, Some(&keep));
        if lang.switched.is_some() {
            return Ok(self.account_code_form(request, pending_text, None, StatusCode::OK, lang));
        }
        let pending = self
            .second_factors
            .open_pending(pending_text)
            .await
            .map_err(|error| self.error_page(&error, lang, switch()))?;
        let code = params.get("code").ok().flatten().unwrap_or("");
        let ip = source_ip(request).unwrap_or_else(|| "unknown".to_owned());
        let check = self
            .second_factors
            .check_code(&pending.patient_id, code, &ip)
            .await
            .map_err(|error| self.error_page(&error, lang, switch()))?;
        if let Some(response) = refused(&check, |message, status| {
            self.account_code_form(request, pending_text, message, status, lang)
        }) {
            return Ok(response);
        }
        if check == CodeCheck::NotEnrolled {
            return Err(self.error_page(&PageError::RequestExpired, lang, switch()));
        }
        let (sid, _) = self
            .second_factors
            .complete(&pending, self.session_cookie(request))
            .await
            .map_err(|error| self.error_page(&error, lang, switch()))?;
        tracing::info!("patient signed in to the account page with two factors");
        let mut response = self.back_to_account(None, lang);
        add_cookie(&mut response, &session_set_cookie(&sid, self.secure));
        Ok(response)
    }

    /// `POST /oauth/mfa`: the code of a pending sign-in or of a step-up.
    pub(crate) async fn code_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.form(request, CODE_PATH)?;
        let lang = self.sign_in_language(request, &params).await;
        self.check_csrf(request, &params, CODE_PATH, &lang)?;
        if returns_to_account(&params) {
            return self.account_code_submit(request, &params, &lang).await;
        }
        let (authorization, sealed) = self.open(request, &params, CODE_PATH, &lang).await?;
        let pending_text = params.get("pending").ok().flatten().unwrap_or("");
        let keep = ["request", csrf::FIELD, "pending"];
        let switch = || repeat(request, CODE_PATH, &params, Some(&keep));
        let form_again = |error, status| {
            self.code_form(
                request,
                &authorization,
                sealed,
                pending_text,
                error,
                status,
                &lang,
            )
        };
        if lang.switched.is_some() {
            return Ok(form_again(None, StatusCode::OK));
        }
        let code = params.get("code").ok().flatten().unwrap_or("");
        let ip = source_ip(request).unwrap_or_else(|| "unknown".to_owned());
        if !pending_text.is_empty() {
            let pending = self
                .second_factors
                .open_pending(pending_text)
                .await
                .map_err(|error| self.error_page(&error, &lang, switch()))?;
            let check = self
                .second_factors
                .check_code(&pending.patient_id, code, &ip)
                .await
                .map_err(|error| self.error_page(&error, &lang, switch()))?;
            if let Some(response) = refused(&check, form_again) {
                return Ok(response);
            }
            if check == CodeCheck::NotEnrolled {
                return Err(self.error_page(&PageError::RequestExpired, &lang, switch()));
            }
            let (sid, session) = self
                .second_factors
                .complete(&pending, self.session_cookie(request))
                .await
                .map_err(|error| self.error_page(&error, &lang, switch()))?;
            tracing::info!(client_id = %authorization.client_id, "patient signed in with two factors");
            // The password and code were entered for this very request: `prompt=login` is met.
            let mut satisfied = authorization.clone();
            satisfied.prompt.login = false;
            let next = self.flow.proceed(&satisfied, Some(&session)).await;
            let mut response = self.next_or_error(next, &lang, |_| switch());
            add_cookie(&mut response, &session_set_cookie(&sid, self.secure));
            return Ok(response);
        }
        let session = self
            .signed_in(request, &authorization, &params, &lang)
            .await?;
        let check = self
            .second_factors
            .check_code(&session.patient_id, code, &ip)
            .await
            .map_err(|error| self.error_page(&error, &lang, switch()))?;
        if let Some(response) = refused(&check, form_again) {
            return Ok(response);
        }
        if check == CodeCheck::NotEnrolled {
            return self
                .step_up(request, &authorization, sealed, &session, &lang)
                .await;
        }
        let raw_sid = self.session_cookie(request).unwrap_or_default();
        let upgraded = self
            .second_factors
            .upgrade(raw_sid, &session)
            .await
            .map_err(|error| self.error_page(&error, &lang, switch()))?;
        tracing::info!(client_id = %authorization.client_id, "sign-in stepped up to two factors");
        let next = self.flow.proceed(&authorization, Some(&upgraded)).await;
        Ok(self.next_or_error(next, &lang, |_| switch()))
    }

    /// `GET /account/mfa/totp`: the setup page, or the app's status and removal form.
    pub(crate) async fn totp_page(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = query(request);
        let lang = self.sign_in_language(request, &params).await;
        let session = self.account_session(request, &params, &lang).await?;
        let back = params.get("request").ok().flatten().unwrap_or("");
        self.totp_state(request, &session, back, None, StatusCode::OK, &lang)
            .await
    }

    /// The page for the patient's state: the status page when an app is set up, else a fresh
    /// offer.
    async fn totp_state(
        &self,
        request: &Request,
        session: &Session,
        back: &str,
        error: Option<&'static str>,
        status: StatusCode,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let fail = |error: PageError| self.error_page(&error, lang, totp_switch(back));
        if self
            .second_factors
            .enrolled(&session.patient_id)
            .await
            .map_err(fail)?
        {
            return self
                .totp_active(request, session, error, status, lang)
                .await;
        }
        let email = self.email_of(session).await.map_err(fail)?;
        let offer = self
            .second_factors
            .offer(&session.patient_id, &email)
            .map_err(fail)?;
        Ok(self.totp_enrol(request, &offer, back, error, status, lang))
    }

    fn totp_enrol(
        &self,
        request: &Request,
        offer: &Offer,
        back: &str,
        error: Option<&'static str>,
        status: StatusCode,
        lang: &PageLanguage,
    ) -> Response<Body> {
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = TotpEnrolPage {
            tr: lang.tr,
            switch: LanguageSwitch::post(
                TOTP_PATH,
                &[
                    (csrf::FIELD, &token),
                    ("request", back),
                    ("enrolment", &offer.sealed),
                ],
            ),
            csrf_token: &token,
            request: back,
            enrolment: &offer.sealed,
            uri: &offer.uri,
            secret: grouped(&offer.secret),
            qr_svg: &offer.qr_svg,
            error,
            passkeys: self.passkeys.available(),
        };
        let mut response = self.page(status, pages::render(&page), lang);
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        response
    }

    async fn totp_active(
        &self,
        request: &Request,
        session: &Session,
        error: Option<&'static str>,
        status: StatusCode,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let recovery_left = self
            .second_factors
            .recovery_codes_left(&session.patient_id)
            .await
            .map_err(|error| self.error_page(&error, lang, totp_switch("")))?;
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = TotpActivePage {
            tr: lang.tr,
            switch: totp_switch(""),
            csrf_token: &token,
            recovery_left,
            error,
        };
        let mut response = self.page(status, pages::render(&page), lang);
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        Ok(response)
    }

    /// `POST /account/mfa/totp`: `action=confirm` (a code confirms the offered secret),
    /// `action=remove` (a current code, or the password and a recovery code), or the language
    /// switch (the same page again).
    pub(crate) async fn totp_submit(&self, request: &Request) -> Result<Response<Body>, Early> {
        let params = self.form(request, TOTP_PATH)?;
        let lang = self.sign_in_language(request, &params).await;
        self.check_csrf(request, &params, TOTP_PATH, &lang)?;
        let session = self.account_session(request, &params, &lang).await?;
        let field = |name: &str| params.get(name).ok().flatten().unwrap_or("");
        let back = field("request");
        let fail = |error: PageError| self.error_page(&error, &lang, totp_switch(back));
        let ip = source_ip(request).unwrap_or_else(|| "unknown".to_owned());
        let patient_id = &session.patient_id;
        if lang.switched.is_some() {
            if !field("shown").is_empty() {
                if let Some(codes) = self
                    .second_factors
                    .open_codes(patient_id, field("shown"))
                    .await
                {
                    return self.recovery_codes(request, patient_id, &codes, back, &lang);
                }
            }
            let offer = field("enrolment");
            return self
                .offered_again(request, &session, offer, back, None, StatusCode::OK, &lang)
                .await;
        }
        match field("action") {
            "remove" => {
                let removal = self
                    .second_factors
                    .remove(
                        patient_id,
                        field("code"),
                        field("password"),
                        field("recovery_code"),
                        &ip,
                    )
                    .await
                    .map_err(fail)?;
                match removal {
                    Removal::Removed => {
                        let page = MessagePage::notice(lang.tr, totp_switch(""), "totp-removed");
                        Ok(self.page(StatusCode::OK, pages::render(&page), &lang))
                    }
                    Removal::NotEnrolled => {
                        self.totp_state(request, &session, back, None, StatusCode::OK, &lang)
                            .await
                    }
                    Removal::Refused => {
                        let error = Some(mfa::REMOVAL_REFUSED);
                        self.totp_active(request, &session, error, StatusCode::UNAUTHORIZED, &lang)
                            .await
                    }
                    Removal::Locked { retry_after: s } => {
                        let error = Some(mfa::TOO_MANY_CODES);
                        let status = StatusCode::TOO_MANY_REQUESTS;
                        let mut response = self
                            .totp_active(request, &session, error, status, &lang)
                            .await?;
                        retry_after(&mut response, s);
                        Ok(response)
                    }
                }
            }
            _ => {
                let enrolment = self
                    .second_factors
                    .enrol(patient_id, field("enrolment"), field("code"), &ip)
                    .await
                    .map_err(fail)?;
                match enrolment {
                    Enrolment::Enrolled(codes) => {
                        // The code just proved the app: this session now has both factors.
                        let raw_sid = self.session_cookie(request).unwrap_or_default();
                        self.second_factors
                            .upgrade(raw_sid, &session)
                            .await
                            .map_err(fail)?;
                        self.recovery_codes(request, patient_id, &codes, back, &lang)
                    }
                    Enrolment::WrongCode => {
                        let status = StatusCode::UNAUTHORIZED;
                        let error = Some(mfa::WRONG_CODE);
                        self.offered_again(
                            request,
                            &session,
                            field("enrolment"),
                            back,
                            error,
                            status,
                            &lang,
                        )
                        .await
                    }
                    Enrolment::Locked { retry_after: s } => {
                        let status = StatusCode::TOO_MANY_REQUESTS;
                        let error = Some(mfa::TOO_MANY_CODES);
                        let mut response = self
                            .offered_again(
                                request,
                                &session,
                                field("enrolment"),
                                back,
                                error,
                                status,
                                &lang,
                            )
                            .await?;
                        retry_after(&mut response, s);
                        Ok(response)
                    }
                    Enrolment::Expired => {
                        let error = Some("totp-enrol-expired");
                        self.totp_state(request, &session, back, error, StatusCode::OK, &lang)
                            .await
                    }
                    Enrolment::AlreadyEnrolled => {
                        let error = Some("totp-already-enrolled");
                        self.totp_state(request, &session, back, error, StatusCode::OK, &lang)
                            .await
                    }
                }
            }
        }
    }

    /// The offer the form carried (`sealed`), shown again; a fresh one if it is no longer good.
    #[allow(clippy::too_many_arguments)]
    async fn offered_again(
        &self,
        request: &Request,
        session: &Session,
        sealed: &str,
        back: &str,
        error: Option<&'static str>,
        status: StatusCode,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let fail = |error: PageError| self.error_page(&error, lang, totp_switch(back));
        let email = self.email_of(session).await.map_err(fail)?;
        match self
            .second_factors
            .reoffer(&session.patient_id, sealed, &email)
            .await
            .map_err(fail)?
        {
            Some(offer) => Ok(self.totp_enrol(request, &offer, back, error, status, lang)),
            None => {
                self.totp_state(request, session, back, error, status, lang)
                    .await
            }
        }
    }

    /// The page that shows the recovery codes once (its switch carries them sealed).
    fn recovery_codes(
        &self,
        request: &Request,
        patient_id: &shared::domain::patient::PatientId,
        codes: &[String],
        back: &str,
        lang: &PageLanguage,
    ) -> Result<Response<Body>, Early> {
        let shown = self
            .second_factors
            .seal_codes(patient_id, codes)
            .map_err(|error| self.error_page(&error, lang, totp_switch(back)))?;
        let (token, new_cookie) = csrf::token_for_form(self.csrf_cookie(request));
        let page = RecoveryCodesPage {
            tr: lang.tr,
            switch: LanguageSwitch::post(
                TOTP_PATH,
                &[
                    (csrf::FIELD, token.as_str()),
                    ("request", back),
                    ("shown", &shown),
                ],
            ),
            codes,
            continue_to: (!back.is_empty()).then(|| back.to_owned()),
        };
        let mut response = self.page(StatusCode::OK, pages::render(&page), lang);
        if new_cookie {
            add_cookie(&mut response, &csrf::set_cookie(&token, self.secure));
        }
        Ok(response)
    }

    /// The signed-in session of an account page, or a page asking the patient to sign in.
    async fn account_session(
        &self,
        request: &Request,
        params: &Params,
        lang: &PageLanguage,
    ) -> Result<Session, Early> {
        let back = params.get("request").ok().flatten().unwrap_or("");
        let session = self
            .flow
            .session(self.session_cookie(request))
            .await
            .map_err(|error| self.error_page(&error, lang, totp_switch(back)))?;
        match session {
            Some(session) => Ok(session),
            None => Err(Box::new(self.to_account_login(lang))),
        }
    }

    pub(crate) async fn email_of(&self, session: &Session) -> Result<String, PageError> {
        match self.patients.get(&session.patient_id).await? {
            Some(patient) => Ok(patient.email.as_str().to_owned()),
            None => {
                tracing::error!("a live session names a patient that does not exist");
                Err(PageError::Internal)
            }
        }
    }
}

/// The switch of the account's authenticator-app page: a GET of it (with the sign-in it serves).
fn totp_switch(back: &str) -> LanguageSwitch {
    if back.is_empty() {
        LanguageSwitch::get(TOTP_PATH, &[])
    } else {
        LanguageSwitch::get(TOTP_PATH, &[("request", back)])
    }
}
