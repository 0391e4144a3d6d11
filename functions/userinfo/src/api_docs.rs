//! `GET /api-docs`: the browsable API documentation (Swagger UI), served entirely by this function
//! so it works with no internet access; and `GET /api-docs/openapi.json`, the document itself
//! ([`Document`]).
//!
//! The page and its assets share the one contract path: `/api-docs` is the page, and
//! `/api-docs?file=<name>` one of the Swagger UI files it loads ([`ASSETS`]), taken from the copy
//! `utoipa-swagger-ui` embeds at build time (`vendored`), pre-compressed (`gzip`). Query-relative
//! links (`?file=…`) resolve against wherever the page is served from, behind a custom domain or
//! a stage prefix alike, and need no route beyond the contract's. The page itself is ours: it
//! loads nothing inline, so its Content-Security-Policy allows scripts from this origin only.
//!
//! "Authorize" signs a patient in with the documentation's public client
//! ([`shared::openapi::docs_client`]: authorization code + PKCE, no secret) in a popup window that
//! comes back to Swagger UI's redirect page, `GET /api-docs/oauth2-redirect` (not a contract
//! route; its script is `?file=oauth2-redirect.js` there), which hands the code to the page; the
//! page exchanges it at the token endpoint and "Try it out" sends the access token.

use std::io::Read as _;
use std::sync::Arc;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use lambda_http::http::{header, HeaderValue};
use lambda_http::{Body, Request, Response};
use shared::config::Config;
use shared::http::request::Params;
use shared::http::ApiError;
use shared::openapi::docs_client;
use shared::pages::{self, language, DocsRedirectPage};
use url::Url;
use utoipa_swagger_ui::Config as SwaggerConfig;

/// The Swagger UI files the page loads; anything else is a 404.
pub const ASSETS: [&str; 7] = [
    "swagger-ui.css",
    "index.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-initializer.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
];

/// The one file the redirect page loads.
pub const REDIRECT_SCRIPT: &str = "oauth2-redirect.js";

/// How long browsers may keep the assets (seconds): they change only with a new release.
pub const ASSET_MAX_AGE_SECS: u32 = 3600;

/// The page: Swagger UI's own `index.html`, with query-relative links to the assets and no inline
/// script or style element.
const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MyPatientPortal API</title>
<link rel="stylesheet" href="?file=swagger-ui.css">
<link rel="stylesheet" href="?file=index.css">
<link rel="icon" type="image/png" href="?file=favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="?file=favicon-16x16.png" sizes="16x16">
</head>
<body>
<noscript><p>This page needs JavaScript. The API description itself is at <a href="api-docs/openapi.json">api-docs/openapi.json</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="?file=swagger-ui-bundle.js"></script>
<script src="?file=swagger-ui-standalone-preset.js"></script>
<script src="?file=swagger-initializer.js"></script>
</body>
</html>
"#;

/// The OpenAPI document of this deployment ([`shared::openapi::document`]), serialised once, and
/// gzip-compressed for clients that accept it: it is about 100 KiB of JSON, and API Gateway HTTP
/// APIs do not compress responses themselves.
pub struct Document {
    json: Vec<u8>,
    gzip: Vec<u8>,
}

impl Document {
    /// The document for the configured issuer.
    pub fn new(config: &Config) -> Result<Self, ApiError> {
        let json = serde_json::to_vec(&shared::openapi::document(config))
            .map_err(|e| ApiError::Internal(format!("serialising the OpenAPI document: {e}")))?;
        let gzip = gzip(&json)
            .map_err(|e| ApiError::Internal(format!("compressing the OpenAPI document: {e}")))?;
        Ok(Self { json, gzip })
    }

    /// The document as JSON, public and cacheable like the discovery documents (`max_age_secs`).
    pub fn respond(&self, request: &Request, max_age_secs: u32) -> Response<Body> {
        let compressed = accepts_gzip(request);
        let bytes = if compressed { &self.gzip } else { &self.json };
        let mut response = Response::new(Body::from(bytes.clone()));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if compressed {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age_secs}")) {
            headers.insert(header::CACHE_CONTROL, value);
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        response
    }
}

/// The documentation page and its files.
pub struct ApiDocs {
    config: Arc<SwaggerConfig<'static>>,
    csp: HeaderValue,
    /// Whether the issuer is https (which language cookie the patient's browser holds).
    secure: bool,
}

impl ApiDocs {
    /// The UI for the API whose issuer (and so the origin of "Try it out" requests) is `issuer`.
    pub fn new(issuer: &Url) -> Self {
        let issuer_str = issuer.as_str().trim_end_matches('/');
        let oauth = utoipa_swagger_ui::oauth::Config::new()
            .client_id(docs_client::CLIENT_ID)
            .app_name(docs_client::CLIENT_NAME)
            .use_pkce_with_authorization_code_grant(true)
            .scopes(
                docs_client::SCOPES
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect(),
            );
        // Relative to the page (`/api-docs`), so it also works under a stage prefix.
        let config = SwaggerConfig::with_oauth_config(["api-docs/openapi.json"], oauth)
            // The default validator is an online service; nothing may leave this origin.
            .validator_url("none")
            .persist_authorization(false)
            // Exactly the redirect URI the documentation client is registered with.
            .oauth2_redirect_url(docs_client::redirect_uri(issuer_str));
        Self {
            config: Arc::new(config),
            csp: content_security_policy(issuer),
            secure: issuer.scheme() == "https",
        }
    }

    /// `GET /api-docs[?file=<name>]`.
    pub fn respond(&self, request: &Request, query: &Params) -> Result<Response<Body>, ApiError> {
        match query.get("file")? {
            None => Ok(self.page()),
            Some(name) => self.asset(request, name),
        }
    }

    /// `GET /api-docs/oauth2-redirect[?file=oauth2-redirect.js]`: the page the sign-in popup
    /// returns to (with `code`, `state` and `iss`, or an error), and its script.
    pub fn redirect(&self, request: &Request, query: &Params) -> Result<Response<Body>, ApiError> {
        match query.get("file") {
            Ok(Some(REDIRECT_SCRIPT)) => self.asset(request, REDIRECT_SCRIPT),
            Ok(Some(other)) => Err(ApiError::NotFound(format!(
                "no documentation file `{other}`"
            ))),
            // The popup's own query (code, state, iss) is read by the script, not here; a
            // repeated parameter is the script's problem too.
            Ok(None) | Err(_) => Ok(self.html(redirect_page(request, self.secure), no_store())),
        }
    }

    fn page(&self) -> Response<Body> {
        self.html(PAGE, cache_control())
    }

    fn html(&self, page: impl Into<Body>, cache: HeaderValue) -> Response<Body> {
        let mut response = Response::new(page.into());
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CONTENT_SECURITY_POLICY, self.csp.clone());
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(header::CACHE_CONTROL, cache);
        response
    }

    fn asset(&self, request: &Request, name: &str) -> Result<Response<Body>, ApiError> {
        let not_found = || ApiError::NotFound(format!("no documentation file `{name}`"));
        if !ASSETS.contains(&name) && name != REDIRECT_SCRIPT {
            return Err(not_found());
        }
        let file = utoipa_swagger_ui::serve(name, self.config.clone())
            .map_err(|e| ApiError::Internal(format!("Swagger UI file {name}: {e}")))?
            .ok_or_else(not_found)?;
        let content_type = HeaderValue::from_str(&file.content_type)
            .map_err(|_| ApiError::Internal(format!("content type of {name}")))?;
        let mut bytes = file.bytes.into_owned();
        let mut gzip = file.gzpipped;
        if gzip && !accepts_gzip(request) {
            bytes = gunzip(&bytes)
                .map_err(|e| ApiError::Internal(format!("decompressing {name}: {e}")))?;
            gzip = false;
        }
        let mut response = Response::new(Body::from(bytes));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, content_type);
        if gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        headers.insert(header::CACHE_CONTROL, cache_control());
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        Ok(response)
    }
}

/// Scripts and styles from this origin only; inline style attributes (Swagger UI renders with
/// them) and `data:` images (its icons); requests to this origin and the issuer ("Try it out");
/// never framed, no forms elsewhere, no `<base>`.
fn content_security_policy(issuer: &Url) -> HeaderValue {
    let origin = issuer.origin().ascii_serialization();
    let connect = if origin == "null" {
        String::new()
    } else {
        format!(" {origin}")
    };
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'{connect}; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| {
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; connect-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        )
    })
}

/// Swagger UI's OAuth 2.0 redirect page in the patient's language (the language cookie of the
/// sign-in they just went through, else `Accept-Language`), with its script from the same route
/// (query-relative): the script passes the code (or error) in the page's query to the
/// documentation page that opened the popup.
fn redirect_page(request: &Request, secure: bool) -> String {
    let tr = language::choose(request, None, None, None, secure).tr;
    pages::render(&DocsRedirectPage {
        tr,
        script: REDIRECT_SCRIPT,
    })
}

/// The redirect page arrives with a one-time code in its URL: nothing may keep it.
fn no_store() -> HeaderValue {
    HeaderValue::from_static("no-store")
}

fn cache_control() -> HeaderValue {
    HeaderValue::from_str(&format!("public, max-age={ASSET_MAX_AGE_SECS}"))
        .unwrap_or_else(|_| HeaderValue::from_static("no-cache"))
}

/// Whether `Accept-Encoding` admits gzip (every browser sends it; a client that does not gets
/// the file decompressed).
fn accepts_gzip(request: &Request) -> bool {
    request
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(accept_encoding: Option<&str>) -> Request {
        let mut builder = lambda_http::http::Request::builder().uri("/api-docs");
        if let Some(value) = accept_encoding {
            builder = builder.header("accept-encoding", value);
        }
        builder.body(Body::Empty).unwrap()
    }

    #[test]
    fn gzip_is_accepted_unless_refused() {
        assert!(accepts_gzip(&request(Some("gzip, deflate, br"))));
        assert!(accepts_gzip(&request(Some("br;q=1.0, gzip;q=0.8"))));
        assert!(accepts_gzip(&request(Some("*"))));
        assert!(!accepts_gzip(&request(Some("gzip;q=0"))));
        assert!(!accepts_gzip(&request(Some("identity"))));
        assert!(!accepts_gzip(&request(None)));
    }

    #[test]
    fn every_asset_the_page_links_is_embedded() {
        let docs = ApiDocs::new(&Url::parse("https://id.example").unwrap());
        for name in ASSETS {
            assert!(PAGE.contains(&format!("?file={name}")), "{name}");
            let file = utoipa_swagger_ui::serve(name, docs.config.clone())
                .unwrap()
                .unwrap_or_else(|| panic!("{name} is not embedded"));
            assert!(!file.bytes.is_empty(), "{name}");
        }
    }

    #[test]
    fn the_compressed_document_is_the_document() {
        let config = Config::from_lookup(|_| None).unwrap();
        let document = Document::new(&config).unwrap();
        assert!(document.gzip.len() * 4 < document.json.len());
        assert_eq!(gunzip(&document.gzip).unwrap(), document.json);
    }

    #[test]
    fn the_ui_signs_in_with_the_docs_client_and_pkce() {
        let docs = ApiDocs::new(&Url::parse("https://id.example").unwrap());
        let file = utoipa_swagger_ui::serve("swagger-initializer.js", docs.config.clone())
            .unwrap()
            .unwrap();
        let script = String::from_utf8(file.bytes.into_owned()).unwrap();
        assert!(script.contains(r#""clientId": "api-docs""#), "{script}");
        assert!(
            script.contains(r#""usePkceWithAuthorizationCodeGrant": true"#),
            "{script}"
        );
        assert!(
            script
                .contains(r#""oauth2RedirectUrl": "https://id.example/api-docs/oauth2-redirect""#),
            "{script}"
        );
        assert!(!script.contains("clientSecret"), "{script}");
    }

    #[test]
    fn the_redirect_page_loads_its_script_from_its_own_route() {
        let request = lambda_http::http::Request::builder()
            .uri("https://id.example/api-docs/oauth2-redirect?code=c&state=s")
            .body(Body::Empty)
            .unwrap();
        let page = redirect_page(&request, true);
        assert!(
            page.contains(&format!("src=\"?file={REDIRECT_SCRIPT}\"")),
            "{page}"
        );
        let docs = ApiDocs::new(&Url::parse("https://id.example").unwrap());
        let file = utoipa_swagger_ui::serve(REDIRECT_SCRIPT, docs.config.clone())
            .unwrap()
            .expect("oauth2-redirect.js is embedded");
        assert!(!file.bytes.is_empty());
    }

    #[test]
    fn the_policy_names_the_issuer_for_try_it_out() {
        let csp = content_security_policy(&Url::parse("https://id.example/").unwrap());
        let csp = csp.to_str().unwrap();
        assert!(csp.contains("connect-src 'self' https://id.example;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("script-src 'self';"));
    }
}
