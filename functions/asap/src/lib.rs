//! The `asap` function: the ASAP list: subscribe, unsubscribe and earlier availability.
//!
//! `main.rs` builds an [`App`] once per cold start; every request goes through [`App::handle`].

use async_trait::async_trait;
use lambda_http::{http::Method, Body, Request, Response};
use shared::boot::{Context, Handler};
use shared::http::{ApiError, PathParams, Router};

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
            Route::Subscribe => Err(ApiError::NotImplemented("Subscribe")),
            Route::Unsubscribe => Err(ApiError::NotImplemented("Unsubscribe")),
            Route::EarlierAvailability => Err(ApiError::NotImplemented("EarlierAvailability")),
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
