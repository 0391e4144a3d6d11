//! The patient's side of the resource API in handler tests: a patient holding a bearer token,
//! requests to [`API`], and reading responses.

use lambda_http::{Body, Response};
use serde_json::{json, Value};
use shared::boot::{Context, Handler};
use shared::domain::patient::PatientId;

use crate::catalog::INSURANCE;
use crate::events::Event;
use crate::tokens::access_token;

/// Base path of the resource API.
pub const API: &str = "/api/portal/v1";

/// Every portal scope: what the booking and ASAP routes need between them.
pub const PORTAL_SCOPE: &str = "openid profile_read appointment_read appointment_write";

/// A patient (fresh random id, nothing stored) holding a bearer token.
pub struct ApiPatient {
    /// The patient id (`sub`).
    pub id: String,
    /// `Bearer …`.
    pub bearer: String,
}

impl ApiPatient {
    /// A patient with every portal scope.
    pub fn new(context: &Context) -> Self {
        Self::with_scope(context, PORTAL_SCOPE)
    }

    /// A patient whose token carries `scope`.
    pub fn with_scope(context: &Context, scope: &str) -> Self {
        Self::signed(context, PatientId::generate().as_str(), scope)
    }

    /// The stored patient `id` (whose account a handler reads) with every portal scope.
    pub fn existing(context: &Context, id: &str) -> Self {
        Self::signed(context, id, PORTAL_SCOPE)
    }

    fn signed(context: &Context, id: &str, scope: &str) -> Self {
        Self {
            bearer: format!("Bearer {}", access_token(context, id, scope)),
            id: id.to_owned(),
        }
    }

    /// `GET {API}{path}`.
    pub fn get(&self, path: &str) -> Event {
        self.event("GET", path)
    }

    /// `POST {API}{path}` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Event {
        self.event("POST", path).json(body)
    }

    /// `PUT {API}{path}` with a JSON body.
    pub fn put(&self, path: &str, body: &Value) -> Event {
        self.event("PUT", path).json(body)
    }

    /// `DELETE {API}{path}`.
    pub fn delete(&self, path: &str) -> Event {
        self.event("DELETE", path)
    }

    fn event(&self, method: &str, path: &str) -> Event {
        Event::new(method, &format!("{API}{path}")).header("authorization", &self.bearer)
    }
}

/// The body of `POST {API}/booking` for an availability of the demo insurance ([`INSURANCE`]).
pub fn book_request(availability_id: &str) -> Value {
    json!({ "availability_id": availability_id, "insurance_id": INSURANCE })
}

/// Sends one event to a function.
pub async fn call(app: &impl Handler, event: Event) -> Response<Body> {
    app.handle(event.request()).await
}

/// The JSON body of a response.
///
/// # Panics
/// When the body is not JSON (the message shows it).
pub fn body(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", response.body()))
}

/// The body of a response as text.
///
/// # Panics
/// When the body is not UTF-8.
pub fn text(response: &Response<Body>) -> String {
    String::from_utf8(response.body().to_vec()).unwrap_or_else(|e| panic!("not UTF-8 text: {e}"))
}

/// A response header that must be there, as text.
///
/// # Panics
/// When the header is missing or not visible ASCII.
pub fn header<'r>(response: &'r Response<Body>, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap_or_else(|e| panic!("the {name} header is not text: {e}"))
}

/// Sends an event that must answer 200; its JSON body.
pub async fn ok(app: &impl Handler, event: Event) -> Value {
    let response = call(app, event).await;
    assert_eq!(response.status(), 200, "{}", body(&response));
    body(&response)
}

/// A local date `days` from today (UTC), as the API's `from`/`to` parameters take it.
pub fn days_ahead(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days)).to_string()
}
