//! The warm-instance rotation: instances started before a rotation keep running beside instances
//! started after it, and each accepts everything the other mints.

use serde_json::json;
use shared::domain::client::Client;
use shared::domain::patient::Patient;
use shared::keys::timing::PUBLICATION_DELAY_SECS;
use shared::keys::{self, KeyStore};
use shared::store::now_unix;
use testkit::api::{book_request, days_ahead, ApiPatient};
use testkit::{catalog, oauth};
use url::Url;

use super::*;

/// The video service of the local configuration (the audience of join-link tokens).
const VIDEO_AUDIENCE: &str = "https://video.mypatientportal.example/join";

#[tokio::test]
async fn everything_minted_before_or_after_a_rotation_works_on_warm_and_new_instances() {
    let ctx = TestContext::new();
    catalog::load_demo(&ctx.store()).await;
    let (client, secret) = ctx.client().await;
    let patient = ctx.patient().await;
    let warm = Generation::start(&ctx);

    // The operator rotates once the keys the previous rotation published are old enough.
    let store = KeyStore::Local(keys::keys_dir(ctx.data_dir()));
    let (_, rotation) = store
        .rotate(now_unix() + PUBLICATION_DELAY_SECS, false)
        .await
        .unwrap();
    let new = Generation::start(&ctx);
    assert_eq!(warm.signing_kid(), rotation.retired_kid);
    assert_eq!(new.signing_kid(), rotation.activated_kid);

    for (round, (minted, used, case)) in [
        (&warm, &new, "minted by a warm instance, used on a new one"),
        (&new, &warm, "minted by a new instance, used on a warm one"),
    ]
    .into_iter()
    .enumerate()
    {
        sign_in_request(minted, used, &client, case).await;
        let tokens = code_exchange(minted, used, &client, &secret, &patient, case).await;
        for generation in [&warm, &new] {
            tokens_are_accepted(generation, &tokens, case).await;
        }
        refresh_tokens(minted, used, &client, &secret, &tokens, case).await;
        availability_ids_and_etags(&ctx, minted, used, round, case).await;
        unsubscribe_link(&ctx, minted, used, round, case).await;
        video_link(&ctx, minted, used, case).await;
    }

    // Nobody had to reload: each key in use was published before any instance used it.
    assert_eq!(warm.reloads(), [0; 5]);
    assert_eq!(new.reloads(), [0; 5]);
}

/// The sealed request of the login page, from one authorize instance to another.
async fn sign_in_request(minted: &Generation, used: &Generation, client: &Client, case: &str) {
    let path = oauth::authorize_path(client.id.as_str(), oauth::REDIRECT, "openid", &[]);
    let started = send(&minted.authorize, Event::get(&path)).await;
    assert!(
        started.status().is_redirection(),
        "{case}: {}",
        text(&started)
    );
    let location = Url::parse(&header(&started, "location")).unwrap();
    assert_eq!(location.path(), "/oauth/login", "{case}");
    let login = format!("/oauth/login?{}", location.query().unwrap());
    let page = send(&used.authorize, Event::get(&login)).await;
    assert_eq!(page.status(), 200, "{case}: {}", text(&page));
}

/// A code sealed by one generation's authorize function, redeemed at the other's token function.
async fn code_exchange(
    minted: &Generation,
    used: &Generation,
    client: &Client,
    secret: &str,
    patient: &Patient,
    case: &str,
) -> Value {
    let mut code = oauth::code(
        client.id.as_str(),
        patient.id.as_str(),
        oauth::APP_SCOPE,
        Some(oauth::CHALLENGE),
    );
    code.claims.email = Some(patient.email.as_str().to_owned());
    let sealed = oauth::seal(&Generation::keys(&minted.authorize), &code);
    let response = send(
        &used.token,
        Event::post("/oauth/token")
            .header("authorization", &oauth::basic(client.id.as_str(), secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &sealed),
                ("redirect_uri", oauth::REDIRECT),
                ("code_verifier", oauth::VERIFIER),
            ]),
    )
    .await;
    assert_eq!(response.status(), 200, "{case}: {}", json(&response));
    json(&response)
}

/// The access token at the resource functions, the id_token as a logout hint.
async fn tokens_are_accepted(generation: &Generation, tokens: &Value, case: &str) {
    let access = tokens["access_token"].as_str().unwrap();
    let info = send(
        &generation.userinfo,
        Event::get("/oauth/userinfo").bearer(access),
    )
    .await;
    assert_eq!(info.status(), 200, "{case}: {}", json(&info));
    let list = send(
        &generation.booking,
        Event::get("/api/portal/v1/appointments").bearer(access),
    )
    .await;
    assert_eq!(list.status(), 200, "{case}: {}", json(&list));
    let id_token = tokens["id_token"].as_str().unwrap();
    let logout = send(
        &generation.authorize,
        Event::get(&format!("/oauth/logout?id_token_hint={id_token}")),
    )
    .await;
    assert_eq!(logout.status(), 200, "{case}: {}", text(&logout));
}

/// The refresh token the exchange issued, refreshed at the other generation, and back.
async fn refresh_tokens(
    minted: &Generation,
    used: &Generation,
    client: &Client,
    secret: &str,
    tokens: &Value,
    case: &str,
) {
    let mut refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    for token_function in [&minted.token, &used.token] {
        let response = send(
            token_function,
            Event::post("/oauth/token")
                .header("authorization", &oauth::basic(client.id.as_str(), secret))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh_token),
                ]),
        )
        .await;
        assert_eq!(response.status(), 200, "{case}: {}", json(&response));
        refresh_token = json(&response)["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned();
    }
}

/// Availability ids found at one booking instance book at the other; an ETag of one reschedules
/// at the other, whose ETag then cancels at the first.
async fn availability_ids_and_etags(
    ctx: &TestContext,
    minted: &Generation,
    used: &Generation,
    round: usize,
    case: &str,
) {
    let patient = ApiPatient::new(&ctx.context);
    let free = search(&minted.booking, &patient, 198).await;
    let (first, second) = (&free[2 * round], &free[2 * round + 1]);
    let booked = send(
        &used.booking,
        patient.post("/booking", &book_request(first["id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(booked.status(), 201, "{case}: {}", json(&booked));
    let id = json(&booked)["id"].as_str().unwrap().to_owned();
    let path = format!("/appointments/{id}");

    let read = send(&minted.booking, patient.get(&path)).await;
    let etag = header(&read, "etag");
    assert!(etag.starts_with('"'), "{case}: {etag}");
    let moved = send(
        &used.booking,
        patient
            .put(&path, &json!({ "availability_id": second["id"] }))
            .header("if-match", &etag),
    )
    .await;
    assert_eq!(moved.status(), 200, "{case}: {}", json(&moved));
    let cancelled = send(
        &minted.booking,
        patient
            .delete(&path)
            .header("if-match", &header(&moved, "etag")),
    )
    .await;
    assert_eq!(cancelled.status(), 200, "{case}: {}", json(&cancelled));
}

/// The unsubscribe link of an ASAP email sent by one generation (inline dispatch: the booking
/// function that freed the slot sends it) opens and acts at the other's asap function.
async fn unsubscribe_link(
    ctx: &TestContext,
    minted: &Generation,
    used: &Generation,
    round: usize,
    case: &str,
) {
    let (early, late) = (ApiPatient::new(&ctx.context), ApiPatient::new(&ctx.context));
    let free = search(&minted.booking, &early, 198).await;
    let (soon, later) = (&free[10 + round], &free[20 + round]);
    let address = format!("late{round}@example.org");
    let mut waiting = book_request(later["id"].as_str().unwrap());
    waiting["asap_list_opt_in"] = json!(true);
    waiting["email"] = json!(address);
    let waiting = send(&used.booking, late.post("/booking", &waiting)).await;
    assert_eq!(waiting.status(), 201, "{case}: {}", json(&waiting));
    let first = send(
        &used.booking,
        early.post("/booking", &book_request(soon["id"].as_str().unwrap())),
    )
    .await;
    let first = json(&first)["id"].as_str().unwrap().to_owned();
    let cancelled = send(
        &minted.booking,
        early.delete(&format!("/appointments/{first}")),
    )
    .await;
    assert_eq!(cancelled.status(), 200, "{case}");

    let mail = outbox(ctx)
        .into_iter()
        .find(|mail| mail.contains(&format!("To: <{address}>")))
        .unwrap_or_else(|| panic!("{case}: no mail to {address}"));
    let link = mail
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .map(|l| Url::parse(l.trim_end_matches('>')).unwrap())
        .unwrap_or_else(|| panic!("{case}: no List-Unsubscribe header"));
    let link = format!("{}?{}", link.path(), link.query().unwrap());
    let page = send(&used.asap, Event::get(&link)).await;
    assert_eq!(page.status(), 200, "{case}: {}", text(&page));
    let done = send(
        &used.asap,
        Event::post(&link).form(&[("List-Unsubscribe", "One-Click")]),
    )
    .await;
    assert_eq!(done.status(), 200, "{case}: {}", text(&done));
}

/// A video join link signed by one generation's booking function verifies with the video JWKS the
/// other generation's userinfo function serves.
async fn video_link(ctx: &TestContext, minted: &Generation, used: &Generation, case: &str) {
    let patient = ApiPatient::new(&ctx.context);
    let free = search(&minted.booking, &patient, 199).await;
    let booked = send(
        &minted.booking,
        patient.post("/booking", &book_request(free[0]["id"].as_str().unwrap())),
    )
    .await;
    let id = json(&booked)["id"].as_str().unwrap().to_owned();
    let link = send(
        &minted.booking,
        patient.get(&format!("/appointments/{id}/video_consultation")),
    )
    .await;
    assert_eq!(link.status(), 200, "{case}: {}", json(&link));
    let url = Url::parse(json(&link)["url"].as_str().unwrap()).unwrap();
    let token = url
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap();

    let jwks = json(&send(&used.userinfo, Event::get("/.well-known/video-jwks.json")).await);
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("{case}: {kid} is not in the video JWKS"));
    let key = jsonwebtoken::DecodingKey::from_ec_components(
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[VIDEO_AUDIENCE]);
    validation.set_issuer(&[ctx.context.config.issuer_str()]);
    let claims = jsonwebtoken::decode::<Value>(&token, &key, &validation)
        .unwrap_or_else(|e| panic!("{case}: the join link does not verify: {e}"))
        .claims;
    assert_eq!(claims["sub"], id.as_str());
}

async fn search(booking: &booking_fn::App, patient: &ApiPatient, type_id: i64) -> Vec<Value> {
    let page = send(
        booking,
        patient.get(&format!(
            "/availabilities?category_id=53&type_id={type_id}&insurance_id=136&from={}&limit=50",
            days_ahead(3)
        )),
    )
    .await;
    assert_eq!(page.status(), 200, "{}", json(&page));
    json(&page)["data"].as_array().unwrap().clone()
}

/// Every mail in the outbox folder, unfolded (quoted-printable soft breaks removed).
fn outbox(ctx: &TestContext) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(ctx.data_dir().join("outbox")) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .replace("=\r\n", "")
                .replace("=3D", "=")
        })
        .collect()
}
