//! The OAuth side under store faults: a code exchange or a refresh whose write fails is a 503
//! `temporarily_unavailable` with `Retry-After`. Sent again, one that was refused goes through;
//! one whose answer was lost has already used its single-use code or token, so the resend is the
//! replay RFC 6749 §4.1.2 and RFC 9700 §4.14.2 describe: `invalid_grant`, and the family is
//! revoked — never two live generations of one family. Sign-in pages and userinfo answer 503
//! with `Retry-After` too.

use shared::domain::client::{Client, RedirectUri};
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use shared::store::faults::{Fault, Op};
use testkit::api::{body, call, header};
use testkit::invariants::GrantSeen;
use testkit::jws::jwt_claims;
use testkit::oauth::{self, basic, CHALLENGE, REDIRECT, VERIFIER};
use testkit::Event;
use token_fn::App as TokenApp;

use super::stack::{assert_unavailable, context, Adapter, Dispatch, Stack};

const SCOPE: &str = "openid offline_access profile_read appointment_read";

async fn tokens_sent_again(adapter: Adapter) {
    let ctx = context(Dispatch::Stream);
    let s = Stack::new(&ctx, adapter).await;
    let token = TokenApp::new(s.context.clone());
    let uri = RedirectUri::parse(REDIRECT).unwrap();
    let (client, secret) = Client::new_confidential("Faulty", vec![uri], Scopes::all()).unwrap();
    ClientRepo::new(s.direct.clone())
        .create(&client)
        .await
        .unwrap();
    let auth = basic(client.id.as_str(), &secret);
    let patient = shared::domain::patient::PatientId::generate();
    let exchange = |code: &str| {
        Event::post("/oauth/token")
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .header("authorization", &auth)
    };
    let refresh = |token: &str| {
        Event::post("/oauth/token")
            .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
            .header("authorization", &auth)
    };
    let new_code = || {
        oauth::seal(
            &ctx.keys(),
            &oauth::code(client.id.as_str(), patient.as_str(), SCOPE, Some(CHALLENGE)),
        )
    };
    let mut seen = Vec::new();
    for fault in Fault::ALL {
        // The code exchange.
        let code = new_code();
        s.faults.fail_next(&[Op::Transact], fault);
        assert_token_unavailable(&call(&token, exchange(&code)).await);
        let again = call(&token, exchange(&code)).await;
        if fault == Fault::LostAnswer {
            assert_eq!(again.status(), 400, "{fault}: {}", body(&again));
            assert_eq!(body(&again)["error"], "invalid_grant");
        } else {
            assert_eq!(again.status(), 200, "{fault}: {}", body(&again));
        }

        // A refresh of a fresh family.
        let issued = call(&token, exchange(&new_code())).await;
        assert_eq!(issued.status(), 200, "{}", body(&issued));
        let issued = body(&issued);
        let grant = jwt_claims(issued["access_token"].as_str().unwrap())["gid"]
            .as_str()
            .unwrap()
            .to_owned();
        let current = issued["refresh_token"].as_str().unwrap().to_owned();
        s.faults.fail_next(&[Op::Transact], fault);
        assert_token_unavailable(&call(&token, refresh(&current)).await);
        let again = call(&token, refresh(&current)).await;
        if fault == Fault::LostAnswer {
            assert_eq!(again.status(), 400, "{fault}: {}", body(&again));
            seen.push((
                grant,
                GrantSeen {
                    refreshed: 0,
                    unknown: 1,
                    revoked: true,
                },
            ));
        } else {
            assert_eq!(again.status(), 200, "{fault}: {}", body(&again));
            let next = body(&again)["refresh_token"].as_str().unwrap().to_owned();
            let third = call(&token, refresh(&next)).await;
            assert_eq!(third.status(), 200, "{fault}: {}", body(&third));
            seen.push((
                grant,
                GrantSeen {
                    refreshed: 2,
                    unknown: 1,
                    revoked: false,
                },
            ));
        }
    }
    s.assert_consistent(&seen).await;
}

fn assert_token_unavailable(response: &lambda_http::Response<lambda_http::Body>) {
    assert_unavailable(response);
    assert_eq!(header(response, "cache-control"), "no-store");
}

#[tokio::test]
async fn sqlite_a_token_request_sent_again_after_any_fault_never_leaves_two_live_generations() {
    tokens_sent_again(Adapter::Sqlite).await;
}

#[tokio::test]
async fn dynamo_a_token_request_sent_again_after_any_fault_never_leaves_two_live_generations() {
    tokens_sent_again(Adapter::Dynamo).await;
}

#[tokio::test]
async fn sign_in_pages_and_userinfo_answer_503_with_retry_after_when_the_store_fails() {
    let ctx = context(Dispatch::Inline);
    let s = Stack::new(&ctx, Adapter::Sqlite).await;
    let uri = RedirectUri::parse(REDIRECT).unwrap();
    let (client, _) = Client::new_confidential("Faulty", vec![uri], Scopes::all()).unwrap();
    ClientRepo::new(s.direct.clone())
        .create(&client)
        .await
        .unwrap();
    let authorize = authorize_fn::App::new(s.context.clone());
    let userinfo = userinfo_fn::App::new(s.context.clone());
    let bearer = testkit::tokens::access_token(&s.context, "P1", "openid profile");
    for fault in Fault::ALL {
        s.faults.fail_next(Op::ALL, fault);
        let page = call(
            &authorize,
            Event::get(&oauth::authorize_path(
                client.id.as_str(),
                REDIRECT,
                "openid",
                &[],
            )),
        )
        .await;
        assert_eq!(page.status(), 503, "{fault}");
        assert!(page.headers().contains_key("retry-after"));

        s.faults.fail_next(Op::ALL, fault);
        let info = call(&userinfo, Event::get("/oauth/userinfo").bearer(&bearer)).await;
        assert_eq!(info.status(), 503, "{fault}");
        assert!(info.headers().contains_key("retry-after"));
    }
}
