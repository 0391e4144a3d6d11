//! What every function does once per cold start: read configuration, open the store (warming its
//! connection), then serve invocations with the same state for as long as the instance lives.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::{Body, Request, Response};

use crate::config::{Config, ConfigError, StoreConfig};
use crate::http::ApiError;
use crate::keys::{load_keyset, KeyError, KeySet, KeySource};
use crate::store::dynamo::DynamoStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{SharedStore, StoreError};

/// State built once at init and shared by every invocation of a warm instance.
#[derive(Clone)]
pub struct Context {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The store, with its connection already open.
    pub store: SharedStore,
    /// Signing and sealing keys, parsed once.
    pub keys: Arc<KeySet>,
}

impl Context {
    /// The one bearer-token check of every resource endpoint, against this instance's keys, issuer
    /// and API audience (no storage read). `allow_form_body` admits RFC 6750 §2.2 form tokens.
    pub fn authenticate(
        &self,
        request: &Request,
        required: &[&str],
        allow_form_body: bool,
    ) -> Result<crate::bearer::AccessClaims, crate::bearer::BearerError> {
        crate::bearer::authenticate(
            request,
            &self.keys,
            self.config.issuer_str(),
            &self.config.api_audience,
            required,
            allow_form_body,
        )
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
    /// The signing keys cannot be loaded.
    #[error("cannot load the signing keys: {0}")]
    Keys(#[from] KeyError),
}

/// Opens the store the configuration names. For DynamoDB this makes one cheap call so the TLS
/// connection is set up during init rather than on the first patient's request.
pub async fn connect_store(config: &Config) -> Result<SharedStore, StoreError> {
    match &config.store {
        StoreConfig::Sqlite { path } => {
            let path = path.clone();
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
                .await
                .map_err(|e| StoreError::Unavailable(format!("opening SQLite failed: {e}")))??;
            Ok(Arc::new(store))
        }
        StoreConfig::Dynamo { table } => Ok(Arc::new(
            DynamoStore::connect(table, config.aws_endpoint.as_deref()).await?,
        )),
    }
}

/// Reads the configuration from the environment, opens the store and loads the keys (the two
/// loads run concurrently: both may be network calls on a cold start).
pub async fn init() -> Result<Context, BootError> {
    let config = Config::from_env()?;
    let source = KeySource::from_env(&config.data_dir);
    let (store, keys) = tokio::join!(
        connect_store(&config),
        load_keyset(&source, config.aws_endpoint.as_deref())
    );
    Ok(Context {
        config: Arc::new(config),
        store: store?,
        keys: Arc::new(keys?),
    })
}

/// A context from explicit parts (tests, the admin CLI).
pub fn context(config: Config, store: SharedStore, keys: KeySet) -> Context {
    Context {
        config: Arc::new(config),
        store,
        keys: Arc::new(keys),
    }
}

/// Like [`init`], but a failure ends the process with one clear line on stderr (and in the logs),
/// which is what an operator reading a failed cold start needs.
pub async fn init_or_exit(function: &str) -> Context {
    match init().await {
        Ok(context) => context,
        Err(error) => {
            tracing::error!(function, error = %error, "init failed");
            eprintln!("{function}: {error}");
            std::process::exit(1);
        }
    }
}

/// A function's request handler.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Answers one request. Never fails: errors are already responses.
    async fn handle(&self, request: Request) -> Response<Body>;
}

/// Serves invocations until the runtime stops. A panic in a handler becomes a generic 500 JSON body
/// (logged), never a stack trace or a dead instance.
pub async fn serve<H: Handler>(handler: H) -> Result<(), lambda_http::Error> {
    let handler = Arc::new(handler);
    lambda_http::run(lambda_http::service_fn(move |request: Request| {
        let handler = Arc::clone(&handler);
        async move { Ok::<_, std::convert::Infallible>(guarded(handler.handle(request)).await) }
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
