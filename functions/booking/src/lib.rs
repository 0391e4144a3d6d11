//! The `booking` function: catalog, availabilities, booking, rescheduling, cancellation and video consultations.
//!
//! `main.rs` builds an [`App`] once per cold start; every request goes through [`App::handle`].
//! The flows live in [`shared::booking`]; this crate authenticates, parses and maps results.
//!
//! Storage round trips per request: catalog lists 0 (warm cache) or 1; availability search 1 (+1
//! on a cold catalog); `POST /booking` 1 (one transaction); `GET /appointments[/{id}]` 1;
//! `PUT` and `DELETE /appointments/{id}` 2 (the appointment must be read to know which slot it
//! holds, then one transaction, which also writes the ASAP outbox record of the freed slot), or 1
//! when `If-Match` carries the appointment's current `ETag` (served with `GET /appointments/{id}`
//! and with every reschedule);
//! `…/availabilities` 2; `…/video_consultation` 1; the video service's `POST /video/verify` 1 (0
//! for a token that does not verify). With inline ASAP dispatch (local) a freed slot then costs
//! the notifier's reads and writes in the same request.
//!
//! Every route about the patient's appointments is audited ([`Route::is_audited`],
//! [`shared::audit`]): changes carry their access record in their transaction (no extra round
//! trip); reads, refusals and replays add one put before answering. The counts above are the
//! handler's own, without that put.

use async_trait::async_trait;
use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::asap::confirm::{Confirmations, Requested};
use shared::asap::Notifier;
use shared::audit;
use shared::booking::repo::Idempotency;
use shared::booking::video::{VerifyRequest, VideoLinks, VERIFY_PATH};
use shared::booking::views::{IdResponse, RescheduleRequest};
use shared::booking::OutboxEvent;
use shared::booking::{
    Appointment, AppointmentId, BookRequest, BookingRepo, BookingService, SearchQuery,
};
use shared::boot::{Context, Handler};
use shared::config::AsapDispatch;
use shared::cors;
use shared::domain::client::ClientId;
use shared::domain::patient::PatientId;
use shared::http::request::{self, Params};
use shared::http::{response, ApiError, PathParams, Router};
use shared::store::now_unix;

/// Attempts of one inline ASAP dispatch (see [`App`]'s `notify`).
const INLINE_DISPATCH_ATTEMPTS: u32 = 3;

/// The routes this function serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `GET /api/portal/v1/insurances`
    Insurances,
    /// `GET /api/portal/v1/appointment_categories`
    Categories,
    /// `GET /api/portal/v1/appointment_types`
    Types,
    /// `GET /api/portal/v1/availabilities`
    Availabilities,
    /// `POST /api/portal/v1/booking`
    Book,
    /// `GET /api/portal/v1/appointments`
    Appointments,
    /// `GET /api/portal/v1/appointments/{id}`
    Appointment,
    /// `PUT /api/portal/v1/appointments/{id}`
    Reschedule,
    /// `DELETE /api/portal/v1/appointments/{id}`
    Cancel,
    /// `GET /api/portal/v1/appointments/{id}/availabilities`
    AppointmentAvailabilities,
    /// `GET /api/portal/v1/appointments/{id}/video_consultation`
    VideoConsultation,
}

impl Route {
    /// The scopes a token needs for this route (CONTRACT: both, always).
    pub fn required_scopes(self) -> [&'static str; 2] {
        match self {
            Route::Book | Route::Reschedule | Route::Cancel => {
                ["profile_read", "appointment_write"]
            }
            _ => ["profile_read", "appointment_read"],
        }
    }

    /// Whether the route reads or changes the patient's own data, so each request to it leaves
    /// an access record ([`shared::audit`]); the catalog and the availability search do not.
    pub fn is_audited(self) -> bool {
        !matches!(
            self,
            Route::Insurances | Route::Categories | Route::Types | Route::Availabilities
        )
    }
}

/// Method + path of every route of this function, as API Gateway and `cargo lambda watch` route them.
pub fn router() -> Router<Route> {
    Router::new(vec![
        (Method::GET, "/api/portal/v1/insurances", Route::Insurances),
        (
            Method::GET,
            "/api/portal/v1/appointment_categories",
            Route::Categories,
        ),
        (
            Method::GET,
            "/api/portal/v1/appointment_types",
            Route::Types,
        ),
        (
            Method::GET,
            "/api/portal/v1/availabilities",
            Route::Availabilities,
        ),
        (Method::POST, "/api/portal/v1/booking", Route::Book),
        (
            Method::GET,
            "/api/portal/v1/appointments",
            Route::Appointments,
        ),
        (
            Method::GET,
            "/api/portal/v1/appointments/{id}",
            Route::Appointment,
        ),
        (
            Method::PUT,
            "/api/portal/v1/appointments/{id}",
            Route::Reschedule,
        ),
        (
            Method::DELETE,
            "/api/portal/v1/appointments/{id}",
            Route::Cancel,
        ),
        (
            Method::GET,
            "/api/portal/v1/appointments/{id}/availabilities",
            Route::AppointmentAvailabilities,
        ),
        (
            Method::GET,
            "/api/portal/v1/appointments/{id}/video_consultation",
            Route::VideoConsultation,
        ),
    ])
}

/// The route the video service calls (not a bearer API route: the signed join token in the body
/// is the credential, and the answer says no more than the token already does, plus whether it
/// is still live).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceRoute {
    /// `POST /video/verify` with `{"token": "…"}`: whether a join link still admits.
    VerifyVideo,
}

/// Method + path of the routes the video service calls.
pub fn service_router() -> Router<ServiceRoute> {
    Router::new(vec![(Method::POST, VERIFY_PATH, ServiceRoute::VerifyVideo)])
}

/// The function's state, built once per instance (the catalog cache lives in it).
pub struct App {
    context: Context,
    router: Router<Route>,
    services: Router<ServiceRoute>,
    service: BookingService,
    notifier: Option<Notifier>,
    confirmations: Confirmations,
}

impl App {
    /// Builds the function around the shared init state; video links go to the configuration's
    /// video service (`PORTAL_VIDEO_BASE_URL`).
    pub fn new(context: Context) -> Self {
        let mailer = shared::mail::from_config(&context.config);
        Self::with_mailer(context, mailer)
    }

    /// Like [`App::new`], with the mailer of inline ASAP dispatch given (tests count what it sends).
    pub fn with_mailer(context: Context, mailer: shared::mail::SharedMailer) -> Self {
        let service = BookingService::new(
            BookingRepo::new(context.store.clone()),
            context.keys.clone(),
            context.config.issuer_str(),
            VideoLinks::new(context.config.video_base_url.clone()),
        );
        let notifier = (context.config.asap_dispatch == AsapDispatch::Inline)
            .then(|| Notifier::new(&context, mailer.clone()));
        Self {
            confirmations: Confirmations::new(&context, mailer),
            context,
            router: router(),
            services: service_router(),
            service,
            notifier,
        }
    }

    /// Inline ASAP dispatch (`PORTAL_ASAP_DISPATCH=inline`, the local default): the freed slot's
    /// emails go out right after the commit, as the stream would deliver them when deployed.
    /// Locally nothing delivers the event again, so a failed dispatch is tried again at once, as
    /// the stream would retry it (delivery records keep that from mailing twice). A failure is
    /// logged, never turned into an error: the change is committed and its outbox record stays.
    async fn notify(&self, freed: Option<OutboxEvent>, now: i64) {
        let (Some(notifier), Some(event)) = (&self.notifier, freed) else {
            return;
        };
        for attempt in 1..=INLINE_DISPATCH_ATTEMPTS {
            match notifier.dispatch(&event, now).await {
                Ok(_) => return,
                Err(error) if attempt == INLINE_DISPATCH_ATTEMPTS => {
                    tracing::warn!(event = %event.id, %error, "inline ASAP dispatch failed");
                }
                Err(error) => {
                    tracing::info!(event = %event.id, %error, attempt, "inline ASAP dispatch retried");
                }
            }
        }
    }

    /// The booking flows (tests use it to reach the repository).
    pub fn service(&self) -> &BookingService {
        &self.service
    }

    async fn dispatch(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let (route, params): (Route, PathParams) = self
            .router
            .resolve(request.method(), request.uri().path())?;
        let required = route.required_scopes();
        let checked = if route.is_audited() {
            self.context
                .authenticate_patient(request, &required, false)
                .await
        } else {
            self.context
                .authenticate(request, &required, false)
                .await
                .and_then(|claims| {
                    let patient = claims.patient_id()?;
                    Ok((claims, patient))
                })
        };
        let (claims, patient) = match checked {
            Ok(checked) => checked,
            Err(error) => return Ok(error.into_response()),
        };
        let patient = &patient;
        let now = now_unix();
        let query = request::query(request);
        let path_id = || {
            let id = AppointmentId::from_path(params.get("id").unwrap_or_default())?;
            audit::trail::resource(id.as_str());
            Ok::<_, ApiError>(id)
        };
        let ok = |value: &Value| response::json(StatusCode::OK, value);
        match route {
            Route::Insurances => Ok(ok(&self.service.insurances().await?)),
            Route::Categories => {
                let insurance = optional_id(&query, "insurance_id")?;
                Ok(ok(&self.service.categories(insurance).await?))
            }
            Route::Types => {
                let category = optional_id(&query, "category_id")?;
                let insurance = optional_id(&query, "insurance_id")?;
                Ok(ok(&self.service.types(category, insurance).await?))
            }
            Route::Availabilities => {
                let search = search_query(&query, true)?;
                let page = self.service.search(&search, now).await?;
                Ok(response::json(StatusCode::OK, &page))
            }
            Route::Book => {
                let client = match claims.client() {
                    Ok(client) => client,
                    Err(error) => return Ok(error.into_response()),
                };
                self.book(request, patient, &client, now).await
            }
            Route::Appointments => {
                let list = self
                    .service
                    .list(patient, query.get("limit")?, query.get("cursor")?)
                    .await?;
                Ok(ok(&list))
            }
            Route::Appointment => {
                let appointment = self.service.appointment(patient, &path_id()?).await?;
                Ok(self.tagged(ok(&appointment.to_json()), &appointment))
            }
            Route::Reschedule => {
                let body: RescheduleRequest = json_object(request)?;
                let header = if_match(request)?;
                let id = &path_id()?;
                let if_match = self.service.if_match(header.as_deref(), patient, id);
                let (appointment, freed) = self
                    .service
                    .reschedule(patient, id, &body.availability_id, if_match, now)
                    .await?;
                self.notify(freed, now).await;
                Ok(self.tagged(ok(&appointment.to_json()), &appointment))
            }
            Route::Cancel => {
                let header = if_match(request)?;
                let id = &path_id()?;
                let if_match = self.service.if_match(header.as_deref(), patient, id);
                let freed = self.service.cancel(patient, id, if_match, now).await?;
                self.notify(freed, now).await;
                Ok(response::json(
                    StatusCode::OK,
                    &IdResponse { id: id.to_string() },
                ))
            }
            Route::AppointmentAvailabilities => {
                let search = search_query(&query, false)?;
                let page = self
                    .service
                    .alternatives(patient, &path_id()?, &search, now)
                    .await?;
                Ok(response::json(StatusCode::OK, &page))
            }
            Route::VideoConsultation => {
                let link = self.service.video(patient, &path_id()?, now).await?;
                Ok(response::json(StatusCode::OK, &link))
            }
        }
    }

    /// `POST /video/verify`: `{"active": true, …}` while the join token's appointment is booked at
    /// the slot the link was minted for, `{"active": false}` for every other token.
    async fn verify_video(&self, request: &Request) -> Result<Response<Body>, ApiError> {
        let (ServiceRoute::VerifyVideo, _) = self
            .services
            .resolve(request.method(), request.uri().path())?;
        let body: VerifyRequest = json_object(request)?;
        let answer = self.service.verify_video(&body.token, now_unix()).await?;
        Ok(response::json(StatusCode::OK, &answer))
    }

    /// The answer with the appointment's `ETag`.
    fn tagged(&self, mut answer: Response<Body>, appointment: &Appointment) -> Response<Body> {
        if let Some(value) = self
            .service
            .etag(appointment)
            .and_then(|tag| HeaderValue::from_str(&tag).ok())
        {
            answer.headers_mut().insert(header::ETAG, value);
        }
        answer
    }

    /// `POST /booking`: `201 {"id"}` with `Location` and the new appointment's `ETag`; a retry with the same `Idempotency-Key` and
    /// body gets the same answer (and `Idempotent-Replayed: true`).
    async fn book(
        &self,
        request: &Request,
        patient: &PatientId,
        client: &ClientId,
        now: i64,
    ) -> Result<Response<Body>, ApiError> {
        let value: Value = json_object(request)?;
        let body: BookRequest = serde_json::from_value(value.clone()).map_err(|e| {
            ApiError::invalid_request(format!("the booking request is not valid: {e}"))
        })?;
        let idempotency = match single_header(request, "idempotency-key")? {
            None => None,
            Some(key) => Some(Idempotency::new(client, key, &value)?),
        };
        let mut booked = self.service.book(patient, &body, idempotency, now).await?;
        // A replayed booking wrote no transaction: its record names the appointment it answers with.
        audit::trail::resource(booked.id.as_str());
        if let Some(appointment) = &booked.appointment {
            // An ASAP address other than the account address is used only once confirmed.
            match self.confirmations.request(appointment, client, now).await {
                Ok(Requested::AccountAddress(confirmed)) => booked.appointment = Some(*confirmed),
                Ok(_) => {}
                // The booking stands; subscribing again sends another link.
                Err(e) => tracing::warn!(error = %e, "asap confirmation mail not sent"),
            }
        }
        let mut answer = response::json(
            StatusCode::CREATED,
            &IdResponse {
                id: booked.id.to_string(),
            },
        );
        let headers = answer.headers_mut();
        if let Ok(location) =
            HeaderValue::from_str(&format!("/api/portal/v1/appointments/{}", booked.id))
        {
            headers.insert(header::LOCATION, location);
        }
        if booked.replayed {
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
        }
        match &booked.appointment {
            Some(appointment) => Ok(self.tagged(answer, appointment)),
            None => Ok(answer),
        }
    }
}

/// A JSON object body decoded into `T` (400 naming the problem otherwise).
fn json_object<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
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

/// The `If-Match` field value: its lines joined into one list (RFC 9110 §5.3), or `None`.
fn if_match(request: &Request) -> Result<Option<String>, ApiError> {
    let lines = request
        .headers()
        .get_all(header::IF_MATCH)
        .iter()
        .map(|value| value.to_str().map(str::trim))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::invalid_request("the If-Match header is not valid text"))?;
    Ok((!lines.is_empty()).then(|| lines.join(", ")))
}

/// A header sent at most once, as text.
fn single_header<'a>(request: &'a Request, name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut values = request.headers().get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::invalid_request(format!(
            "the {name} header is repeated"
        )));
    }
    value
        .to_str()
        .map(|v| Some(v.trim()))
        .map_err(|_| ApiError::invalid_request(format!("the {name} header is not valid text")))
}

fn optional_id(query: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    match query.get(name)? {
        None => Ok(None),
        Some(text) => match text.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(Some(id)),
            _ => Err(ApiError::invalid_request(format!(
                "`{name}` must be a positive integer, got `{text}`"
            ))),
        },
    }
}

fn required_id(query: &Params, name: &str) -> Result<i64, ApiError> {
    optional_id(query, name)?
        .ok_or_else(|| ApiError::invalid_request(format!("parameter `{name}` is required")))
}

/// The search parameters; the three ids are required unless they come from an appointment.
fn search_query(query: &Params, with_ids: bool) -> Result<SearchQuery, ApiError> {
    let owned = |name: &str| -> Result<Option<String>, ApiError> {
        Ok(query.get(name)?.map(str::to_owned))
    };
    let (category_id, type_id, insurance_id) = if with_ids {
        (
            required_id(query, "category_id")?,
            required_id(query, "type_id")?,
            required_id(query, "insurance_id")?,
        )
    } else {
        (0, 0, 0)
    };
    Ok(SearchQuery {
        category_id,
        type_id,
        insurance_id,
        from: owned("from")?,
        to: owned("to")?,
        limit: owned("limit")?,
        cursor: owned("cursor")?,
    })
}

#[async_trait]
impl Handler for App {
    fn route(&self, request: &Request) -> Option<String> {
        let (method, path) = (request.method(), request.uri().path());
        self.router
            .route_name(method, path)
            .or_else(|| self.services.route_name(method, path))
    }

    /// The video service's check goes without CORS (no browser calls it); for every other path,
    /// answers CORS preflights, then routes, and every answer (errors included) carries the CORS
    /// headers for an allowed origin.
    async fn handle(&self, request: Request) -> Response<Body> {
        if request.uri().path() == VERIFY_PATH {
            // Server to server: no CORS.
            return self
                .verify_video(&request)
                .await
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
