//! Structured JSON logs through `tracing`.
//!
//! The Lambda runtime opens a span carrying `requestId` around every invocation; logging the current
//! span puts the request id on every line without handlers having to pass it around.
//!
//! The level is part of the validated configuration (its `log_level`), so a function reads its
//! configuration first and installs logging second; `boot::init_or_exit` logs a configuration that
//! cannot be read at the default level ([`LogLevel::default`]).

use tracing_subscriber::EnvFilter;

/// A validated log level: a level name (`error`, `warn`, `info`, `debug`, `trace`) for this
/// project's crates, with dependencies kept at `warn` so logs carry our events and not the SDK's
/// chatter; or, when it contains `=`, a full `RUST_LOG`-style directive list used as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLevel(String);

impl LogLevel {
    /// Checks `text` the way [`init`] will use it; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        EnvFilter::try_new(directives(text)).map_err(|e| {
            format!("`{text}` is not a log level (error, warn, info, debug, trace) or a RUST_LOG directive list ({e})")
        })?;
        Ok(Self(text.to_owned()))
    }

    /// The level as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for LogLevel {
    /// `info`.
    fn default() -> Self {
        Self("info".to_owned())
    }
}

/// Installs the JSON log subscriber once, at `level`.
pub fn init(level: &LogLevel) {
    // `LogLevel::parse` accepted these directives, so this only falls back if a caller built a
    // level some other way.
    let filter = EnvFilter::try_new(directives(level.as_str()))
        .unwrap_or_else(|_| EnvFilter::new(directives(LogLevel::default().as_str())));
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

fn directives(level: &str) -> String {
    if level.contains('=') {
        level.to_owned()
    } else {
        format!("warn,portal_shared={level},shared={level},authorize={level},token={level},userinfo={level},booking={level},asap={level},authorize_fn={level},token_fn={level},userinfo_fn={level},booking_fn={level},asap_fn={level},lambda_runtime=info")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_and_directive_lists_are_accepted() {
        for ok in [
            "error",
            "warn",
            "info",
            "debug",
            "trace",
            " DEBUG ",
            "info,h2=warn",
        ] {
            assert!(LogLevel::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(LogLevel::parse(" debug ").unwrap().as_str(), "debug");
        assert_eq!(LogLevel::default().as_str(), "info");
    }

    #[test]
    fn anything_else_is_refused_with_the_accepted_forms() {
        for bad in ["verbose", "loud", "info,h2=loud"] {
            let message = LogLevel::parse(bad).unwrap_err();
            assert!(message.contains(bad), "{message}");
            assert!(message.contains("debug"), "{message}");
        }
    }
}
