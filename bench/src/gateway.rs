//! A local API Gateway (HTTP API, payload 2.0) in front of real function binaries, for
//! `make bench-e2e`: HTTP/1.1 requests on a front door become API Gateway v2 events, each is
//! handed to the function that owns its path through that function's own Lambda Runtime API
//! (`AWS_LAMBDA_RUNTIME_API` = [`Gateway::runtime_api`], served by [`crate::runtime_api`]), and the function's answer goes back as
//! the HTTP response (status, headers, `cookies` as `Set-Cookie`, base64 bodies decoded).
//!
//! One instance per function, one event at a time each, as a Lambda instance serves them:
//! concurrent requests for one function queue, requests for different functions run in parallel.
//! Unlike [`crate::runtime_stub`], which replays a scripted scenario to one function, this one
//! serves whatever clients send. It runs on its own thread ([`Gateway::start`]) so its CPU time
//! is measured apart from the functions' and the load generator's.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, SET_COOKIE};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use testkit::Event;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::runtime_api::{self, accept, plain, Answer, Function, Posted, UnknownInvocation};
use crate::BenchError;

/// How long a request waits for its function before the gateway answers 504 itself: the deadline
/// the function is told.
const FUNCTION_TIMEOUT: Duration = runtime_api::DEADLINE;

/// Which function serves a path (`None`: the gateway answers 404).
pub type Router = fn(&str) -> Option<&'static str>;

struct Pending {
    event: String,
    reply: oneshot::Sender<Answer>,
}

/// One function's queue and the invocations it has taken but not answered.
struct Lane {
    name: &'static str,
    queue: mpsc::UnboundedSender<Pending>,
    incoming: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
}

/// A running gateway. Dropping it stops its thread's runtime (every connection with it).
pub struct Gateway {
    front: SocketAddr,
    runtimes: Vec<(&'static str, SocketAddr)>,
    thread_id: i32,
    stop: Option<oneshot::Sender<()>>,
}

impl Gateway {
    /// Starts the gateway on its own thread (a current-thread runtime): a front door and one
    /// Runtime API per function in `functions`, all on free loopback ports; `router` picks the
    /// function of each request path.
    pub fn start(functions: &[&'static str], router: Router) -> Result<Gateway, BenchError> {
        let (ready, started) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let functions = functions.to_vec();
        std::thread::Builder::new()
            .name("gateway".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(format!("gateway runtime: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match bind(&functions, router).await {
                        Ok((front, runtimes)) => {
                            // SAFETY: gettid(2) has no preconditions.
                            let tid = unsafe { libc::gettid() };
                            let _ = ready.send(Ok((front, runtimes, tid)));
                            let _ = stopped.await;
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e.to_string()));
                        }
                    }
                });
            })
            .map_err(BenchError::from_display("starting the gateway thread"))?;
        let (front, runtimes, thread_id) = started
            .recv()
            .map_err(BenchError::from_display("the gateway thread"))?
            .map_err(BenchError::new)?;
        Ok(Gateway {
            front,
            runtimes,
            thread_id,
            stop: Some(stop),
        })
    }

    /// The front door's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.front)
    }

    /// `host:port` of `function`'s Runtime API: its `AWS_LAMBDA_RUNTIME_API`.
    pub fn runtime_api(&self, function: &str) -> Option<String> {
        self.runtimes
            .iter()
            .find(|(name, _)| *name == function)
            .map(|(_, addr)| addr.to_string())
    }

    /// The `/proc` file of the gateway's thread, for [`crate::process::stat_cpu_ms`]: its CPU time
    /// apart from the functions' and the load generator's.
    pub fn cpu_stat_path(&self) -> String {
        format!("/proc/self/task/{}/stat", self.thread_id)
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

type Bound = (SocketAddr, Vec<(&'static str, SocketAddr)>);

async fn bind(functions: &[&'static str], router: Router) -> Result<Bound, BenchError> {
    let listen = || async {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(BenchError::from_display("binding a gateway port"))?;
        let addr = listener
            .local_addr()
            .map_err(BenchError::from_display("a gateway port"))?;
        Ok::<_, BenchError>((listener, addr))
    };
    let mut lanes = Vec::new();
    let mut runtimes = Vec::new();
    for &name in functions {
        let (queue, incoming) = mpsc::unbounded_channel();
        let lane = Arc::new(Lane {
            name,
            queue,
            incoming: tokio::sync::Mutex::new(incoming),
            in_flight: Mutex::new(HashMap::new()),
        });
        let (listener, addr) = listen().await?;
        tokio::spawn(runtime_api::serve(listener, lane.clone()));
        runtimes.push((name, addr));
        lanes.push(lane);
    }
    let lanes = Arc::new(lanes);
    let (front_listener, front) = listen().await?;
    tokio::spawn(accept(front_listener, move |request| {
        let lanes = lanes.clone();
        async move { front_door(&lanes, router, request).await }
    }));
    Ok((front, runtimes))
}

async fn front_door(
    lanes: &[Arc<Lane>],
    router: Router,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(lane) = router(&path).and_then(|name| lanes.iter().find(|l| l.name == name)) else {
        return plain(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#);
    };
    let event = match event_of(request).await {
        Ok(event) => event,
        Err(e) => return plain(StatusCode::BAD_REQUEST, &e),
    };
    let (reply, answer) = oneshot::channel();
    if lane.queue.send(Pending { event, reply }).is_err() {
        return plain(StatusCode::BAD_GATEWAY, "the function's queue is closed");
    }
    match tokio::time::timeout(FUNCTION_TIMEOUT, answer).await {
        Ok(Ok(answer)) => response_of(answer),
        Ok(Err(_)) => plain(
            StatusCode::BAD_GATEWAY,
            "the function failed the invocation",
        ),
        Err(_) => plain(StatusCode::GATEWAY_TIMEOUT, "the function did not answer"),
    }
}

/// The API Gateway v2 event of an HTTP request (the test kit's, as the handler tests use).
async fn event_of(request: Request<Incoming>) -> Result<String, String> {
    let (parts, body) = request.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    let mut event = Event::new(parts.method.as_str(), &path_and_query).from_ip("127.0.0.1");
    for (name, value) in &parts.headers {
        let Ok(value) = value.to_str() else { continue };
        if name == hyper::header::COOKIE {
            for pair in value.split(';') {
                if let Some((name, value)) = pair.trim().split_once('=') {
                    event = event.cookie(name, value);
                }
            }
        } else {
            event = event.header(name.as_str(), value);
        }
    }
    let body = body
        .collect()
        .await
        .map_err(|e| format!("unreadable body: {e}"))?
        .to_bytes();
    if !body.is_empty() {
        event = event.body(body.to_vec());
    }
    Ok(event.to_text())
}

fn response_of(answer: Answer) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = response.headers_mut();
    if let Some(map) = answer.headers.as_object() {
        for (name, value) in map {
            let (Ok(name), Some(Ok(value))) = (
                hyper::header::HeaderName::from_bytes(name.as_bytes()),
                value.as_str().map(HeaderValue::from_str),
            ) else {
                continue;
            };
            headers.append(name, value);
        }
    }
    for cookie in answer.cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(SET_COOKIE, value);
        }
    }
    response
}

impl Function for Lane {
    fn name(&self) -> &str {
        self.name
    }

    /// Takes the next queued request (waiting for one) and keeps its reply channel under `id`.
    async fn next_event(&self, id: &str) -> Option<String> {
        let Pending { event, reply } = self.incoming.lock().await.recv().await?;
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_owned(), reply);
        Some(event)
    }

    fn posted(&self, posted: Posted<'_>) -> Result<(), UnknownInvocation> {
        let (id, answer) = match posted {
            Posted::Response { id, answer } => (id, answer),
            Posted::Error { id, body } => (id, Err(String::from_utf8_lossy(body).into_owned())),
            Posted::InitError { body } => {
                // The function dies next; its requests time out.
                eprintln!(
                    "gateway: {} failed its init: {}",
                    self.name,
                    String::from_utf8_lossy(body)
                );
                return Ok(());
            }
        };
        let reply = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
            .ok_or(UnknownInvocation)?;
        let _ = reply.send(answer.unwrap_or_else(|reason| self.failed(&reason)));
        Ok(())
    }
}

impl Lane {
    /// API Gateway's own answer to an invocation that failed (as deployed: 500 Internal Server
    /// Error).
    fn failed(&self, reason: &str) -> Answer {
        eprintln!("gateway: {} failed an invocation: {reason}", self.name);
        Answer {
            status: 500,
            headers: Value::Null,
            cookies: Vec::new(),
            body: br#"{"message":"Internal Server Error"}"#.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime_api::{INVOCATION, NEXT};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    fn only_token(path: &str) -> Option<&'static str> {
        (path == "/oauth/token").then_some("token")
    }

    async fn exchange(address: String, request: String) -> String {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        text
    }

    #[tokio::test]
    async fn a_request_reaches_its_function_as_an_event_and_its_answer_comes_back() {
        let gateway = Gateway::start(&["token"], only_token).unwrap();
        let front = gateway.url().trim_start_matches("http://").to_owned();
        let runtime = gateway.runtime_api("token").unwrap();
        let client = tokio::spawn(exchange(
            front.clone(),
            "POST /oauth/token?x=1 HTTP/1.1\r\nhost: x\r\ncookie: a=1; b=2\r\nconnection: close\r\ncontent-length: 4\r\n\r\nq=1&"
                .to_owned(),
        ));
        let next = exchange(
            runtime.clone(),
            format!("GET {NEXT} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        )
        .await;
        assert!(next.starts_with("HTTP/1.1 200"), "{next}");
        let id = next
            .lines()
            .find_map(|l| l.strip_prefix("lambda-runtime-aws-request-id: "))
            .unwrap()
            .trim()
            .to_owned();
        let event_text = next.split("\r\n\r\n").nth(1).unwrap();
        let request = testkit::events::parse(event_text).unwrap();
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri().path(), "/oauth/token");
        assert_eq!(request.headers()["cookie"], "a=1; b=2");
        assert_eq!(request.body().as_ref(), b"q=1&");
        let answer = r#"{"statusCode":201,"headers":{"x-a":"1"},"cookies":["s=1; Path=/"],"body":"aGk=","isBase64Encoded":true}"#;
        let posted = exchange(
            runtime.clone(),
            format!(
                "POST {INVOCATION}{id}/response HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{answer}",
                answer.len()
            ),
        )
        .await;
        assert!(posted.starts_with("HTTP/1.1 202"), "{posted}");
        let response = client.await.unwrap();
        assert!(response.starts_with("HTTP/1.1 201"), "{response}");
        let lower = response.to_ascii_lowercase();
        assert!(lower.contains("x-a: 1") && lower.contains("set-cookie: s=1; path=/"));
        assert!(response.ends_with("hi"), "{response}");
        let unknown = exchange(
            front,
            "GET /nowhere HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".to_owned(),
        )
        .await;
        assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
        assert!(crate::process::stat_cpu_ms(&gateway.cpu_stat_path()).is_ok());
    }
}
