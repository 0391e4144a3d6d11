//! `GET /api-docs/openapi.json` and the browsable documentation at `GET /api-docs`, through real
//! API Gateway v2 events into the `userinfo` function.

use lambda_http::{Body, Response};
use shared::boot::Handler as _;
use shared::keys::Role;
use testkit::api::{body, header, text};
use testkit::{Event, TestContext};
use userinfo_fn::App;

const LOOPBACK_ORIGIN: &str = "http://localhost:5173";

async fn call(ctx: &TestContext, event: Event) -> Response<Body> {
    App::new(ctx.function(Role::Userinfo))
        .handle(event.request())
        .await
}

#[tokio::test]
async fn the_openapi_document_is_public_cacheable_json_with_cors() {
    let ctx = TestContext::new();
    let response = call(
        &ctx,
        Event::get("/api-docs/openapi.json").header("origin", LOOPBACK_ORIGIN),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(header(&response, "cache-control"), "public, max-age=300");
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        LOOPBACK_ORIGIN
    );
    let doc = body(&response);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    // The deployment's own issuer, from the function's configuration.
    assert_eq!(doc["servers"][0]["url"], ctx.context.config.issuer_str());
    assert!(doc["paths"]["/api/portal/v1/booking"]["post"].is_object());

    let again = call(&ctx, Event::get("/api-docs/openapi.json")).await;
    assert_eq!(again.body().as_ref(), response.body().as_ref());
}

#[tokio::test]
async fn the_openapi_document_is_gzip_encoded_for_clients_that_accept_it() {
    let ctx = TestContext::new();
    let plain = call(&ctx, Event::get("/api-docs/openapi.json")).await;
    assert!(!plain.headers().contains_key("content-encoding"));
    let compressed = call(
        &ctx,
        Event::get("/api-docs/openapi.json").header("accept-encoding", "gzip, deflate"),
    )
    .await;
    assert_eq!(compressed.status(), 200);
    assert_eq!(header(&compressed, "content-type"), "application/json");
    assert_eq!(header(&compressed, "content-encoding"), "gzip");
    assert_eq!(header(&compressed, "vary"), "Accept-Encoding");
    let bytes = compressed.body().as_ref();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    assert!(bytes.len() * 4 < plain.body().as_ref().len());
}

#[tokio::test]
async fn a_browser_app_may_preflight_the_document() {
    let ctx = TestContext::new();
    let response = call(
        &ctx,
        Event::preflight("/api-docs/openapi.json", LOOPBACK_ORIGIN, "GET"),
    )
    .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        header(&response, "access-control-allow-origin"),
        LOOPBACK_ORIGIN
    );
    assert_eq!(header(&response, "access-control-allow-methods"), "GET");
}

#[tokio::test]
async fn the_documentation_page_loads_only_same_origin_files_and_cannot_be_framed() {
    let ctx = TestContext::new();
    let response = call(
        &ctx,
        Event::get("/api-docs").header("origin", LOOPBACK_ORIGIN),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "text/html; charset=utf-8"
    );
    let csp = header(&response, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "connect-src 'self' http://127.0.0.1:9000;",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert_eq!(header(&response, "x-frame-options"), "DENY");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    // The page is not a CORS resource.
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));

    let html = text(&response);
    // Every script is a same-origin file (the policy allows no inline script).
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 3);
    for script in scripts {
        assert!(script.trim_start().starts_with("src=\"?file="), "{script}");
    }
    assert!(html.contains("href=\"?file=swagger-ui.css\""));
    assert!(!html.contains("http://") && !html.contains("https://"));
}

#[tokio::test]
async fn the_page_files_are_served_gzip_encoded_to_browsers() {
    let ctx = TestContext::new();
    for (file, content_type) in [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui-standalone-preset.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("index.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
    ] {
        let response = call(
            &ctx,
            Event::get(&format!("/api-docs?file={file}"))
                .header("accept-encoding", "gzip, deflate, br"),
        )
        .await;
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(header(&response, "content-type"), content_type, "{file}");
        assert_eq!(header(&response, "content-encoding"), "gzip", "{file}");
        assert_eq!(header(&response, "vary"), "Accept-Encoding", "{file}");
        assert!(header(&response, "cache-control").starts_with("public, max-age="));
        // The gzip magic number.
        assert_eq!(&response.body().as_ref()[..2], &[0x1f, 0x8b], "{file}");
    }
}

#[tokio::test]
async fn a_client_without_gzip_gets_the_plain_file() {
    let ctx = TestContext::new();
    let response = call(&ctx, Event::get("/api-docs?file=swagger-ui-bundle.js")).await;
    assert_eq!(response.status(), 200);
    assert!(!response.headers().contains_key("content-encoding"));
    assert!(text(&response).contains("SwaggerUIBundle"));
}

#[tokio::test]
async fn the_initializer_loads_this_document_and_nothing_online() {
    let ctx = TestContext::new();
    let response = call(
        &ctx,
        Event::get("/api-docs?file=swagger-initializer.js").header("accept-encoding", "gzip"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let script = text(&response);
    assert!(
        script.contains(r#""url": "api-docs/openapi.json""#),
        "{script}"
    );
    assert!(script.contains(r#""validatorUrl": "none""#), "{script}");
    assert!(script.contains("SwaggerUIBundle"), "{script}");
}

#[tokio::test]
async fn only_the_page_files_are_served() {
    let ctx = TestContext::new();
    for file in [
        "../Cargo.toml",
        "swagger-ui-es-bundle.js",
        "index.html",
        "oauth2-redirect.html",
    ] {
        let response = call(&ctx, Event::get(&format!("/api-docs?file={file}"))).await;
        assert_eq!(response.status(), 404, "{file}");
        assert_eq!(body(&response)["error"], "not_found");
    }
    let repeated = call(
        &ctx,
        Event::get("/api-docs?file=index.css&file=swagger-ui.css"),
    )
    .await;
    assert_eq!(repeated.status(), 400);
    let post = call(&ctx, Event::post("/api-docs")).await;
    assert_eq!(post.status(), 405);
    assert_eq!(header(&post, "allow"), "GET");
}

#[tokio::test]
async fn the_sign_in_return_page_speaks_the_patients_language_and_keeps_nothing() {
    let ctx = TestContext::new();
    let page = "/api-docs/oauth2-redirect?code=c&state=s&iss=x";

    let english = call(&ctx, Event::get(page)).await;
    assert_eq!(english.status(), 200);
    assert_eq!(header(&english, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&english, "cache-control"), "no-store");
    assert_eq!(header(&english, "referrer-policy"), "no-referrer");
    assert!(header(&english, "content-security-policy").contains("script-src 'self';"));
    let html = text(&english);
    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    assert!(
        html.contains("Returning to the API documentation"),
        "{html}"
    );
    assert!(
        html.contains(r#"<script src="?file=oauth2-redirect.js"></script>"#),
        "{html}"
    );

    // The browser's languages, then the language the patient chose while signing in (the cookie
    // the sign-in pages set on this host) over them.
    let german = call(
        &ctx,
        Event::get(page).header("accept-language", "de-DE,de;q=0.9,en;q=0.5"),
    )
    .await;
    let html = text(&german);
    assert!(html.contains(r#"<html lang="de">"#), "{html}");
    assert!(html.contains("Zurück zur API-Dokumentation"), "{html}");
    let chosen = call(
        &ctx,
        Event::get(page)
            .header("accept-language", "en")
            .cookie(shared::pages::language::DEV_COOKIE, "de"),
    )
    .await;
    assert!(text(&chosen).contains(r#"<html lang="de">"#));

    let script = call(
        &ctx,
        Event::get("/api-docs/oauth2-redirect?file=oauth2-redirect.js"),
    )
    .await;
    assert_eq!(script.status(), 200);
    assert!(header(&script, "content-type").contains("javascript"));
    let other = call(&ctx, Event::get("/api-docs/oauth2-redirect?file=index.css")).await;
    assert_eq!(other.status(), 404);
    let post = call(&ctx, Event::post("/api-docs/oauth2-redirect")).await;
    assert_eq!(post.status(), 405);
}
