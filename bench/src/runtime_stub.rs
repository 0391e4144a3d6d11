//! A local stand-in of the AWS Lambda Runtime API (2018-06-01) for the cold-start harness, enough
//! to run a real `bootstrap` ([`crate::runtime_api`] serves the routes): each `next` hands out the
//! [`Scenario`]'s next API Gateway v2 event, each answer goes back to it, and invocation or init
//! errors are recorded as failures.
//!
//! It records when the first `next` arrives (the end of the function's init) and counts answers,
//! so the cold-start harness can wait for either. When the scenario has nothing more to send, a
//! `next` is simply held open, like the real API does between invocations.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::runtime_api::{self, Function, Posted, UnknownInvocation};
use crate::BenchError;

/// What a function is asked, invocation after invocation.
pub trait Scenario: Send + 'static {
    /// The next event (API Gateway v2 JSON), or `None` when there is nothing more to ask.
    fn next_event(&mut self) -> Option<String>;
    /// The function's answer to the previous event: HTTP status, the response's `headers` object
    /// (API Gateway v2 shape) and the decoded body.
    fn on_response(&mut self, status: u16, headers: &serde_json::Value, body: &[u8]);
}

/// Where a run stands.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// When the first `next` arrived.
    pub first_next: Option<Instant>,
    /// Answers received (`response` posts).
    pub responses: u64,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Invocation errors, init errors and answers that were not API Gateway responses.
    pub failures: Vec<String>,
}

struct Shared {
    function: String,
    scenario: Mutex<Box<dyn Scenario>>,
    progress: watch::Sender<Progress>,
}

/// A running stand-in; dropping it stops the server and every held connection.
pub struct RuntimeStub {
    addr: SocketAddr,
    progress: watch::Receiver<Progress>,
    server: JoinHandle<()>,
}

impl RuntimeStub {
    /// Starts a stand-in for `function` on a free loopback port.
    pub async fn start(function: &str, scenario: Box<dyn Scenario>) -> Result<Self, BenchError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(BenchError::from_display("binding the Runtime API stand-in"))?;
        let addr = listener
            .local_addr()
            .map_err(BenchError::from_display("Runtime API stand-in address"))?;
        let (sender, progress) = watch::channel(Progress::default());
        let shared = Arc::new(Shared {
            function: function.to_owned(),
            scenario: Mutex::new(scenario),
            progress: sender,
        });
        let server = tokio::spawn(runtime_api::serve(listener, shared));
        Ok(Self {
            addr,
            progress,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The current progress.
    pub fn progress(&self) -> Progress {
        self.progress.borrow().clone()
    }

    /// Waits until `done` holds for the progress, or a failure is recorded, or `limit` passes.
    pub async fn wait_until(
        &mut self,
        limit: Duration,
        done: impl Fn(&Progress) -> bool,
    ) -> Result<Progress, BenchError> {
        let waited = tokio::time::timeout(
            limit,
            self.progress
                .wait_for(|p| done(p) || !p.failures.is_empty()),
        )
        .await
        .map(|result| result.map(|progress| progress.clone()));
        match waited {
            Ok(Ok(progress)) if progress.failures.is_empty() => Ok(progress),
            Ok(Ok(progress)) => Err(BenchError::new(progress.failures.join("; "))),
            Ok(Err(_)) => Err(BenchError::new("the Runtime API stand-in stopped")),
            Err(_) => Err(BenchError::new(format!(
                "timed out after {limit:?} ({:?})",
                self.progress.borrow().clone()
            ))),
        }
    }
}

impl Drop for RuntimeStub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Function for Shared {
    fn name(&self) -> &str {
        &self.function
    }

    /// Records the first `next` (the end of the function's init), then asks the scenario.
    async fn next_event(&self, _id: &str) -> Option<String> {
        let arrived = Instant::now();
        self.progress.send_if_modified(|p| {
            let first = p.first_next.is_none();
            p.first_next.get_or_insert(arrived);
            first
        });
        self.scenario
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next_event()
    }

    fn posted(&self, posted: Posted<'_>) -> Result<(), UnknownInvocation> {
        match posted {
            Posted::Response {
                answer: Ok(answer), ..
            } => {
                self.scenario
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .on_response(answer.status, &answer.headers, &answer.body);
                self.progress.send_modify(|p| {
                    p.responses += 1;
                    *p.statuses.entry(answer.status).or_default() += 1;
                });
            }
            Posted::Response {
                answer: Err(reason),
                ..
            } => self.fail(reason),
            Posted::Error { id, body } => self.fail(format!(
                "invocation {id} failed: {}",
                String::from_utf8_lossy(body)
            )),
            Posted::InitError { body } => {
                self.fail(format!("init error: {}", String::from_utf8_lossy(body)))
            }
        }
        Ok(())
    }
}

impl Shared {
    fn fail(&self, reason: String) {
        self.progress.send_modify(|p| p.failures.push(reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime_api::{INIT_ERROR, INVOCATION, NEXT};
    use std::sync::mpsc;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    /// Hands out `events`, then reports what it was told.
    struct Script {
        events: Vec<String>,
        told: mpsc::Sender<(u16, serde_json::Value, Vec<u8>)>,
    }

    impl Scenario for Script {
        fn next_event(&mut self) -> Option<String> {
            (!self.events.is_empty()).then(|| self.events.remove(0))
        }
        fn on_response(&mut self, status: u16, headers: &serde_json::Value, body: &[u8]) {
            let _ = self.told.send((status, headers.clone(), body.to_vec()));
        }
    }

    /// One HTTP/1.1 exchange on a fresh connection; the raw response text.
    async fn exchange(address: &str, request: String) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        text
    }

    fn post(path: &str, body: &str) -> String {
        format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn it_serves_an_event_with_the_runtime_headers_and_takes_the_answer() {
        let (told, heard) = mpsc::channel();
        let script = Script {
            events: vec![r#"{"version":"2.0"}"#.to_owned()],
            told,
        };
        let mut stub = RuntimeStub::start("token", Box::new(script)).await.unwrap();
        let address = stub.address();

        let next = exchange(
            &address,
            format!("GET {NEXT} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        )
        .await;
        let lower = next.to_ascii_lowercase();
        assert!(next.starts_with("HTTP/1.1 200"), "{next}");
        for header in [
            "lambda-runtime-aws-request-id: ",
            "lambda-runtime-deadline-ms: ",
            "lambda-runtime-invoked-function-arn: arn:aws:lambda:eu-central-1:123456789012:function:token",
            "lambda-runtime-trace-id: root=1-",
        ] {
            assert!(lower.contains(header), "{header} missing in {next}");
        }
        assert!(next.ends_with(r#"{"version":"2.0"}"#), "{next}");
        assert!(stub.progress().first_next.is_some());

        let answer = r#"{"statusCode":303,"headers":{"location":"/oauth/login"},"body":"e30=","isBase64Encoded":true}"#;
        let accepted = exchange(
            &address,
            post(&format!("{INVOCATION}req-1/response"), answer),
        )
        .await;
        assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
        let progress = stub
            .wait_until(Duration::from_secs(5), |p| p.responses == 1)
            .await
            .unwrap();
        assert_eq!(progress.statuses, BTreeMap::from([(303, 1)]));
        let (status, headers, body) = heard.recv().unwrap();
        assert_eq!(status, 303);
        assert_eq!(headers["location"], "/oauth/login");
        assert_eq!(body, b"{}");
    }

    #[tokio::test]
    async fn with_nothing_left_to_ask_next_is_held_open() {
        let (told, _heard) = mpsc::channel();
        let stub = RuntimeStub::start(
            "booking",
            Box::new(Script {
                events: vec![],
                told,
            }),
        )
        .await
        .unwrap();
        let request = format!("GET {NEXT} HTTP/1.1\r\nhost: x\r\n\r\n");
        let held = tokio::time::timeout(
            Duration::from_millis(300),
            exchange(&stub.address(), request),
        )
        .await;
        assert!(held.is_err(), "answered: {held:?}");
        assert!(stub.progress().first_next.is_some());
    }

    #[tokio::test]
    async fn init_and_invocation_errors_end_the_wait_with_their_text() {
        for (path, text) in [
            (INIT_ERROR.to_owned(), "init error"),
            (
                format!("{INVOCATION}req-9/error"),
                "invocation req-9 failed",
            ),
        ] {
            let (told, _heard) = mpsc::channel();
            let mut stub = RuntimeStub::start(
                "asap",
                Box::new(Script {
                    events: vec![],
                    told,
                }),
            )
            .await
            .unwrap();
            let accepted = exchange(&stub.address(), post(&path, r#"{"errorType":"Boom"}"#)).await;
            assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
            let error = stub
                .wait_until(Duration::from_secs(5), |p| p.responses > 0)
                .await
                .unwrap_err()
                .to_string();
            assert!(error.contains(text) && error.contains("Boom"), "{error}");
        }
    }

    #[tokio::test]
    async fn an_answer_that_is_not_an_api_gateway_response_is_a_failure() {
        let (told, _heard) = mpsc::channel();
        let mut stub = RuntimeStub::start(
            "userinfo",
            Box::new(Script {
                events: vec![],
                told,
            }),
        )
        .await
        .unwrap();
        exchange(
            &stub.address(),
            post(
                &format!("{INVOCATION}req-2/response"),
                r#"{"body":"no status"}"#,
            ),
        )
        .await;
        let error = stub
            .wait_until(Duration::from_secs(5), |p| p.responses > 0)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("statusCode"), "{error}");
    }
}
