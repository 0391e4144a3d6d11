//! What each function loads at start-up (the code path of a cold start, `shared::boot::start`),
//! and what it cannot do with it.

use shared::config::Config;
use shared::jwt::TYP_ACCESS_TOKEN;
use shared::keys::{self, KeyError, Purpose, SealError};
use testkit::api::ApiPatient;
use testkit::tokens::access_claims;

use super::*;

fn local_config(data_dir: &std::path::Path, dispatch: &str) -> Config {
    let data_dir = data_dir.display().to_string();
    Config::from_lookup(|name| match name {
        "PORTAL_DATA_DIR" => Some(data_dir.clone()),
        "PORTAL_ASAP_DISPATCH" => Some(dispatch.to_owned()),
        _ => None,
    })
    .unwrap()
}

#[tokio::test]
async fn each_function_starts_with_its_own_key_document_and_only_token_can_sign_access_tokens() {
    let data = tempfile::tempdir().unwrap();
    let config = local_config(data.path(), "stream");
    let claims = access_claims(&config, "Patient1", "openid profile_read");
    for role in Role::ALL {
        let context = shared::boot::start(config.clone(), role).await.unwrap();
        let keys = context.keys.current();
        assert_eq!(keys.roles(), [role]);
        let signed = keys.sign_jwt(TYP_ACCESS_TOKEN, &claims);
        if role == Role::Token {
            assert!(signed.is_ok());
        } else {
            assert!(
                matches!(signed, Err(KeyError::NotHeld(_))),
                "the {role} function's keys can sign an access token"
            );
        }
        assert_eq!(
            keys.sign_video("video+jwt", &claims).is_ok(),
            role == Role::Booking,
            "{role}"
        );
        let held: Vec<Purpose> = keys.purposes().into_iter().collect();
        assert_eq!(held, role.purposes(), "{role}");
        for purpose in Purpose::ALL {
            if !role.holds(purpose) {
                assert!(matches!(
                    keys.sealer(purpose).seal(b"x"),
                    Err(SealError::NotHeld(_))
                ));
            }
        }
    }
    // On disk too: the booking document holds no token signing key, userinfo's no secret at all.
    let dir = keys::keys_dir(data.path());
    let booking = keys::read_document(&dir, Role::Booking).unwrap().unwrap();
    assert!(booking.token_signing.is_none() && booking.video_signing.is_some());
    assert!(!keys::read_document(&dir, Role::Userinfo)
        .unwrap()
        .unwrap()
        .holds_secrets());
}

#[tokio::test]
async fn booking_with_inline_dispatch_also_reads_the_asap_document_for_its_emails() {
    let data = tempfile::tempdir().unwrap();
    let context = shared::boot::start(local_config(data.path(), "inline"), Role::Booking)
        .await
        .unwrap();
    let keys = context.keys.current();
    assert_eq!(keys.roles(), [Role::Booking, Role::Asap]);
    assert!(keys.sealer(Purpose::AsapUnsubscribe).is_held());
    assert!(keys.active_kid().is_none());
}

#[tokio::test]
async fn a_function_given_another_functions_document_refuses_to_start() {
    let data = tempfile::tempdir().unwrap();
    let config = local_config(data.path(), "stream");
    shared::boot::start(config.clone(), Role::Token)
        .await
        .unwrap();
    let dir = keys::keys_dir(data.path());
    std::fs::copy(
        keys::document_path(&dir, Role::Token),
        keys::document_path(&dir, Role::Booking),
    )
    .unwrap();
    let error = shared::boot::start(config, Role::Booking)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("token function"), "{error}");
}

#[tokio::test]
async fn a_token_signed_with_the_video_key_is_refused_by_every_resource_function() {
    let ctx = TestContext::new();
    let booking = ctx.function(Role::Booking);
    let patient = ApiPatient::new(&ctx.context);
    let claims = access_claims(&ctx.context.config, &patient.id, testkit::api::PORTAL_SCOPE);
    // Everything an access token needs, signed with the key a leaked booking function holds.
    let forged = booking
        .keys
        .current()
        .sign_video(TYP_ACCESS_TOKEN, &claims)
        .unwrap();
    let genuine = testkit::tokens::sign(&ctx.keys(), &claims);
    let apps = Generation::start(&ctx);
    for (name, response) in [
        (
            "userinfo",
            send(
                &apps.userinfo,
                Event::get("/oauth/userinfo").bearer(&forged),
            )
            .await,
        ),
        (
            "booking",
            send(
                &apps.booking,
                Event::get("/api/portal/v1/appointments").bearer(&forged),
            )
            .await,
        ),
        (
            "asap",
            send(
                &apps.asap,
                Event::get(
                    "/api/portal/v1/appointments/AAAAAAAAAAAAAAAAAAAAAA/earlier_availability",
                )
                .bearer(&forged),
            )
            .await,
        ),
    ] {
        assert_eq!(response.status(), 401, "{name}: {}", json(&response));
        assert!(header(&response, "www-authenticate").contains("invalid_token"));
    }
    let control = send(
        &apps.booking,
        Event::get("/api/portal/v1/appointments").bearer(&genuine),
    )
    .await;
    assert_eq!(control.status(), 200, "{}", json(&control));
}
