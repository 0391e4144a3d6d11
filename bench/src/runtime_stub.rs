//! A local stand-in of the AWS Lambda Runtime API (2018-06-01), enough to run a real `bootstrap`:
//! `GET /runtime/invocation/next` hands out API Gateway v2 events with the headers the runtime
//! client requires, `POST /runtime/invocation/{id}/response` and `.../error` take the answers, and
//! `POST /runtime/init/error` records a failed init. HTTP/1.1 on 127.0.0.1 via hyper (the runtime
//! client keeps one connection alive, as it does on Lambda).
//!
//! It records when the first `next` arrives (the end of the function's init) and counts answers,
//! so the cold-start harness can wait for either. When the scenario has nothing more to send, a
//! `next` is simply held open, like the real API does between invocations.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::BenchError;

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";

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
    invocations: Mutex<u64>,
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
            invocations: Mutex::new(0),
        });
        let server = tokio::spawn(serve(listener, shared));
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

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // Connection tasks live in this set, so aborting the server task drops them all, including
    // `next` requests held open.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(route(&shared, request).await) }
            });
            // A connection that breaks (the function was killed) just ends.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    if method == Method::GET && path == NEXT {
        return next(shared).await;
    }
    if method != Method::POST {
        return plain(StatusCode::NOT_FOUND, "unknown route");
    }
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("unreadable body: {e}")),
    };
    if path == INIT_ERROR {
        fail(
            shared,
            format!("init error: {}", String::from_utf8_lossy(&body)),
        );
        return accepted();
    }
    match path
        .strip_prefix(INVOCATION)
        .and_then(|rest| rest.split_once('/'))
    {
        Some((_, "response")) => {
            answer(shared, &body);
            accepted()
        }
        Some((id, "error")) => {
            fail(
                shared,
                format!("invocation {id} failed: {}", String::from_utf8_lossy(&body)),
            );
            accepted()
        }
        _ => plain(StatusCode::NOT_FOUND, "unknown route"),
    }
}

/// Hands out the next event, or holds the request open when there is none.
async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    let arrived = Instant::now();
    shared.progress.send_if_modified(|p| {
        let first = p.first_next.is_none();
        p.first_next.get_or_insert(arrived);
        first
    });
    let event = shared
        .scenario
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .next_event();
    let Some(event) = event else {
        std::future::pending::<()>().await;
        return plain(StatusCode::GONE, "stopped");
    };
    let number = {
        let mut count = shared
            .invocations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *count += 1;
        *count
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 30_000;
    let built = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header(
            "lambda-runtime-aws-request-id",
            format!("8476a536-e9f4-11e8-9739-{number:012x}"),
        )
        .header("lambda-runtime-deadline-ms", deadline.to_string())
        .header(
            "lambda-runtime-invoked-function-arn",
            format!(
                "arn:aws:lambda:eu-central-1:123456789012:function:{}",
                shared.function
            ),
        )
        .header(
            "lambda-runtime-trace-id",
            format!(
                "Root=1-5759e988-bd862e3fe1be46a9{number:08x};Parent=53995c3f42cd8ad8;Sampled=0"
            ),
        )
        .body(Full::new(Bytes::from(event)));
    built.unwrap_or_else(|e| plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))
}

/// Takes an API Gateway v2 response (`statusCode`, `body`, `isBase64Encoded`).
fn answer(shared: &Shared, body: &[u8]) {
    let parsed: Result<(u16, serde_json::Value, Vec<u8>), String> = (|| {
        let mut value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("response is not JSON: {e}"))?;
        let status = value["statusCode"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .ok_or("response has no statusCode")?;
        let text = value["body"].as_str().unwrap_or("");
        let bytes = if value["isBase64Encoded"].as_bool() == Some(true) {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| format!("response body is not base64: {e}"))?
        } else {
            text.as_bytes().to_vec()
        };
        Ok((status, value["headers"].take(), bytes))
    })();
    match parsed {
        Ok((status, headers, bytes)) => {
            shared
                .scenario
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .on_response(status, &headers, &bytes);
            shared.progress.send_modify(|p| {
                p.responses += 1;
                *p.statuses.entry(status).or_default() += 1;
            });
        }
        Err(reason) => fail(shared, reason),
    }
}

fn fail(shared: &Shared, reason: String) {
    shared.progress.send_modify(|p| p.failures.push(reason));
}

fn accepted() -> Response<Full<Bytes>> {
    plain(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
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
