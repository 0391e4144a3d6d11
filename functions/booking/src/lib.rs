//! The `booking` function: catalog, availabilities, booking, rescheduling, cancellation and video consultations.
//!
//! `main.rs` builds an [`App`] once per cold start; every request goes through [`App::handle`].

use async_trait::async_trait;
use lambda_http::{http::Method, Body, Request, Response};
use shared::boot::{Context, Handler};
use shared::http::{ApiError, PathParams, Router};

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

/// Method + path of every route of this function, as API Gateway and `cargo lambda watch` route them.
pub fn router() -> Router<Route> {
    Router::new(vec![
            (Method::GET, "/api/portal/v1/insurances", Route::Insurances),
            (Method::GET, "/api/portal/v1/appointment_categories", Route::Categories),
            (Method::GET, "/api/portal/v1/appointment_types", Route::Types),
            (Method::GET, "/api/portal/v1/availabilities", Route::Availabilities),
            (Method::POST, "/api/portal/v1/booking", Route::Book),
            (Method::GET, "/api/portal/v1/appointments", Route::Appointments),
            (Method::GET, "/api/portal/v1/appointments/{id}", Route::Appointment),
            (Method::PUT, "/api/portal/v1/appointments/{id}", Route::Reschedule),
            (Method::DELETE, "/api/portal/v1/appointments/{id}", Route::Cancel),
            (Method::GET, "/api/portal/v1/appointments/{id}/availabilities", Route::AppointmentAvailabilities),
            (Method::GET, "/api/portal/v1/appointments/{id}/video_consultation", Route::VideoConsultation),
    ])
}

/// The function's state, built once per instance.
pub struct App {
    #[allow(dead_code)]
    context: Context,
    router: Router<Route>,
}

impl App {
    /// Builds the function around the shared init state.
    pub fn new(context: Context) -> Self {
        Self {
            context,
            router: router(),
        }
    }

    async fn dispatch(&self, request: Request) -> Result<Response<Body>, ApiError> {
        let (route, _params): (Route, PathParams) = self
            .router
            .resolve(request.method(), request.uri().path())?;
        match route {
            Route::Insurances => Err(ApiError::NotImplemented("Insurances")),
            Route::Categories => Err(ApiError::NotImplemented("Categories")),
            Route::Types => Err(ApiError::NotImplemented("Types")),
            Route::Availabilities => Err(ApiError::NotImplemented("Availabilities")),
            Route::Book => Err(ApiError::NotImplemented("Book")),
            Route::Appointments => Err(ApiError::NotImplemented("Appointments")),
            Route::Appointment => Err(ApiError::NotImplemented("Appointment")),
            Route::Reschedule => Err(ApiError::NotImplemented("Reschedule")),
            Route::Cancel => Err(ApiError::NotImplemented("Cancel")),
            Route::AppointmentAvailabilities => Err(ApiError::NotImplemented("AppointmentAvailabilities")),
            Route::VideoConsultation => Err(ApiError::NotImplemented("VideoConsultation")),
        }
    }
}

#[async_trait]
impl Handler for App {
    async fn handle(&self, request: Request) -> Response<Body> {
        self.dispatch(request)
            .await
            .unwrap_or_else(ApiError::into_response)
    }
}
