//! What every function does once per cold start: read configuration, install logging at its
//! level, open the store (warming its connection) and load its own keys, then serve invocations
//! with the same state for as long as the instance lives (re-reading its key document when it is
//! older than [`crate::keys::timing::KEYS_MAX_AGE_SECS`], before an invocation). Every invocation
//! ends with one log line carrying its metrics ([`invoke`], [`crate::metrics`]).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};

use crate::audit::{self, AuditLog};
use crate::config::{Config, ConfigError, StoreConfig};
use crate::domain::patient::PatientId;
use crate::http::ApiError;
use crate::keys::{KeyError, KeySource, Keys, Role};
use crate::metrics::{self, RequestLog};
use crate::store::dynamo::DynamoStore;
use crate::store::observed::ObservedStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{SharedStore, StoreError};
use crate::telemetry::{self, LogLevel};

/// State built once at init and shared by every invocation of a warm instance.
#[derive(Clone)]
pub struct Context {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The store, with its connection already open.
    pub store: SharedStore,
    /// This function's keys (only those its role holds), parsed once and reloaded when needed.
    pub keys: Arc<Keys>,
}

impl Context {
    /// The one bearer-token check of every resource endpoint, against this instance's keys, issuer
    /// and API audience (no storage read; a token signed by a key this instance has not loaded yet
    /// makes it reload its keys first, at most once a minute). `allow_form_body` admits RFC 6750
    /// §2.2 form tokens.
    pub async fn authenticate(
        &self,
        request: &Request,
        required: &[&str],
        allow_form_body: bool,
    ) -> Result<crate::bearer::AccessClaims, crate::bearer::BearerError> {
        let token = crate::bearer::presented_token(request, allow_form_body)?;
        let keys = self.keys.for_token(&token).await;
        crate::bearer::check(
            &keys,
            &token,
            self.config.issuer_str(),
            &self.config.api_audience,
            required,
        )
    }

    /// The bearer-token check of a route that reads or changes the token's patient's data: the
    /// token is verified, its patient (and app) become the request's audit subject, and then its
    /// scopes are checked, so a refusal for scope is audited too (see [`crate::audit`]).
    pub async fn authenticate_patient(
        &self,
        request: &Request,
        required: &[&str],
        allow_form_body: bool,
    ) -> Result<(crate::bearer::AccessClaims, PatientId), crate::bearer::BearerError> {
        let token = crate::bearer::presented_token(request, allow_form_body)?;
        let keys = self.keys.for_token(&token).await;
        let claims = crate::bearer::verify_token(
            &keys,
            &token,
            self.config.issuer_str(),
            &self.config.api_audience,
        )?;
        let patient = claims.patient_id()?;
        audit::trail::subject(&self.audit_log(), claims.client()?, patient.clone());
        crate::bearer::require_scopes(&claims, required)?;
        Ok((claims, patient))
    }

    /// The audit log of patient-data access in this context's store.
    pub fn audit_log(&self) -> AuditLog {
        AuditLog::new(self.store.clone(), self.config.audit_retention_days)
    }
}

/// Why a function could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// A configuration variable is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store cannot be opened or reached.
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    /// The function's keys cannot be loaded.
    #[error("cannot load the keys: {0}")]
    Keys(#[from] KeyError),
}

/// Opens the store the configuration names. For DynamoDB this makes one cheap call so the TLS
/// connection is set up during init rather than on the first patient's request.
pub async fn connect_store(config: &Config) -> Result<SharedStore, StoreError> {
    match &config.store {
        StoreConfig::Sqlite { path } => {
            let path = path.clone();
            let store = crate::blocking::run(
                move || SqliteStore::open(path),
                |e| StoreError::Unavailable(format!("opening SQLite failed: {e}")),
            )
            .await?;
            Ok(Arc::new(store))
        }
        StoreConfig::Dynamo { table } => Ok(Arc::new(
            DynamoStore::connect(table, config.aws_endpoint.as_deref()).await?,
        )),
    }
}

/// Opens the store and loads the keys of the function `role` as `config` names them (the two
/// loads run concurrently, as both may be network calls on a cold start), and names the metrics'
/// namespace.
pub async fn start(config: Config, role: Role) -> Result<Context, BootError> {
    metrics::set_namespace(&config.metrics_namespace);
    let keys = async {
        let source = KeySource::for_function(&config, role).await?;
        Keys::load(source).await
    };
    let (store, keys) = tokio::join!(connect_store(&config), keys);
    Ok(Context {
        config: Arc::new(config),
        // Store errors are counted by kind in the request's metrics.
        store: Arc::new(ObservedStore::new(store?)),
        keys: Arc::new(keys?),
    })
}

/// A context from explicit parts (tests, the admin CLI).
pub fn context(config: Config, store: SharedStore, keys: Keys) -> Context {
    Context {
        config: Arc::new(config),
        store,
        keys: Arc::new(keys),
    }
}

/// A function's init: reads the configuration from the environment, installs JSON logs at its
/// level, then [`start`]s. A failure ends the process with one clear line on stderr (and in the
/// logs), which is what an operator reading a failed cold start needs.
///
/// The configuration comes first because it holds the log level. When it cannot be read, logs are
/// installed at the default level just to report that.
pub async fn init_or_exit(role: Role) -> Context {
    crate::allocator::tune();
    let function = role.name();
    let _ = FUNCTION.set(function);
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            telemetry::init(&LogLevel::default());
            exit(function, &BootError::Config(error))
        }
    };
    telemetry::init(&config.log_level);
    match start(config, role).await {
        Ok(context) => context,
        Err(error) => exit(function, &error),
    }
}

/// The function's name (`authorize`, `token`, ...) as [`init_or_exit`] was told it: the
/// `Function` dimension of its metrics.
static FUNCTION: OnceLock<&'static str> = OnceLock::new();

fn function_name() -> &'static str {
    FUNCTION.get().copied().unwrap_or("unknown")
}

fn exit(function: &str, error: &BootError) -> ! {
    tracing::error!(function, error = %error, "init failed");
    eprintln!("{function}: {error}");
    std::process::exit(1);
}

/// A function's request handler.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Answers one request. Never fails: errors are already responses.
    async fn handle(&self, request: Request) -> Response<Body>;

    /// The state it was built from.
    fn context(&self) -> &Context;

    /// The route the request is for, as `METHOD /path/{param}` from the function's router
    /// ([`crate::http::Router::route_name`]; `None` for an unknown path): the `Route` dimension of
    /// the request's metrics, so ids never become metric series.
    fn route(&self, request: &Request) -> Option<String>;
}

/// The `Route` value of a request no route of the function knows.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Runs one HTTP request through `handler` as [`serve`] does — metrics recording, the audit
/// trail (the request's access record is stored before the answer is returned), the panic guard
/// — and returns the answer with the request's log line (which [`serve`] prints; it carries the
/// access record as its `audit` field).
pub async fn invoke<H: Handler + ?Sized>(
    handler: &H,
    function: &str,
    request: Request,
) -> (Response<Body>, RequestLog) {
    use lambda_http::RequestExt as _;

    // Before the clock starts: an instance whose keys are old re-reads them first.
    handler.context().keys.refresh_if_stale().await;
    let started = Instant::now();
    let route = handler
        .route(&request)
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let (request_id, trace_id) = match request.lambda_context_ref() {
        Some(context) => (
            Some(context.request_id.clone()),
            context.xray_trace_id.clone(),
        ),
        None => (None, None),
    };
    let arrived_ms = metrics::now_millis();
    let ((response, audit), counts) = metrics::measure(async {
        let (response, trail) = audit::trail::follow(
            &route,
            request_id.as_deref(),
            arrived_ms,
            guarded(handler.handle(request)),
        )
        .await;
        // Before the answer leaves: its access record (fail closed, see `crate::audit`).
        trail.close(response).await
    })
    .await;
    let mut log = RequestLog::new(
        function,
        &route,
        response.status().as_u16(),
        started.elapsed(),
        &counts,
        metrics::now_millis(),
    )
    .with_ids(request_id.as_deref(), trace_id.as_deref());
    if let Some(record) = audit {
        log.insert("audit", record);
    }
    (response, log)
}

/// Serves invocations until the runtime stops. A panic in a handler becomes a generic 500 JSON body
/// (logged), never a stack trace or a dead instance. Each invocation prints its log line.
pub async fn serve<H: Handler>(handler: H) -> Result<(), lambda_http::Error> {
    let handler = Arc::new(handler);
    lambda_http::run(lambda_http::service_fn(move |request: Request| {
        let handler = Arc::clone(&handler);
        async move {
            let (response, log) = invoke(handler.as_ref(), function_name(), request).await;
            log.print();
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}

/// A function that receives other events besides HTTP requests (the `asap` function's DynamoDB
/// Stream batches).
#[async_trait]
pub trait EventHandler: Handler {
    /// Whether `event` is one of its own events rather than an API Gateway request.
    fn claims(&self, event: &serde_json::Value) -> bool;

    /// Handles such an event; the JSON returned is the invocation's result. An `Err` fails the
    /// whole invocation (the event source retries it).
    async fn handle_event(
        &self,
        event: serde_json::Value,
    ) -> Result<serde_json::Value, lambda_http::Error>;
}

/// Like [`serve`] for a function that also takes non-HTTP events: each invocation's payload goes
/// to [`EventHandler::handle_event`] when the handler claims it, and otherwise through exactly
/// the API Gateway conversion `lambda_http::run` uses (its `Adapter`), so HTTP behaves the same
/// as in every other function.
pub async fn serve_events<H: EventHandler>(handler: H) -> Result<(), lambda_http::Error> {
    use lambda_http::request::LambdaRequest;
    use lambda_http::{service_fn, LambdaEvent, Service as _};

    let handler = Arc::new(handler);
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let handler = Arc::clone(&handler);
        async move {
            let LambdaEvent { payload, context } = event;
            if handler.claims(&payload) {
                handler.context().keys.refresh_if_stale().await;
                let started = Instant::now();
                let (result, counts) = metrics::measure(handler.handle_event(payload)).await;
                RequestLog::event(
                    function_name(),
                    "stream",
                    result.is_ok(),
                    started.elapsed(),
                    &counts,
                    metrics::now_millis(),
                )
                .with_ids(Some(&context.request_id), context.xray_trace_id.as_deref())
                .print();
                return result;
            }
            let request: LambdaRequest = serde_json::from_value(payload)?;
            let http = Arc::clone(&handler);
            let mut adapter = lambda_http::Adapter::from(service_fn(move |request: Request| {
                let http = Arc::clone(&http);
                async move {
                    let (response, log) = invoke(http.as_ref(), function_name(), request).await;
                    log.print();
                    Ok::<_, std::convert::Infallible>(response)
                }
            }));
            let response = match adapter.call(LambdaEvent::new(request, context)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok::<_, lambda_http::Error>(serde_json::to_value(response)?)
        }
    }))
    .await
}

/// Runs a handler future, turning a panic into a 500 response.
pub async fn guarded(future: impl Future<Output = Response<Body>>) -> Response<Body> {
    use futures_util::FutureExt as _;
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(response) => response,
        Err(_) => ApiError::Internal("handler panicked".into()).into_response(),
    }
}
