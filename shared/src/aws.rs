//! AWS SDK set-up, in one place for every service client (DynamoDB, SES, Secrets Manager).
//!
//! Every client is built from an [`Aws`] configuration: the standard environment (region, and
//! credentials from the SDK's default provider chain), an optional endpoint override
//! (`PORTAL_AWS_ENDPOINT`, the moto emulator), and timeouts and retries sized for Lambda. SDK
//! failures become one-line reasons here too ([`failure`], [`error_chain`]), so every adapter
//! reports them alike; none of them carries a request's contents.

use std::error::Error;
use std::fmt::Debug;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Longest time to open a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest time for one attempt of a call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest time for a whole call, retries included: a Lambda invocation must not hang on AWS.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per call (the first one included). The standard retry mode's token bucket stops
/// retry storms when a service is down.
pub const MAX_ATTEMPTS: u32 = 3;
/// First pause before a retry; it doubles (with jitter) up to [`MAX_BACKOFF`].
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
/// Longest pause between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Longest service or network message kept in a reason (they never contain request contents, but
/// may be long).
pub const MAX_MESSAGE_CHARS: usize = 240;

/// A loaded SDK configuration and where its calls go.
#[derive(Clone, Debug)]
pub struct Aws {
    config: SdkConfig,
    place: String,
}

impl Aws {
    /// Loads the standard environment (region, credentials) with this module's timeouts and
    /// retries, and `endpoint` (if any) as every service's URL.
    pub async fn load(endpoint: Option<&str>) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(MAX_ATTEMPTS)
                    .with_initial_backoff(INITIAL_BACKOFF)
                    .with_max_backoff(MAX_BACKOFF),
            );
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        let place = match (endpoint, config.region()) {
            (Some(url), _) => url.to_owned(),
            (None, Some(region)) => format!("region {region}"),
            (None, None) => "the default endpoint".to_owned(),
        };
        Self { config, place }
    }

    /// The configuration every service client is built from.
    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    /// Where calls go, for messages: the endpoint override, else `region R`.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// Fails with the reason when no region is configured: every call would fail anyway, with a
    /// less helpful message.
    pub fn require_region(&self) -> Result<(), String> {
        match self.config.region() {
            Some(_) => Ok(()),
            None => Err("no AWS region configured (set AWS_REGION)".to_owned()),
        }
    }
}

/// Timeouts for the one call a function makes during init to open its connection: tighter than
/// the clients' own, so a hanging endpoint fails well inside Lambda's 10 s init phase with a clear
/// message rather than a killed init.
pub fn init_probe_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(6))
        .build()
}

/// The HTTP status of a raw response, for a failure the service sent without an error code (an
/// emulator's crash page, a proxy's answer).
pub trait RawStatus {
    /// The status code, if the response has one.
    fn status_code(&self) -> Option<u16>;
}

impl RawStatus for HttpResponse {
    fn status_code(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
}

/// Tests build SDK errors without a raw response; they read as an HTTP 500.
#[cfg(test)]
impl RawStatus for () {
    fn status_code(&self) -> Option<u16> {
        Some(500)
    }
}

/// Why an SDK call failed, on one line: `Code: message` from the service (or the HTTP status when
/// it sent no error code), `timed out`, or the causes of a failure to reach it.
pub fn failure<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
    R: RawStatus + Debug + 'static,
{
    match err {
        SdkError::ServiceError(service) => service_reason(
            service.err().code(),
            service.err().message(),
            service.raw().status_code(),
        ),
        _ if is_timeout(err) => "timed out".to_owned(),
        other => error_chain(other),
    }
}

/// Whether a call gave up on a timeout (of an attempt, the operation, or the connection).
pub fn is_timeout<E, R>(err: &SdkError<E, R>) -> bool {
    match err {
        SdkError::TimeoutError(_) => true,
        SdkError::DispatchFailure(failure) => failure.is_timeout(),
        _ => false,
    }
}

/// `code: message`, or the HTTP status when the response carried no error code.
pub fn service_reason(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> String {
    match (code, message.filter(|m| !m.trim().is_empty())) {
        (Some(code), Some(message)) => short(&format!("{code}: {message}")),
        (Some(code), None) => short(code),
        (None, _) => match status {
            Some(status) => format!("unexpected response (HTTP {status})"),
            None => "unexpected response".to_owned(),
        },
    }
}

/// The messages of an error and its sources on one line, without repeats (the SDK's errors
/// often repeat their source's text).
pub fn error_chain(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(error) = current {
        let text = error.to_string();
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    short(&parts.join(": "))
}

/// One line, at most [`MAX_MESSAGE_CHARS`] characters.
pub fn short(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.chars().count() > MAX_MESSAGE_CHARS {
        let cut: String = line.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    /// A service error of any operation, as the SDK builds it.
    #[derive(Debug, thiserror::Error)]
    #[error("service error")]
    struct ServiceFailure(ErrorMetadata);

    impl ProvideErrorMetadata for ServiceFailure {
        fn meta(&self) -> &ErrorMetadata {
            &self.0
        }
    }

    fn service_error(code: Option<&str>, message: &str) -> SdkError<ServiceFailure, ()> {
        let mut meta = ErrorMetadata::builder().message(message);
        if let Some(code) = code {
            meta = meta.code(code);
        }
        SdkError::service_error(ServiceFailure(meta.build()), ())
    }

    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure: connection refused")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused")]
    struct Inner;

    #[derive(Debug, thiserror::Error)]
    #[error("io error")]
    struct Top(#[source] std::io::Error);

    #[test]
    fn service_failures_name_the_code_and_message_or_the_status() {
        assert_eq!(
            failure(&service_error(
                Some("ResourceNotFoundException"),
                "Secrets Manager can't find the specified secret."
            )),
            "ResourceNotFoundException: Secrets Manager can't find the specified secret."
        );
        assert_eq!(
            failure(&service_error(Some("Throttling"), " ")),
            "Throttling"
        );
        assert_eq!(
            failure(&service_error(None, "<html>crash</html>")),
            "unexpected response (HTTP 500)"
        );
        assert_eq!(
            failure::<ServiceFailure, ()>(&SdkError::timeout_error("slow")),
            "timed out"
        );
    }

    #[test]
    fn an_error_chain_is_one_line_without_repeats() {
        assert_eq!(
            error_chain(&Outer(Inner)),
            "dispatch failure: connection refused"
        );
        let nested = Top(std::io::Error::other("first line\nsecond line"));
        assert_eq!(error_chain(&nested), "io error: first line second line");
    }

    #[test]
    fn messages_are_short_single_lines() {
        assert_eq!(short("a\nb\tc "), "a b c");
        let long = "x".repeat(1000);
        assert_eq!(short(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[tokio::test]
    async fn the_place_is_the_endpoint_override_else_the_region() {
        let aws = Aws::load(Some("http://127.0.0.1:1")).await;
        assert_eq!(aws.place(), "http://127.0.0.1:1");
        let timeouts = aws.config().timeout_config().unwrap();
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_timeout(), Some(OPERATION_TIMEOUT));
        let retries = aws.config().retry_config().unwrap();
        assert_eq!(retries.max_attempts(), MAX_ATTEMPTS);
        assert_eq!(retries.initial_backoff(), INITIAL_BACKOFF);
        assert_eq!(retries.max_backoff(), MAX_BACKOFF);
    }
}
