//! Passkeys, driven by a software authenticator (webauthn-authenticator-rs's `SoftPasskey`, which
//! signs like a real one) playing the browser's part: adding one on `/account/mfa/passkeys`,
//! signing in with it (two factors: `amr` hwk user mfa, loa:2 without a TOTP step), and the
//! refusals: another origin or relying party, a replayed answer, a removed passkey, a signature
//! counter that did not grow. The soft authenticator keeps no discoverable credentials, so the test
//! does what such an authenticator and the browser do for it: it answers a sign-in with its
//! credential and returns the user handle the registration stored.

use shared::domain::assurance::{Acr, Amr};
use shared::store::{layout, Condition, Update};
use testkit::forms::decode_entities;
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs_proto::{
    AllowCredentials, CreationChallengeResponse, RequestChallengeResponse, ResidentKeyRequirement,
};

use super::*;

const LOA2: &str = "urn:mypatientportal:loa:2";
/// The relying party's origin for the test issuer `http://127.0.0.1:9000`: browsers refuse IP
/// addresses as relying-party ids, so loopback issuers serve passkeys as `localhost`.
const ORIGIN: &str = "http://localhost:9000";

/// The options a passkey form carries in `data-passkey-options`.
fn options_of(page: &Reply) -> String {
    let needle = " data-passkey-options=\"";
    let start = page.body.find(needle).expect("a passkey form") + needle.len();
    let end = start + page.body[start..].find('"').unwrap();
    decode_entities(&page.body[start..end])
}

/// A software authenticator that verifies its user, and the credential it made.
struct Authenticator {
    token: SoftPasskey,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
}

impl Authenticator {
    fn new() -> Self {
        Authenticator {
            token: SoftPasskey::new(true),
            credential_id: Vec::new(),
            user_handle: Vec::new(),
        }
    }

    /// Answers the registration challenge of `page` (as the browser would from `origin`).
    fn register(&mut self, page: &Reply, origin: &str) -> String {
        let mut options: CreationChallengeResponse =
            serde_json::from_str(&options_of(page)).unwrap();
        let selection = options.public_key.authenticator_selection.as_ref().unwrap();
        assert!(selection.require_resident_key, "a discoverable credential");
        assert_eq!(
            selection.resident_key,
            Some(ResidentKeyRequirement::Required)
        );
        // The soft token cannot keep the credential itself; the test keeps the handle for it.
        self.user_handle = options.public_key.user.id.to_vec();
        let selection = options.public_key.authenticator_selection.as_mut().unwrap();
        selection.require_resident_key = false;
        selection.resident_key = None;
        let answer = self
            .token
            .do_registration(Url::parse(origin).unwrap(), options)
            .unwrap();
        self.credential_id = answer.raw_id.to_vec();
        serde_json::to_string(&answer).unwrap()
    }

    /// Answers the sign-in challenge of `page` with the credential (from `origin`).
    fn assert(&mut self, page: &Reply, origin: &str) -> String {
        let mut options: RequestChallengeResponse =
            serde_json::from_str(&options_of(page)).unwrap();
        assert!(
            options.public_key.allow_credentials.is_empty(),
            "any discoverable credential"
        );
        options.public_key.allow_credentials = vec![AllowCredentials {
            type_: "public-key".into(),
            id: self.credential_id.clone(),
            transports: None,
        }];
        let mut answer = self
            .token
            .do_authentication(Url::parse(origin).unwrap(), options)
            .unwrap();
        answer.response.user_handle = Some(self.user_handle.clone());
        serde_json::to_string(&answer).unwrap()
    }
}

/// A browser signed in with the password (consent given), on its passkey page.
async fn signed_in(world: &World) -> (Browser<'_>, Reply) {
    let mut browser = Browser::new(world);
    let mut done = browser
        .sign_in(&authorize_path(&world.client, &[]), PASSWORD)
        .await;
    if done.status == 303 {
        done = browser.answer_consent(&done, "allow").await;
    }
    assert_eq!(done.status, 302, "{}", done.body);
    let page = browser.get("/account/mfa/passkeys").await;
    assert_eq!(page.status, 200, "{}", page.body);
    (browser, page)
}

async fn add(browser: &mut Browser<'_>, page: &Reply, name: &str, credential: &str) -> Reply {
    browser
        .post(
            "/account/mfa/passkeys",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("ceremony", &page.hidden("ceremony")),
                ("credential", credential),
                ("name", name),
                ("action", "add"),
            ],
        )
        .await
}

/// A patient with a passkey added: the authenticator.
async fn with_passkey(world: &World) -> Authenticator {
    let (mut browser, page) = signed_in(world).await;
    let mut authenticator = Authenticator::new();
    let credential = authenticator.register(&page, ORIGIN);
    let added = add(&mut browser, &page, "Laptop", &credential).await;
    assert_eq!(added.status, 200, "{}", added.body);
    authenticator
}

/// A fresh browser's passkey sign-in page for an authorization request.
async fn passkey_page<'a>(world: &'a World, authorize: &str) -> (Browser<'a>, Reply) {
    let mut browser = Browser::new(world);
    let login = browser.login_page(authorize).await;
    assert!(
        login.body.contains("href=\"/oauth/passkey?request="),
        "{}",
        login.body
    );
    let sealed = login.hidden("request");
    let page = browser
        .get(&format!(
            "/oauth/passkey?request={}",
            url::form_urlencoded::byte_serialize(sealed.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    (browser, page)
}

async fn answer(browser: &mut Browser<'_>, page: &Reply, credential: &str) -> Reply {
    browser
        .post(
            "/oauth/passkey",
            &[
                ("csrf_token", &page.hidden("csrf_token")),
                ("request", &page.hidden("request")),
                ("ceremony", &page.hidden("ceremony")),
                ("credential", credential),
            ],
        )
        .await
}

#[tokio::test]
async fn a_patient_adds_a_passkey_and_signs_in_with_it_at_loa2_without_a_password() {
    let world = world().await;
    let (mut browser, page) = signed_in(&world).await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(page
        .body
        .contains("<script src=\"/oauth/passkey.js\" defer></script>"));
    assert!(
        page.body.contains("You have no passkeys yet."),
        "{}",
        page.body
    );

    let mut authenticator = Authenticator::new();
    let credential = authenticator.register(&page, ORIGIN);
    let added = add(&mut browser, &page, "  Laptop  ", &credential).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(
        added.body.contains("The passkey “Laptop” was added."),
        "{}",
        added.body
    );
    assert!(added.body.contains("<strong>Laptop</strong>"));
    assert!(
        added.body.contains("Kept on one device only"),
        "{}",
        added.body
    );
    let notices: Vec<String> = world
        .ctx
        .mails_to(EMAIL)
        .into_iter()
        .filter(|mail| mail.contains(&format!("{ISSUER}/account/mfa/passkeys")))
        .collect();
    assert_eq!(notices.len(), 1, "a security notice was mailed");

    // The same answer again: its challenge was taken.
    let again = add(&mut browser, &page, "Laptop", &credential).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("expired"), "{}", again.body);

    // A client asking for loa:2 gets it from the passkey alone: no password, no code page.
    let authorize = authorize_path(&world.client, &[("acr_values", LOA2), ("nonce", "n1")]);
    let (mut fresh, sign_in) = passkey_page(&world, &authorize).await;
    let csp = sign_in.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self';"), "{csp}");
    let assertion = authenticator.assert(&sign_in, ORIGIN);
    let done = answer(&mut fresh, &sign_in, &assertion).await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert!(fresh.session_cookie().is_some());
    let issued = open_code(&world, &done);
    assert_eq!(issued.amr, Amr::passkey(false, true));
    assert_eq!(issued.amr.values(), ["hwk", "user", "mfa"]);
    assert_eq!(issued.amr.acr(), Acr::Loa2);

    // The same assertion again (a replay): its challenge is gone.
    let mut thief = Browser::new(&world);
    let replayed = answer(&mut thief, &sign_in, &assertion).await;
    assert_eq!(replayed.status, 403, "another browser fails the CSRF check");
    let replayed = answer(&mut fresh, &sign_in, &assertion).await;
    assert_eq!(replayed.status, 400, "{}", replayed.body);
    assert!(replayed.body.contains("expired"), "{}", replayed.body);

    // The account page lists it as used.
    let list = browser.get("/account/mfa/passkeys").await;
    assert!(!list.body.contains("Last used: never"), "{}", list.body);
    let account = browser.get("/account").await;
    assert!(
        account.body.contains("Passkeys on your account: 1"),
        "{}",
        account.body
    );
}

#[tokio::test]
async fn answers_for_another_origin_or_relying_party_are_refused() {
    let world = world().await;
    let (mut browser, page) = signed_in(&world).await;
    let mut stranger = Authenticator::new();
    let credential = stranger.register(&page, "http://localhost:9001");
    let refused = add(&mut browser, &page, "Elsewhere", &credential).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("role=\"alert\""));
    assert!(
        refused.body.contains("You have no passkeys yet."),
        "{}",
        refused.body
    );

    let mut authenticator = with_passkey(&world).await;
    let authorize = authorize_path(&world.client, &[]);
    let (mut fresh, sign_in) = passkey_page(&world, &authorize).await;
    let assertion = authenticator.assert(&sign_in, "http://localhost:9001");
    let refused = answer(&mut fresh, &sign_in, &assertion).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(fresh.session_cookie().is_none());

    // Signed for another relying party (its id hash and origin).
    let (mut fresh, sign_in) = passkey_page(&world, &authorize).await;
    let mut options: RequestChallengeResponse =
        serde_json::from_str(&options_of(&sign_in)).unwrap();
    options.public_key.rp_id = "example.org".into();
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: authenticator.credential_id.clone(),
        transports: None,
    }];
    let mut other = authenticator
        .token
        .do_authentication(Url::parse("https://example.org").unwrap(), options)
        .unwrap();
    other.response.user_handle = Some(authenticator.user_handle.clone());
    let refused = answer(
        &mut fresh,
        &sign_in,
        &serde_json::to_string(&other).unwrap(),
    )
    .await;
    assert_eq!(refused.status, 401, "{}", refused.body);

    // Garbage is refused too, never a 500.
    let (mut fresh, sign_in) = passkey_page(&world, &authorize).await;
    let refused = answer(&mut fresh, &sign_in, "{not json").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
}

#[tokio::test]
async fn a_removed_passkey_is_refused_and_removal_needs_the_password() {
    let world = world().await;
    let mut authenticator = with_passkey(&world).await;
    let (mut browser, page) = signed_in(&world).await;
    let id = page.hidden("id");
    let remove = |password: &'static str| {
        [
            ("csrf_token", page.hidden("csrf_token")),
            ("action", "remove".to_owned()),
            ("id", id.clone()),
            ("password", password.to_owned()),
        ]
    };
    let form = remove("not my password");
    let pairs: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let refused = browser.post("/account/mfa/passkeys", &pairs).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(
        refused.body.contains("<strong>Laptop</strong>"),
        "still there"
    );
    let form = remove(PASSWORD);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let removed = browser.post("/account/mfa/passkeys", &pairs).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert!(
        removed.body.contains("The passkey was removed."),
        "{}",
        removed.body
    );
    assert!(removed.body.contains("You have no passkeys yet."));

    let (mut fresh, sign_in) = passkey_page(&world, &authorize_path(&world.client, &[])).await;
    let assertion = authenticator.assert(&sign_in, ORIGIN);
    let refused = answer(&mut fresh, &sign_in, &assertion).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(fresh.session_cookie().is_none());
}

#[tokio::test]
async fn a_signature_counter_that_did_not_grow_is_refused() {
    let world = world().await;
    let mut authenticator = with_passkey(&world).await;
    let authorize = authorize_path(&world.client, &[]);
    let (mut fresh, sign_in) = passkey_page(&world, &authorize).await;
    let done = answer(
        &mut fresh,
        &sign_in,
        &authenticator.assert(&sign_in, ORIGIN),
    )
    .await;
    assert_eq!(done.status, 302, "{}", done.body);

    // Another copy of the key signed meanwhile and moved the stored counter past this one's.
    let hash = shared::crypto::sha256_b64url(&authenticator.credential_id);
    let key = layout::passkey(world.patient.id.as_str(), &hash);
    let store = world.ctx.store();
    let stored = store.get(&key).await.unwrap().unwrap();
    let mut credential: serde_json::Value =
        serde_json::from_str(stored.string("credential").unwrap()).unwrap();
    credential["cred"]["counter"] = json!(100);
    store
        .update(
            &key,
            Update::default()
                .set("counter", 100)
                .set("credential", credential.to_string()),
            Condition::Exists,
        )
        .await
        .unwrap();
    let (mut fresh, sign_in) = passkey_page(&world, &authorize).await;
    let refused = answer(
        &mut fresh,
        &sign_in,
        &authenticator.assert(&sign_in, ORIGIN),
    )
    .await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused.body.contains("copied"), "{}", refused.body);
    assert!(fresh.session_cookie().is_none());
}

#[tokio::test]
async fn the_ceremony_script_is_served_cacheable_and_other_pages_allow_no_script() {
    let world = world().await;
    let mut browser = Browser::new(&world);
    let script = browser.get("/oauth/passkey.js").await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.headers["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(script.headers["cache-control"], "public, max-age=86400");
    assert!(script.body.contains("navigator.credentials"));
    let login = browser
        .login_page(&authorize_path(&world.client, &[]))
        .await;
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(!csp.contains("script-src"), "{csp}");
    assert!(!login.body.contains("<script"));
    let stranger = browser.get("/account/mfa/passkeys").await;
    assert_eq!(stranger.status, 303, "a session is needed");
}
