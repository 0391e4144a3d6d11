//! Structured JSON logs through `tracing`.
//!
//! The Lambda runtime opens a span carrying `requestId` around every invocation; logging the current
//! span puts the request id on every line without handlers having to pass it around.

use tracing_subscriber::EnvFilter;

/// Installs the JSON log subscriber once. The level comes from `PORTAL_LOG_LEVEL` (or `RUST_LOG`),
/// default `info`; dependencies are kept at `warn` so logs carry our events, not the SDK's chatter.
pub fn init() {
    let level = std::env::var("PORTAL_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let filter = EnvFilter::try_new(default_directives(&level))
        .unwrap_or_else(|_| EnvFilter::new(default_directives("info")));
    // A second init (tests creating several apps) is harmless: keep the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .without_time()
        .with_writer(std::io::stdout)
        .try_init();
}

fn default_directives(level: &str) -> String {
    if level.contains('=') {
        level.to_owned()
    } else {
        format!("warn,portal_shared={level},shared={level},authorize={level},token={level},userinfo={level},booking={level},asap={level},authorize_fn={level},token_fn={level},userinfo_fn={level},booking_fn={level},asap_fn={level},lambda_runtime=info")
    }
}
