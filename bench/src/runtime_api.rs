//! The server side of the AWS Lambda Runtime API (2018-06-01) that a real `bootstrap` talks to,
//! shared by the cold-start stand-in ([`crate::runtime_stub`]) and the end-to-end gateway
//! ([`crate::gateway`]): the routes, the headers the runtime client requires on `next`, and the
//! reading of the function's API Gateway v2 answer. What is handed out and what becomes of the
//! answers is each caller's [`Function`].
//!
//! - `GET /runtime/invocation/next`: the next event, with a fresh request id; held open while
//!   there is none, like the real API between invocations.
//! - `POST /runtime/invocation/{id}/response` and `.../error`, `POST /runtime/init/error`: 202,
//!   or 404 for an invocation the function does not know.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

/// `GET`: the next event.
pub const NEXT: &str = "/2018-06-01/runtime/invocation/next";
/// The prefix of `POST .../{id}/response` and `.../{id}/error`.
pub const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
/// `POST`: the function's init failed.
pub const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";

/// How long an invocation may take: the deadline `next` announces.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A function's answer, an API Gateway v2 response with its body decoded.
#[derive(Debug)]
pub struct Answer {
    /// `statusCode`.
    pub status: u16,
    /// The `headers` object as sent (`Null` when absent).
    pub headers: Value,
    /// `cookies`, each a `Set-Cookie` value.
    pub cookies: Vec<String>,
    /// `body`, base64-decoded when `isBase64Encoded`.
    pub body: Vec<u8>,
}

/// What a function posted.
#[derive(Debug)]
pub enum Posted<'a> {
    /// `POST /runtime/invocation/{id}/response`, parsed (`Err`: why it is not an API Gateway v2
    /// response).
    Response {
        /// The invocation's request id.
        id: &'a str,
        /// The answer, or why it could not be read.
        answer: Result<Answer, String>,
    },
    /// `POST /runtime/invocation/{id}/error`.
    Error {
        /// The invocation's request id.
        id: &'a str,
        /// The function's error document.
        body: &'a [u8],
    },
    /// `POST /runtime/init/error`: the function dies next.
    InitError {
        /// The function's error document.
        body: &'a [u8],
    },
}

/// A post about an invocation the function was not handed: answered 404.
#[derive(Debug)]
pub struct UnknownInvocation;

/// One function's side of the Runtime API: where its events come from and where its answers go.
pub trait Function: Send + Sync + 'static {
    /// The function's name, as its ARN carries it.
    fn name(&self) -> &str;

    /// The event (API Gateway v2 JSON) to hand out under request id `id`, waiting for one;
    /// `None` when there will be none (the `next` request is then held open).
    fn next_event(&self, id: &str) -> impl Future<Output = Option<String>> + Send;

    /// Takes what the function posted.
    fn posted(&self, posted: Posted<'_>) -> Result<(), UnknownInvocation>;
}

/// Serves `function`'s Runtime API on every connection of `listener`. Request ids count up from
/// one per call.
pub async fn serve<F: Function>(listener: TcpListener, function: Arc<F>) {
    let invocations = Arc::new(AtomicU64::new(0));
    accept(listener, move |request| {
        let function = function.clone();
        let invocations = invocations.clone();
        async move { route(&*function, &invocations, request).await }
    })
    .await
}

/// Serves every connection of `listener` with `handle`, HTTP/1.1 keep-alive (as the runtime
/// client keeps its one connection). Connection tasks live in this future, so dropping or
/// aborting it drops them all, `next` requests held open included.
pub(crate) async fn accept<H, Fut>(listener: TcpListener, handle: H)
where
    H: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let handle = handle.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let answer = handle(request);
                async move { Ok::<_, Infallible>(answer.await) }
            });
            // A connection that breaks (the function was killed) just ends.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn route<F: Function>(
    function: &F,
    invocations: &AtomicU64,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    if method == Method::GET && path == NEXT {
        return next(function, invocations).await;
    }
    if method != Method::POST {
        return plain(StatusCode::NOT_FOUND, "unknown route");
    }
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return plain(StatusCode::BAD_REQUEST, &format!("unreadable body: {e}")),
    };
    let posted = if path == INIT_ERROR {
        Posted::InitError { body: &body }
    } else {
        match path
            .strip_prefix(INVOCATION)
            .and_then(|rest| rest.split_once('/'))
        {
            Some((id, "response")) => Posted::Response {
                id,
                answer: parse_answer(&body),
            },
            Some((id, "error")) => Posted::Error { id, body: &body },
            _ => return plain(StatusCode::NOT_FOUND, "unknown route"),
        }
    };
    match function.posted(posted) {
        Ok(()) => plain(StatusCode::ACCEPTED, r#"{"status":"OK"}"#),
        Err(UnknownInvocation) => plain(StatusCode::NOT_FOUND, "unknown invocation"),
    }
}

/// Hands the function its next event with the headers the runtime client requires, or holds the
/// request open when there is none.
async fn next<F: Function>(function: &F, invocations: &AtomicU64) -> Response<Full<Bytes>> {
    let number = invocations.fetch_add(1, Ordering::Relaxed) + 1;
    let id = format!("8476a536-e9f4-11e8-9739-{number:012x}");
    let Some(event) = function.next_event(&id).await else {
        std::future::pending::<()>().await;
        return plain(StatusCode::GONE, "stopped");
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + DEADLINE.as_millis();
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", id)
        .header("lambda-runtime-deadline-ms", deadline.to_string())
        .header(
            "lambda-runtime-invoked-function-arn",
            format!(
                "arn:aws:lambda:eu-central-1:123456789012:function:{}",
                function.name()
            ),
        )
        .header(
            "lambda-runtime-trace-id",
            format!(
                "Root=1-5759e988-bd862e3fe1be46a9{number:08x};Parent=53995c3f42cd8ad8;Sampled=0"
            ),
        )
        .body(Full::new(Bytes::from(event)))
        .unwrap_or_else(|e| plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()))
}

/// An API Gateway v2 response (`statusCode`, `headers`, `cookies`, `body`, `isBase64Encoded`).
fn parse_answer(body: &[u8]) -> Result<Answer, String> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| format!("response is not JSON: {e}"))?;
    let status = value["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("response has no statusCode")?;
    let text = value["body"].as_str().unwrap_or("");
    let body = if value["isBase64Encoded"].as_bool() == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| format!("response body is not base64: {e}"))?
    } else {
        text.as_bytes().to_vec()
    };
    let cookies = value["cookies"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(Answer {
        status,
        headers: value["headers"].take(),
        cookies,
        body,
    })
}

/// A response of `status` with `text` as its body.
pub(crate) fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_with_its_cookies_and_its_body_decoded() {
        let answer = parse_answer(
            br#"{"statusCode":201,"headers":{"x-a":"1"},"cookies":["s=1"],"body":"aGk=","isBase64Encoded":true}"#,
        )
        .unwrap();
        assert_eq!(answer.status, 201);
        assert_eq!(answer.headers["x-a"], "1");
        assert_eq!(answer.cookies, ["s=1"]);
        assert_eq!(answer.body, b"hi");
        let plain_text = parse_answer(br#"{"statusCode":200,"body":"{}"}"#).unwrap();
        assert_eq!(
            (plain_text.headers, plain_text.body),
            (Value::Null, b"{}".to_vec())
        );
    }

    #[test]
    fn what_is_not_an_api_gateway_response_says_why() {
        for (body, why) in [
            (&b"nope"[..], "not JSON"),
            (br#"{"body":"x"}"#, "statusCode"),
            (
                br#"{"statusCode":200,"body":"*","isBase64Encoded":true}"#,
                "base64",
            ),
        ] {
            let error = parse_answer(body).unwrap_err();
            assert!(error.contains(why), "{error}");
        }
    }
}
