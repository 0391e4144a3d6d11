//! The `asap` function: the ASAP list (subscribe, unsubscribe, earlier availability), the
//! one-click unsubscribe link of its emails, and the notifier fed by the table's DynamoDB Stream.
//!
//! One Lambda handles every kind of event (see [`shared::boot::serve_events`]): API Gateway HTTP
//! requests, DynamoDB Stream batches of outbox records, and SNS deliveries of SES bounce and
//! complaint notifications ([`shared::asap::suppression`]), told apart by the records'
//! `eventSource` / `EventSource`. One binary keeps one deployment unit and one warm pool; the template gives the
//! stream its own event source mapping with a filter, partial batch failures and an on-failure
//! queue.
//!
//! Storage round trips: subscribe/unsubscribe 2 (read the appointment, then one transaction;
//! 1 when nothing changes), earlier availability 2 (the appointment, then one query of slot
//! counters), unsubscribe link 2, a stream record 2 + 3 per email (subscriber query, slot
//! counters; delivery claim, the patient's language and address, and mark). The API routes are
//! audited ([`shared::audit`]): a subscription change carries its access record in its
//! transaction; earlier availability and calls that change nothing add one put.
//!
//! The unsubscribe pages speak the language of the email the link came in (sealed into the
//! token), unless the patient chose another with the pages' language switch (remembered in the
//! same cookie as the sign-in pages') or, without either, what `Accept-Language` asks for.

use async_trait::async_trait;
use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::asap::confirm::{Confirmations, Confirmed, Requested};
use shared::asap::confirm_mail::CONFIRM_PATH;
use shared::asap::confirm_token::{ConfirmToken, PURPOSE as CONFIRM};
use shared::asap::message::UNSUBSCRIBE_PATH;
use shared::asap::stream::{handle_batch, is_stream_event};
use shared::asap::suppression::{handle_notifications, is_sns_event};
use shared::asap::unsubscribe::{UnsubscribeToken, PURPOSE as UNSUBSCRIBE};
use shared::asap::{AsapService, Notifier, UnsubscribeOutcome};
use shared::audit;
use shared::booking::video::VideoLinks;
use shared::booking::views::{self, AsapSubscribeRequest};
use shared::booking::{Appointment, AppointmentId, BookingError, BookingRepo, BookingService};
use shared::boot::{Context, EventHandler, Handler};
use shared::cors;
use shared::http::request;
use shared::http::{response, ApiError, PathParams, Router};
use shared::i18n::datetime;
use shared::i18n::negotiate::SWITCH_FIELD;
use shared::i18n::Locale;
use shared::keys::{KeySet, Purpose};
use shared::oauth::flow::secure_cookies;
use shared::pages::language::{self, LanguageSwitch, PageLanguage};
use shared::pages::{self, ConfirmPage, MessagePage, UnsubscribePage};
use shared::store::now_unix;

/// The routes this function serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /api/portal/v1/appointments/{id}/asap_list`
    Subscribe,
    /// `DELETE /api/portal/v1/appointments/{id}/asap_list`
    Unsubscribe,
    /// `GET /api/portal/v1/appointments/{id}/earlier_availability`
    EarlierAvailability,
}

impl Route {
    /// The scopes a token needs for this route (CONTRACT: both, always).
    pub fn required_scopes(self) -> [&'static str; 2] {
        match self {
            Route::Subscribe | Route::Unsubscribe => ["profile_read", "appointment_write"],
            Route::EarlierAvailability => ["profile_read", "appointment_read"],
        }
    }
}

/// Method + path of every route of this function, as API Gateway and `cargo lambda watch` route them.
pub fn router() -> Router<Route> {
    Router::new(vec![
        (
            Method::POST,
            "/api/portal/v1/appointments/{id}/asap_list",
            Route::Subscribe,
        ),
        (
            Method::DELETE,
            "/api/portal/v1/appointments/{id}/asap_list",
            Route::Unsubscribe,
        ),
        (
            Method::GET,
            "/api/portal/v1/appointments/{id}/earlier_availability",
            Route::EarlierAvailability,
        ),
    ])
}

/// The pages of the unsubscribe link in ASAP emails (not a bearer API: the sealed token in the
/// URL is the credential, as RFC 8058 one-click unsubscribe requires).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkRoute {
    /// `GET /asap/unsubscribe?token=`: the confirmation page.
    Confirm,
    /// `POST /asap/unsubscribe?token=`: unsubscribe (RFC 8058 one-click, or the page's button).
    Unsubscribe,
    /// `GET /asap/confirm?token=`: the page of an address confirmation link.
    ShowAddress,
    /// `POST /asap/confirm?token=` with `action=confirm` or `action=not_me`.
    ActOnAddress,
}

/// Method + path of the routes of links in mails (unsubscribe, address confirmation).
pub fn link_router() -> Router<LinkRoute> {
    Router::new(vec![
        (Method::GET, UNSUBSCRIBE_PATH, LinkRoute::Confirm),
        (Method::POST, UNSUBSCRIBE_PATH, LinkRoute::Unsubscribe),
        (Method::GET, CONFIRM_PATH, LinkRoute::ShowAddress),
        (Method::POST, CONFIRM_PATH, LinkRoute::ActOnAddress),
    ])
}

/// The function's state, built once per instance.
pub struct App {
    context: Context,
    router: Router<Route>,
    links: Router<LinkRoute>,
    service: AsapService,
    notifier: Notifier,
    confirmations: Confirmations,
}

impl App {
    /// Builds the function around the shared init state; mail goes where the configuration says.
    pub fn new(context: Context) -> Self {
        let mailer = shared::mail::from_config(&context.config);
        Self::with_mailer(context, mailer)
    }

    /// Like [`App::new`] with an explicit mailer (tests use a failing one).
    pub fn with_mailer(context: Context, mailer: shared::mail::SharedMailer) -> Self {
        let booking = BookingService::new(
            BookingRepo::new(context.store.clone()),
            context.keys.clone(),
            context.config.issuer_str(),
            VideoLinks::new(context.config.video_base_url.clone()),
        );
        let notifier = Notifier::new(&context, mailer.clone());
        Self {
            service: AsapService::new(booking, context.keys.clone()),
            confirmations: Confirmations::new(&context, mailer),
            notifier,
            router: router(),
            links: link_router(),
            context,
        }
    }

    /// The notifier (outbox events to emails).
    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    async fn dispatch(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let (route, params): (Route, PathParams) = self
            .router
            .resolve(request.method(), request.uri().path())?;
        // Every route reads or changes the patient's appointment: all are audited.
        let (claims, patient) = match self
            .context
            .authenticate_patient(request, &route.required_scopes(), false)
            .await
        {
            Ok(checked) => checked,
            Err(error) => return Ok(error.into_response()),
        };
        let patient = &patient;
        let path_id = || {
            let id = AppointmentId::from_path(params.get("id").unwrap_or_default())?;
            audit::trail::resource(id.as_str());
            Ok::<_, ApiError>(id)
        };
        let now = now_unix();
        match route {
            Route::Subscribe => {
                let body = subscribe_body(request)?;
                let (mut appointment, changed) = self
                    .service
                    .subscribe(patient, &path_id()?, body.email.as_deref(), now)
                    .await?;
                // An unchanged subscription mails nothing again (one read, no write).
                if let (true, Ok(client)) = (changed, claims.client()) {
                    match self.confirmations.request(&appointment, &client, now).await {
                        Ok(Requested::AccountAddress(confirmed)) => appointment = *confirmed,
                        Ok(_) => {}
                        // The subscription stands; subscribing again sends another link.
                        Err(e) => tracing::warn!(error = %e, "asap confirmation mail not sent"),
                    }
                }
                let tag = self.service.booking().etag(&appointment);
                Ok(subscription_response(&appointment, tag))
            }
            Route::Unsubscribe => {
                let appointment = self.service.unsubscribe(patient, &path_id()?, now).await?;
                let tag = self.service.booking().etag(&appointment);
                Ok(subscription_response(&appointment, tag))
            }
            Route::EarlierAvailability => {
                let found = self
                    .service
                    .earlier_availability(patient, &path_id()?, now)
                    .await?;
                Ok(response::json(
                    StatusCode::OK,
                    &views::EarlierAvailability {
                        appointment: found.appointment.view(),
                        availability: found.availability,
                    },
                ))
            }
        }
    }

    /// The unsubscribe link: HTML for people, and a plain 2xx for one-click POSTs.
    async fn link(&self, request: &Request) -> Response<Body> {
        let route = match self.links.resolve(request.method(), request.uri().path()) {
            Ok((route, _)) => route,
            Err(error) => return error.into_response(),
        };
        let query = request::query(request);
        let token = query.get("token").ok().flatten();
        let now = now_unix();
        let switch = query.get(SWITCH_FIELD).ok().flatten();
        let lang = self
            .link_language(
                request,
                switch,
                token,
                UNSUBSCRIBE,
                now,
                |keys, token, now| UnsubscribeToken::open(keys, token, now).ok()?.locale,
            )
            .await;
        let Some(token) = token else {
            return self.link_page(&lang, StatusCode::BAD_REQUEST, None, "unsubscribe-invalid");
        };
        let outcome = match route {
            LinkRoute::Confirm => match self.service.link(token, now).await {
                Ok((link, Some(appointment)))
                    if appointment.asap_opt_in
                        && appointment.asap_subscription_id.as_deref()
                            == Some(link.subscription_id.as_str()) =>
                {
                    let current = datetime::long(
                        lang.tr.locale(),
                        appointment.time_zone,
                        appointment.starts_at,
                    );
                    let action = format!(
                        "{UNSUBSCRIBE_PATH}?{}",
                        request.uri().query().unwrap_or_default()
                    );
                    let html = pages::render(&UnsubscribePage {
                        tr: lang.tr,
                        switch: link_switch(Some(token)),
                        type_name: &appointment.type_name,
                        current: &current,
                        action: &action,
                    });
                    return self.remembered(response::html(StatusCode::OK, html), &lang);
                }
                Ok(_) => Ok((StatusCode::GONE, "unsubscribe-already")),
                Err(error) => Err(error),
            },
            LinkRoute::Unsubscribe => match self.service.unsubscribe_by_link(token, now).await {
                Ok(UnsubscribeOutcome::Unsubscribed(_)) => Ok((StatusCode::OK, "unsubscribe-done")),
                Ok(UnsubscribeOutcome::AlreadyEnded) => {
                    Ok((StatusCode::GONE, "unsubscribe-already"))
                }
                Err(error) => Err(error),
            },
            // Routed by path to `address_link`; never here.
            LinkRoute::ShowAddress | LinkRoute::ActOnAddress => {
                Ok((StatusCode::NOT_FOUND, "unsubscribe-invalid"))
            }
        };
        let (status, id) = match outcome {
            Ok(page) => page,
            Err(BookingError::InvalidRequest(_)) => {
                (StatusCode::BAD_REQUEST, "unsubscribe-invalid")
            }
            Err(other) => match ApiError::from(other).status() {
                StatusCode::SERVICE_UNAVAILABLE => {
                    (StatusCode::SERVICE_UNAVAILABLE, "error-unavailable")
                }
                status => (status, "error-internal"),
            },
        };
        self.link_page(&lang, status, Some(token), id)
    }

    /// The confirmation link of an ASAP notification address: the page (GET), or confirm /
    /// "this wasn't me" (POST).
    async fn address_link(&self, request: &Request) -> Response<Body> {
        let route = match self.links.resolve(request.method(), request.uri().path()) {
            Ok((route, _)) => route,
            Err(error) => return error.into_response(),
        };
        let query = request::query(request);
        let token = query.get("token").ok().flatten();
        let now = now_unix();
        let switch = query.get(SWITCH_FIELD).ok().flatten();
        let lang = self
            .link_language(request, switch, token, CONFIRM, now, |keys, token, now| {
                ConfirmToken::open(keys, token, now).ok()?.locale
            })
            .await;
        let page = |status, id| self.address_page(&lang, status, token, id);
        let Some(token) = token else {
            return page(StatusCode::BAD_REQUEST, "confirm-invalid");
        };
        let link = match self.confirmations.link(token, now).await {
            Ok(link) => link,
            Err(BookingError::InvalidRequest(_)) => {
                return page(StatusCode::BAD_REQUEST, "confirm-invalid")
            }
            Err(error) => return page(failure_status(error), "error-internal"),
        };
        let outcome = match route {
            LinkRoute::ShowAddress => {
                let Some(appointment) = &link.appointment else {
                    return page(StatusCode::GONE, "confirm-already");
                };
                let when = datetime::long(
                    lang.tr.locale(),
                    appointment.time_zone,
                    appointment.starts_at,
                );
                let explanation = shared::i18n::catalog::message(
                    lang.tr.locale(),
                    "confirm-explanation",
                    &[
                        ("app", &link.token.app_name),
                        ("institution", &link.institution),
                        ("type", &appointment.type_name),
                        ("when", &when),
                    ],
                );
                let action = format!(
                    "{CONFIRM_PATH}?{}",
                    request.uri().query().unwrap_or_default()
                );
                let html = pages::render(&ConfirmPage {
                    tr: lang.tr,
                    switch: address_switch(Some(token)),
                    email: &link.token.email,
                    explanation,
                    action: &action,
                });
                return self.remembered(response::html(StatusCode::OK, html), &lang);
            }
            LinkRoute::ActOnAddress => {
                let form = request::form(request).unwrap_or_default();
                if form.get("action").ok().flatten() == Some("not_me") {
                    self.confirmations
                        .not_me(&link, now)
                        .await
                        .map(|()| (StatusCode::OK, "confirm-not-me-done"))
                } else {
                    self.confirmations
                        .confirm(&link, now)
                        .await
                        .map(|confirmed| match confirmed {
                            Confirmed::Now => (StatusCode::OK, "confirm-done"),
                            Confirmed::Already | Confirmed::Stale => {
                                (StatusCode::GONE, "confirm-already")
                            }
                        })
                }
            }
            // Routed by path to `link`; never here.
            LinkRoute::Confirm | LinkRoute::Unsubscribe => {
                return page(StatusCode::NOT_FOUND, "confirm-invalid")
            }
        };
        match outcome {
            Ok((status, id)) => page(status, id),
            Err(error) => page(failure_status(error), "error-internal"),
        }
    }

    /// A page of the confirmation link with catalog message `id`.
    fn address_page(
        &self,
        lang: &PageLanguage,
        status: StatusCode,
        token: Option<&str>,
        id: &str,
    ) -> Response<Body> {
        let alert = status.is_server_error() || status == StatusCode::BAD_REQUEST;
        let page = MessagePage::new(lang.tr, address_switch(token), id, &[], alert);
        self.remembered(response::html(status, pages::render(&page)), lang)
    }

    /// A page of the link with catalog message `id`; failures are alerts.
    fn link_page(
        &self,
        lang: &PageLanguage,
        status: StatusCode,
        token: Option<&str>,
        id: &str,
    ) -> Response<Body> {
        let alert = status.is_server_error() || status == StatusCode::BAD_REQUEST;
        let page = MessagePage::new(lang.tr, link_switch(token), id, &[], alert);
        self.remembered(response::html(status, pages::render(&page)), lang)
    }

    /// `response` with the language cookie when the page's switch was used.
    fn remembered(&self, mut response: Response<Body>, lang: &PageLanguage) -> Response<Body> {
        let cookie = lang
            .switched
            .map(|chosen| language::remember(chosen, self.secure()))
            .and_then(|cookie| HeaderValue::from_str(&cookie).ok());
        if let Some(cookie) = cookie {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        response
    }

    /// Whether cookies must be `Secure` (https issuer).
    /// The language of a mailed link's page: the switch, then the language the mail was written
    /// in (sealed in the link's token, read by `locale_of`), then the browser's.
    async fn link_language(
        &self,
        request: &Request,
        switch: Option<&str>,
        token: Option<&str>,
        purpose: Purpose,
        now: i64,
        locale_of: fn(&KeySet, &str, i64) -> Option<Locale>,
    ) -> PageLanguage {
        let mailed_in = match token {
            Some(token) => {
                let keys = self.context.keys.for_sealed(purpose, token).await;
                locale_of(&keys, token, now)
            }
            None => None,
        };
        language::choose(request, switch, None, mailed_in, self.secure())
    }

    fn secure(&self) -> bool {
        secure_cookies(&self.context.config)
    }
}

/// The language switch of the link's pages: the confirmation page again (GET), in another language.
fn link_switch(token: Option<&str>) -> LanguageSwitch {
    match token {
        Some(token) => LanguageSwitch::get(UNSUBSCRIBE_PATH, &[("token", token)]),
        None => LanguageSwitch::get(UNSUBSCRIBE_PATH, &[]),
    }
}

/// The language switch of the confirmation link's pages.
fn address_switch(token: Option<&str>) -> LanguageSwitch {
    match token {
        Some(token) => LanguageSwitch::get(CONFIRM_PATH, &[("token", token)]),
        None => LanguageSwitch::get(CONFIRM_PATH, &[]),
    }
}

/// The status of a page for a failure behind it (503 when the store is busy, else 500).
fn failure_status(error: BookingError) -> StatusCode {
    match ApiError::from(error).status() {
        StatusCode::SERVICE_UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn subscribe_body(request: &Request) -> Result<AsapSubscribeRequest, ApiError> {
    if request::body(request)?.iter().all(u8::is_ascii_whitespace) {
        return Ok(AsapSubscribeRequest { email: None });
    }
    let value: Value = request::json(request)?;
    if !value.is_object() {
        return Err(ApiError::BadRequest {
            code: "invalid_json",
            description: "the request body must be a JSON object".into(),
        });
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::invalid_request(format!("the request body is not valid: {e}")))
}

/// The subscription state, with the appointment's new `ETag` (the change made the old one
/// outdated for `If-Match`).
fn subscription_response(appointment: &Appointment, tag: Option<String>) -> Response<Body> {
    let mut answer = response::json(
        StatusCode::OK,
        &views::AsapSubscription {
            id: appointment.id.as_str().to_owned(),
            asap_list: views::AsapListState::of(appointment),
        },
    );
    if let Some(value) = tag.and_then(|tag| HeaderValue::from_str(&tag).ok()) {
        answer.headers_mut().insert(header::ETAG, value);
    }
    answer
}

#[async_trait]
impl Handler for App {
    fn route(&self, request: &Request) -> Option<String> {
        let (method, path) = (request.method(), request.uri().path());
        self.router
            .route_name(method, path)
            .or_else(|| self.links.route_name(method, path))
    }

    async fn handle(&self, request: Request) -> Response<Body> {
        if request.uri().path() == CONFIRM_PATH {
            return self.address_link(&request).await;
        }
        if request.uri().path() == UNSUBSCRIBE_PATH {
            // A page opened from an email: no CORS, the HTML protections of every page.
            return self.link(&request).await;
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

#[async_trait]
impl EventHandler for App {
    fn claims(&self, event: &Value) -> bool {
        is_stream_event(event) || is_sns_event(event)
    }

    async fn handle_event(&self, event: Value) -> Result<Value, lambda_http::Error> {
        if is_sns_event(&event) {
            return Ok(handle_notifications(&self.context.store, event, now_unix()).await?);
        }
        Ok(handle_batch(&self.notifier, event, now_unix()).await?)
    }
}
