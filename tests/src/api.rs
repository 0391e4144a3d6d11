//! Helpers for handler tests of the resource API: a patient with a signed access token, requests
//! to `/api/portal/v1`, and response decoding.

use lambda_http::{Body, Response};
use serde_json::Value;
use shared::bearer::AccessClaims;
use shared::boot::{Context, Handler};
use shared::crypto::random_id;
use shared::jwt::Audience;

use crate::events::Event;

/// Base path of the resource API.
pub const API: &str = "/api/portal/v1";

/// Every portal scope.
pub const ALL_SCOPES: &str = "openid profile_read appointment_read appointment_write";

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An access token for `patient` with `scope`, signed by the context's keys (as the token
/// function would issue it).
pub fn access_token(context: &Context, patient: &str, scope: &str) -> String {
    let config = &context.config;
    let now = now();
    let claims = AccessClaims {
        iss: config.issuer_str().to_owned(),
        sub: patient.to_owned(),
        aud: Audience::one(config.api_audience.clone()),
        client_id: "client-1".to_owned(),
        scope: scope.to_owned(),
        exp: now + 300,
        iat: now,
        jti: random_id(16),
        gid: "grant-1".to_owned(),
        auth_time: now - 60,
    };
    context
        .keys
        .sign_jwt("at+jwt", &claims)
        .expect("signing a test token")
}

/// A patient (random id) holding a bearer token.
pub struct ApiPatient {
    /// The patient id (`sub`).
    pub id: String,
    /// `Bearer …`.
    pub bearer: String,
}

impl ApiPatient {
    /// A patient with every portal scope.
    pub fn new(context: &Context) -> Self {
        Self::with_scope(context, ALL_SCOPES)
    }

    /// A patient whose token carries `scope`.
    pub fn with_scope(context: &Context, scope: &str) -> Self {
        let id = random_id(22);
        Self {
            bearer: format!("Bearer {}", access_token(context, &id, scope)),
            id,
        }
    }

    /// `GET {API}{path}`.
    pub fn get(&self, path: &str) -> Event {
        Event::get(&format!("{API}{path}")).header("authorization", &self.bearer)
    }

    /// `POST {API}{path}` with a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Event {
        Event::post(&format!("{API}{path}"))
            .header("authorization", &self.bearer)
            .json(body)
    }

    /// `PUT {API}{path}` with a JSON body.
    pub fn put(&self, path: &str, body: &Value) -> Event {
        Event::new("PUT", &format!("{API}{path}"))
            .header("authorization", &self.bearer)
            .json(body)
    }

    /// `DELETE {API}{path}`.
    pub fn delete(&self, path: &str) -> Event {
        Event::new("DELETE", &format!("{API}{path}")).header("authorization", &self.bearer)
    }
}

/// Sends one event to a function.
pub async fn call(app: &impl Handler, event: Event) -> Response<Body> {
    app.handle(event.request()).await
}

/// The JSON body of a response (panics with the body when it is not JSON).
pub fn body(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", response.body()))
}

/// Sends an event that must answer 200; its JSON body.
pub async fn ok(app: &impl Handler, event: Event) -> Value {
    let response = call(app, event).await;
    assert_eq!(response.status(), 200, "{}", body(&response));
    body(&response)
}
