//! The loopback redirect of a native app (RFC 8252 §7.3): a tiny HTTP listener on `127.0.0.1` that
//! receives the one redirect the browser makes at the end of the sign-in.
//!
//! Redirect URIs are matched exactly, port included, so the port is fixed and registered with the
//! client (the demo client of `make run` registers `http://127.0.0.1:8080/callback`).

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::Error;

/// Path of the redirect URI.
pub const CALLBACK_PATH: &str = "/callback";

/// Largest request head the listener reads; a redirect with a code and state is far smaller.
const MAX_HEAD: usize = 8 * 1024;

/// How long one connection may take to send its request. Browsers open spare connections they may
/// never use, so a silent connection must not hold up the real redirect.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener bound to `127.0.0.1:<port>`, ready before the browser is sent to the portal.
#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

/// The query parameters of the redirect (`code`, `state`, `iss`, or `error`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Callback {
    params: HashMap<String, String>,
}

impl Callback {
    /// Parses a redirect query; a repeated parameter makes the whole response invalid
    /// (RFC 6749 §3.1: parameters must not be included more than once).
    pub fn from_query(query: &str) -> Result<Callback, String> {
        let mut params = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if params
                .insert(name.to_string(), value.into_owned())
                .is_some()
            {
                return Err(format!("parameter `{name}` appears more than once"));
            }
        }
        Ok(Callback { params })
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

impl Loopback {
    /// Binds `127.0.0.1:<port>` (`0` picks a free port, for tests that register the client after).
    pub async fn bind(port: u16) -> Result<Loopback, Error> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| Error::Bind { port, source })?;
        let port = listener
            .local_addr()
            .map_err(|source| Error::Bind { port, source })?
            .port();
        Ok(Loopback { listener, port })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The redirect URI to register and send: `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Serves requests until one arrives on the callback path, answers it with a short page, and
    /// returns its parameters. Other paths (a browser's `/favicon.ico`) get a 404.
    pub async fn wait_for_callback(self, limit: Duration) -> Result<Callback, Error> {
        let (sender, mut received) = mpsc::channel(1);
        let deadline = tokio::time::sleep(limit);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, _) = accepted.map_err(Error::Listener)?;
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        if let Some(result) = serve(stream).await {
                            // The receiver is gone only when a callback has already been taken.
                            let _ = sender.send(result).await;
                        }
                    });
                }
                Some(result) = received.recv() => return result.map_err(Error::Callback),
                () = &mut deadline => return Err(Error::CallbackTimeout(limit)),
            }
        }
    }
}

/// Answers one connection; `Some` when it was the redirect (parsed, or why it is invalid).
async fn serve(mut stream: TcpStream) -> Option<Result<Callback, String>> {
    let head = tokio::time::timeout(CONNECTION_TIMEOUT, read_head(&mut stream))
        .await
        .ok()??;
    let target = request_target(&head);
    let outcome = match target {
        Some(target) if path_of(target) == CALLBACK_PATH => Some(Callback::from_query(
            target.split_once('?').map_or("", |(_, q)| q),
        )),
        _ => None,
    };
    let (status, text) = match &outcome {
        Some(Ok(callback)) if callback.get("error").is_none() => (
            "200 OK",
            "Signed in. You can close this tab and return to the terminal.",
        ),
        Some(_) => (
            "200 OK",
            "The sign-in did not complete. Return to the terminal for details.",
        ),
        None => ("404 Not Found", "Not found."),
    };
    // The page never echoes a parameter, so nothing from the URL can end up as markup.
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>booking-client</title></head><body><p>{text}</p></body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    // A browser that went away does not change the outcome.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    outcome
}

/// Reads up to the end of the request head; `None` if the peer closes or sends too much.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(head).ok()
}

/// The target of a `GET <target> HTTP/1.x` request line.
fn request_target(head: &str) -> Option<&str> {
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("GET"), Some(target), Some(version)) if version.starts_with("HTTP/1.") => {
            Some(target)
        }
        _ => None,
    }
}

fn path_of(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_parses_and_a_repeated_parameter_is_refused() {
        let callback = Callback::from_query("code=a%2Bb&state=xyz&iss=http%3A%2F%2Fh").unwrap();
        assert_eq!(callback.get("code"), Some("a+b"));
        assert_eq!(callback.get("iss"), Some("http://h"));
        assert_eq!(callback.get("error"), None);
        assert!(Callback::from_query("state=a&state=b").is_err());
    }

    #[test]
    fn only_get_request_lines_have_a_target() {
        assert_eq!(
            request_target("GET /callback?code=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some("/callback?code=1")
        );
        assert_eq!(request_target("POST /callback HTTP/1.1\r\n\r\n"), None);
        assert_eq!(request_target("garbage"), None);
        assert_eq!(path_of("/callback?code=1"), "/callback");
    }

    #[tokio::test]
    async fn the_listener_answers_other_paths_with_404_and_returns_the_callback() {
        let loopback = Loopback::bind(0).await.unwrap();
        let port = loopback.port();
        assert_eq!(
            loopback.redirect_uri(),
            format!("http://127.0.0.1:{port}/callback")
        );
        let waiting = tokio::spawn(loopback.wait_for_callback(Duration::from_secs(30)));
        let http = reqwest::Client::new();
        let miss = http
            .get(format!("http://127.0.0.1:{port}/favicon.ico"))
            .send()
            .await
            .unwrap();
        assert_eq!(miss.status(), reqwest::StatusCode::NOT_FOUND);
        let hit = http
            .get(format!("http://127.0.0.1:{port}/callback?code=c1&state=s1"))
            .send()
            .await
            .unwrap();
        assert_eq!(hit.status(), reqwest::StatusCode::OK);
        assert!(!hit.text().await.unwrap().contains("c1"), "no echo");
        let callback = waiting.await.unwrap().unwrap();
        assert_eq!(callback.get("code"), Some("c1"));
        assert_eq!(callback.get("state"), Some("s1"));
    }

    #[tokio::test]
    async fn no_redirect_within_the_limit_is_a_timeout() {
        let loopback = Loopback::bind(0).await.unwrap();
        let result = loopback.wait_for_callback(Duration::from_millis(50)).await;
        assert!(matches!(result, Err(Error::CallbackTimeout(_))));
    }
}
