//! Every page and mail in every language: each is rendered in English and in German and must meet
//! no catalog problem (a missing message, attribute or argument: production falls back to English,
//! here it fails), and the German one must hold no English left behind — neither a sentence of the
//! English catalog nor any text the templates write themselves. The catalogs themselves must hold
//! the same messages, each with the same attributes, in every language.

use std::collections::{BTreeMap, BTreeSet};

use fluent_syntax::ast::{Entry, Pattern, PatternElement};
use portal_tests::watch::workspace_root;
use shared::account::mails::AccountMail;
use shared::account::FieldError;
use shared::asap::message::Notification;
use shared::i18n::catalog::checked;
use shared::i18n::{Locale, Tr, SUPPORTED};
use shared::oauth::flow_error::PageError;
use shared::pages::account::{
    EmailFormPage, NoticePage, RegisterPage, RegisterValues, ResetPage, VerifyPage,
};
use shared::pages::mfa::{self, CodePage, RecoveryCodesPage, TotpActivePage, TotpEnrolPage};
use shared::pages::passkey::{self as passkey_page, PasskeyItem, PasskeySignInPage, PasskeysPage};
use shared::pages::{
    self, ConsentPage, DocsRedirectPage, LanguageSwitch, LoginPage, MessagePage, UnsubscribePage,
};
use shared::scope::Scopes;

/// What the pages show that is the same in every language: the brand, and the data a test puts in.
const SAME_IN_EVERY_LANGUAGE: &[&str] = &[
    "MyPatientPortal",
    CLIENT,
    TYPE,
    CATEGORY,
    "(Allgemeinmedizin)",
    "Vorsorge (Allgemeinmedizin)",
    SECRET,
    URI,
    RECOVERY_CODE,
    "a@example.org",
    PATIENT_EMAIL,
    PASSKEY_NAME,
    ROUTE,
    // The language choices of the account page name each language in itself.
    "English",
    "Deutsch",
];

const PATIENT_EMAIL: &str = "anna@example.org";
const ROUTE: &str = "GET /api/portal/v1/appointments/{id}";

/// English text that is also correct German (true cognates). Empty today; a phrase goes here
/// only when a German speaker would write exactly the same.
const COGNATES: &[&str] = &[];

const CLIENT: &str = "Praxis Sonnenschein";
const TYPE: &str = "Vorsorge";
const CATEGORY: &str = "Allgemeinmedizin";
const SECRET: &str = "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP";
const URI: &str = "otpauth://totp/MyPatientPortal:anna%40example.org?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=MyPatientPortal";
const RECOVERY_CODE: &str = "ABCD-EFGH-JKLM-NP23";
const PASSKEY_NAME: &str = "Pixel 9";

fn german() -> Locale {
    Locale::parse("de").unwrap()
}

/// One rendered text of every kind a patient can be shown, in `locale`, named.
fn everything(locale: Locale) -> Vec<(String, String)> {
    let tr = Tr::new(locale);
    let switch = || LanguageSwitch::get("/oauth/authorize", &[("client_id", "c1")]);
    let mut out = Vec::new();
    let mut add = |name: &str, text: String| out.push((name.to_owned(), text));

    add(
        "login",
        pages::render(&LoginPage::new(tr, CLIENT, "tok", "sealed")),
    );
    add(
        "login with registration, unverified",
        pages::render(
            &LoginPage::new(tr, CLIENT, "tok", "sealed")
                .with_email("a@example.org")
                .with_register(true)
                .unverified(),
        ),
    );
    account_pages(tr, &mut add);
    console_pages(tr, &mut add);
    for error in [
        pages::BAD_CREDENTIALS,
        pages::TOO_MANY_ATTEMPTS,
        pages::MISSING_CREDENTIALS,
    ] {
        add(
            &format!("login with {error}"),
            pages::render(
                &LoginPage::new(tr, CLIENT, "tok", "sealed")
                    .with_email("a@example.org")
                    .with_error(error),
            ),
        );
    }
    add(
        "consent",
        pages::render(&ConsentPage::new(
            tr,
            CLIENT,
            &Scopes::all(),
            "tok",
            "sealed",
        )),
    );
    for error in [
        PageError::UnknownClient,
        PageError::BadRedirectUri,
        PageError::RequestExpired,
        PageError::Csrf,
        PageError::BadForm("error-missing-decision"),
        PageError::BadForm("error-passkeys-off"),
        PageError::BadForm("error-missing-passkey-action"),
        PageError::Unavailable,
        PageError::Internal,
    ] {
        add(
            &format!("error page {error:?}"),
            pages::render(&MessagePage::error(tr, switch(), error.message_id())),
        );
    }
    for id in [
        "error-unreadable-form",
        "unsubscribe-invalid",
        "unsubscribe-already",
    ] {
        add(id, pages::render(&MessagePage::error(tr, switch(), id)));
    }
    for id in ["signed-out", "unsubscribe-done"] {
        add(id, pages::render(&MessagePage::notice(tr, switch(), id)));
    }
    add(
        "signed-out-no-return",
        pages::render(&MessagePage::new(
            tr,
            switch(),
            "signed-out-no-return",
            &[("detail", "post_logout_redirect_uri")],
            true,
        )),
    );
    add(
        "API docs sign-in return",
        pages::render(&DocsRedirectPage {
            tr,
            script: "oauth2-redirect.js",
        }),
    );
    add(
        "second-factor code page",
        pages::render(&CodePage::new(tr, CLIENT, "tok", "sealed", "pending")),
    );
    for error in [mfa::WRONG_CODE, mfa::USED_CODE, mfa::TOO_MANY_CODES] {
        add(
            &format!("second-factor code page with {error}"),
            pages::render(&CodePage::new(tr, CLIENT, "tok", "sealed", "").with_error(error)),
        );
    }
    let qr = shared::domain::totp::qr_svg(URI).unwrap();
    for error in [None, Some(mfa::WRONG_CODE), Some("totp-enrol-expired")] {
        add(
            &format!("authenticator setup with {error:?}"),
            pages::render(&TotpEnrolPage {
                tr,
                switch: switch(),
                csrf_token: "tok",
                request: "",
                enrolment: "sealed",
                uri: URI,
                secret: SECRET.to_owned(),
                qr_svg: &qr,
                error,
                passkeys: false,
            }),
        );
    }
    add(
        "authenticator setup of a sign-in, with the passkey way",
        pages::render(&TotpEnrolPage {
            tr,
            switch: switch(),
            csrf_token: "tok",
            request: "sealed",
            enrolment: "sealed",
            uri: URI,
            secret: SECRET.to_owned(),
            qr_svg: &qr,
            error: None,
            passkeys: true,
        }),
    );
    add(
        "login with the passkey link",
        pages::render(&LoginPage::new(tr, CLIENT, "tok", "sealed").with_passkeys(true)),
    );
    add(
        "second-factor code page with the passkey link",
        pages::render(&CodePage::new(tr, CLIENT, "tok", "sealed", "").with_passkeys(true)),
    );
    passkey_pages(tr, &mut add);
    let codes = vec![RECOVERY_CODE.to_owned(); 10];
    add(
        "recovery codes",
        pages::render(&RecoveryCodesPage {
            tr,
            switch: switch(),
            codes: &codes,
            continue_to: Some("sealed".into()),
        }),
    );
    for error in [
        None,
        Some(mfa::REMOVAL_REFUSED),
        Some("totp-already-enrolled"),
    ] {
        add(
            &format!("authenticator status with {error:?}"),
            pages::render(&TotpActivePage {
                tr,
                switch: switch(),
                csrf_token: "tok",
                recovery_left: 7,
                error,
            }),
        );
    }
    add(
        "totp-removed",
        pages::render(&MessagePage::notice(tr, switch(), "totp-removed")),
    );
    add(
        "second-factor code page of the account sign-in",
        pages::render(&CodePage::for_account(tr, "tok", "pending")),
    );
    let when = shared::i18n::datetime::long(locale, chrono_tz::Europe::Berlin, 1_796_112_000);
    add(
        "unsubscribe",
        pages::render(&UnsubscribePage {
            tr,
            switch: switch(),
            type_name: TYPE,
            current: &when,
            action: "/asap/unsubscribe?token=t",
        }),
    );
    let mail = Notification {
        from: "MyPatientPortal <no-reply@portal.example>",
        to: "patient@example.org",
        locale,
        type_name: TYPE,
        category_name: CATEGORY,
        time_zone: chrono_tz::Europe::Berlin,
        offered_start: 1_796_112_000,
        current_start: 1_796_112_000 + 9 * 86_400,
        issuer: "https://portal.example",
        unsubscribe_token: "t",
        message_id: "m@portal.example".into(),
        now: 1_796_000_000,
    }
    .render()
    .expect("the ASAP mail renders");
    add("ASAP mail subject", mail.subject);
    add("ASAP mail text", mail.text);
    add("ASAP mail HTML", mail.html);
    for kind in AccountMail::ALL {
        let mail = kind
            .render(
                "MyPatientPortal <no-reply@portal.example>",
                "patient@example.org",
                locale,
                Some("https://portal.example/account/verify?token=t"),
                1_796_000_000,
            )
            .expect("the account mail renders");
        add(&format!("{kind:?} mail subject"), mail.subject);
        add(&format!("{kind:?} mail text"), mail.text);
        add(&format!("{kind:?} mail HTML"), mail.html);
    }
    out
}

/// The passkey sign-in (of a request and of the account page, with every problem it can show)
/// and the account's passkey page (empty, listing, after each action).
fn passkey_pages(tr: Tr, add: &mut impl FnMut(&str, String)) {
    let switch = || LanguageSwitch::get("/oauth/passkey", &[("request", "sealed")]);
    let options = r#"{"publicKey":{"challenge":"AAAA"}}"#;
    for (request, error) in [
        ("sealed", None),
        ("sealed", Some(passkey_page::REFUSED)),
        ("sealed", Some(passkey_page::EXPIRED)),
        ("sealed", Some(passkey_page::COUNTER)),
        ("sealed", Some(passkey_page::TOO_MANY)),
        ("", None),
    ] {
        add(
            &format!("passkey sign-in ({request:?}) with {error:?}"),
            pages::render(&PasskeySignInPage {
                tr,
                switch: switch(),
                client_name: CLIENT,
                csrf_token: "tok",
                request,
                ceremony: "ceremony",
                options,
                error,
            }),
        );
    }
    let views = vec![
        shared::oauth::passkey::PasskeyView {
            id: "h1".into(),
            name: PASSKEY_NAME.into(),
            created_at: 1_796_000_000,
            last_used_at: None,
            synced: true,
        },
        shared::oauth::passkey::PasskeyView {
            id: "h2".into(),
            name: PASSKEY_NAME.into(),
            created_at: 1_796_000_000,
            last_used_at: Some(1_796_100_000),
            synced: false,
        },
    ];
    let items = PasskeyItem::list(tr, views);
    let page = |passkeys, error, added, removed| {
        pages::render(&PasskeysPage {
            tr,
            switch: switch(),
            csrf_token: "tok",
            passkeys,
            ceremony: "ceremony",
            options,
            error,
            added,
            removed,
        })
    };
    add("passkeys, none", page(&[], None, None, false));
    add("passkeys, listed", page(&items, None, None, false));
    add(
        "passkeys, one added",
        page(&items, None, Some(PASSKEY_NAME), false),
    );
    add("passkeys, one removed", page(&items, None, None, true));
    for error in [
        passkey_page::REMOVAL_REFUSED,
        passkey_page::DUPLICATE,
        passkey_page::EXPIRED,
        passkey_page::REFUSED,
        passkey_page::TOO_MANY,
    ] {
        add(
            &format!("passkeys with {error}"),
            page(&items, Some(error), None, false),
        );
    }
}

/// The account page (with every notice and every problem it can show), its sign-in, its
/// email-change link page, and the pages after it.
fn console_pages(tr: Tr, add: &mut impl FnMut(&str, String)) {
    use shared::account::apps::ConnectedApp;
    use shared::account::overview::Overview;
    use shared::account::Rejected;
    use shared::audit::AccessRecord;
    use shared::domain::client::ClientId;
    use shared::domain::patient::{BirthDate, Email, Name, Patient};
    use shared::pages::console::{ConsolePage, Done, EmailConfirmPage};

    let patient = Patient::new(
        Email::parse(PATIENT_EMAIL).unwrap(),
        Name::parse("Anna", "first name").unwrap(),
        Name::parse("Muster", "last name").unwrap(),
        BirthDate::parse("1985-02-28").unwrap(),
        None,
    );
    let client_id = ClientId::parse("c1").unwrap();
    let overview = Overview {
        apps: vec![
            ConnectedApp {
                client_id: client_id.clone(),
                name: CLIENT.into(),
                scopes: Scopes::all(),
                granted_at: Some(1_796_000_000),
                last_used_at: None,
            },
            ConnectedApp {
                client_id: client_id.clone(),
                name: CLIENT.into(),
                scopes: Scopes::parse("openid").unwrap(),
                granted_at: None,
                last_used_at: Some(1_796_000_000),
            },
        ],
        recent_access: vec![(
            AccessRecord {
                at_ms: 1_796_000_000_000,
                client_id,
                patient_id: patient.id.clone(),
                route: ROUTE.into(),
                resource: None,
                status_class: "2xx".into(),
                error: None,
                request_id: None,
            },
            CLIENT.into(),
        )],
        patient,
        totp_recovery_left: Some(7),
        passkeys: 2,
    };
    let empty = Overview {
        apps: Vec::new(),
        recent_access: Vec::new(),
        totp_recovery_left: None,
        passkeys: 0,
        ..overview.clone()
    };
    add(
        "account page",
        pages::render(&ConsolePage::new(
            tr,
            "tok",
            &overview,
            chrono_tz::Europe::Berlin,
        )),
    );
    add(
        "empty account page",
        pages::render(&ConsolePage::new(
            tr,
            "tok",
            &empty,
            chrono_tz::Europe::Berlin,
        )),
    );
    for done in Done::ALL {
        add(
            &format!("account page, {done:?}"),
            pages::render(
                &ConsolePage::new(tr, "tok", &empty, chrono_tz::Europe::Berlin)
                    .with_done(Some(done)),
            ),
        );
    }
    for (field, message) in [
        ("given_name", "console-invalid-name"),
        ("family_name", "console-invalid-name"),
        ("birthdate", "console-invalid-birthdate"),
        ("phone_number", "console-invalid-phone"),
        ("new_email", "console-email-invalid"),
        ("new_email", "console-email-same"),
        ("new_email", "console-email-limit"),
        ("email_password", "console-password-wrong"),
        ("current_password", "console-password-missing"),
        ("current_password", "login-too-many-attempts"),
        ("new_password", "console-password-short"),
        ("new_password", "console-password-common"),
        ("delete_password", "console-password-wrong"),
    ] {
        add(
            &format!("account page, {field} {message}"),
            pages::render(
                &ConsolePage::new(tr, "tok", &empty, chrono_tz::Europe::Berlin)
                    .with_error(Rejected::new(field, message), None),
            ),
        );
    }
    add(
        "account sign-in",
        pages::render(&LoginPage::for_account(tr, "tok").with_register(true)),
    );
    add(
        "account sign-in, wrong password",
        pages::render(&LoginPage::for_account(tr, "tok").with_error(pages::BAD_CREDENTIALS)),
    );
    let switch = || LanguageSwitch::get("/account", &[]);
    add(
        "email change link",
        pages::render(&EmailConfirmPage {
            tr,
            switch: switch(),
            email: PATIENT_EMAIL,
            csrf_token: "tok",
            token: "t",
        }),
    );
    for id in [
        "console-signed-out-everywhere",
        "console-deleted",
        "console-email-changed",
    ] {
        add(id, pages::render(&MessagePage::notice(tr, switch(), id)));
    }
    for id in [
        "console-email-taken",
        "console-email-link-invalid",
        "console-language-unknown",
        "console-apps-unknown-client",
    ] {
        add(id, pages::render(&MessagePage::error(tr, switch(), id)));
    }
}

/// Every account page (registration, verification, recovery), with every problem it can show.
fn account_pages(tr: Tr, add: &mut impl FnMut(&str, String)) {
    let switch = || LanguageSwitch::get("/account/register", &[]);
    let errors = [
        ("email", "account-error-email"),
        ("password", "account-error-password-length"),
        ("password", "account-error-password-common"),
        ("given_name", "account-error-given-name"),
        ("family_name", "account-error-family-name"),
        ("birthdate", "account-error-birthdate"),
        ("phone_number", "account-error-phone"),
    ];
    add(
        "registration",
        pages::render(&RegisterPage {
            tr,
            switch: switch(),
            csrf_token: "tok",
            request: "sealed",
            values: RegisterValues::default(),
            errors: errors
                .iter()
                .map(|(field, message)| FieldError { field, message })
                .collect(),
            alert: Some("account-too-many"),
            token: None,
        }),
    );
    add(
        "claim",
        pages::render(&RegisterPage {
            tr,
            switch: switch(),
            csrf_token: "tok",
            request: "",
            values: RegisterValues {
                email: "anna@example.org",
                ..RegisterValues::default()
            },
            errors: vec![],
            alert: None,
            token: Some("link"),
        }),
    );
    for words in ["account-forgot", "account-resend"] {
        add(
            words,
            pages::render(&EmailFormPage {
                tr,
                switch: switch(),
                words,
                action: "/account/password/forgot",
                csrf_token: "tok",
                request: "",
                email: "a@example.org",
                error: Some("account-too-many"),
            }),
        );
    }
    add(
        "verify link",
        pages::render(&VerifyPage {
            tr,
            switch: switch(),
            email: "a@example.org",
            csrf_token: "tok",
            token: "t",
        }),
    );
    add(
        "reset link",
        pages::render(&ResetPage {
            tr,
            switch: switch(),
            csrf_token: "tok",
            token: "t",
            error: Some("account-error-password-common"),
        }),
    );
    for (id, alert, link) in [
        ("account-check-mail", false, None),
        ("account-verified", false, Some("account-continue")),
        ("account-password-changed", false, Some("account-continue")),
        ("account-link-invalid", true, Some("account-forgot-title")),
        ("account-link-invalid", true, Some("account-resend-title")),
    ] {
        add(
            id,
            pages::render(&NoticePage {
                tr,
                switch: switch(),
                id,
                alert,
                link: link.map(|text| ("/oauth/login?request=r".to_owned(), text)),
            }),
        );
    }
}

#[test]
fn every_page_and_mail_renders_in_every_language_without_a_catalog_problem() {
    for tag in SUPPORTED {
        let locale = Locale::parse(tag).unwrap();
        let (rendered, problems) = checked(|| everything(locale));
        assert!(problems.is_empty(), "{tag}: {problems:#?}");
        for (name, text) in rendered {
            if text.starts_with("<!doctype html>") {
                assert!(
                    text.contains(&format!("<html lang=\"{tag}\">")),
                    "{tag} {name} names its language"
                );
            }
        }
    }
}

#[test]
fn no_english_sentence_of_the_catalog_is_left_in_the_german_pages_and_mails() {
    let english = catalog_texts("en");
    assert!(english.len() > 40, "the English catalog was read");
    let (rendered, _) = checked(|| everything(german()));
    for (name, text) in &rendered {
        let text = decode(text);
        for phrase in &english {
            assert!(
                !text.contains(phrase.as_str()),
                "German {name} holds the English {phrase:?}:\n{text}"
            );
        }
    }
}

#[test]
fn no_text_of_the_german_pages_and_mails_is_left_as_the_english_one() {
    let (english, _) = checked(|| everything(Locale::ENGLISH));
    let (german, _) = checked(|| everything(german()));
    for ((name, en), (_, de)) in english.iter().zip(&german) {
        let english_texts: BTreeSet<String> = visible_texts(en).into_iter().collect();
        for text in visible_texts(de) {
            let same = english_texts.contains(&text)
                && !SAME_IN_EVERY_LANGUAGE.contains(&text.as_str())
                && !COGNATES.contains(&text.as_str())
                && text.chars().any(char::is_alphabetic)
                && !text.starts_with("https://");
            assert!(
                !same,
                "German {name} shows {text:?} exactly as the English one"
            );
        }
    }
}

#[test]
fn every_language_has_the_same_messages_with_the_same_attributes() {
    let reference = catalog_ids("en");
    assert!(reference.len() > 40);
    for tag in SUPPORTED {
        let ids = catalog_ids(tag);
        let missing: Vec<_> = reference.difference(&ids).collect();
        let extra: Vec<_> = ids.difference(&reference).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{tag}: missing {missing:?}, not in English {extra:?}"
        );
    }
}

/// Every `.ftl` file of a language, parsed (a syntax error fails the test with its message).
fn catalog(tag: &str) -> Vec<(String, fluent_syntax::ast::Resource<String>)> {
    let dir = workspace_root().join("shared/locales").join(tag);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "ftl"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let resource = fluent_syntax::parser::parse(text)
                .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", path.display()));
            (path.display().to_string(), resource)
        })
        .collect()
}

/// `id` and `id.attribute` of every message of a language.
fn catalog_ids(tag: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (_, resource) in catalog(tag) {
        for entry in resource.body {
            if let Entry::Message(message) = entry {
                let id = message.id.name;
                for attribute in &message.attributes {
                    ids.insert(format!("{id}.{}", attribute.id.name));
                }
                ids.insert(id);
            }
        }
    }
    ids
}

/// The text between the placeables of every message and attribute of a language that has more
/// than one word: what must not appear untranslated elsewhere.
fn catalog_texts(tag: &str) -> BTreeSet<String> {
    let mut texts = BTreeSet::new();
    let mut add = |pattern: &Pattern<String>| {
        for element in &pattern.elements {
            if let PatternElement::TextElement { value } = element {
                let value = value.trim();
                if value.split_whitespace().count() > 1 && !COGNATES.contains(&value) {
                    texts.insert(value.to_owned());
                }
            }
        }
    };
    for (_, resource) in catalog(tag) {
        for entry in resource.body {
            if let Entry::Message(message) = entry {
                if let Some(value) = &message.value {
                    add(value);
                }
                for attribute in &message.attributes {
                    add(&attribute.value);
                }
            }
        }
    }
    texts
}

/// The text a person reads in a page or mail: text between tags, `aria-label`, `title` and `alt`
/// attributes (plain text is taken line by line), entities decoded, styles left out.
fn visible_texts(document: &str) -> Vec<String> {
    if !document.contains('<') {
        return document
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect();
    }
    let without_style = match (document.find("<style>"), document.find("</style>")) {
        (Some(start), Some(end)) => format!("{}{}", &document[..start], &document[end..]),
        _ => document.to_owned(),
    };
    let mut texts = Vec::new();
    for chunk in without_style.split('<') {
        let (tag, text) = chunk.split_once('>').unwrap_or(("", chunk));
        for attribute in ["aria-label", "title", "alt"] {
            if let Some(value) = attribute_value(tag, attribute) {
                texts.push(decode(&value));
            }
        }
        let text = decode(text.trim());
        if !text.is_empty() {
            texts.push(text);
        }
    }
    texts
}

fn attribute_value(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(tag[start..end].to_owned())
}

/// HTML entities askama writes, decoded.
fn decode(text: &str) -> String {
    let entities = BTreeMap::from([
        ("&#38;", "&"),
        ("&#60;", "<"),
        ("&#62;", ">"),
        ("&#34;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
    ]);
    entities
        .iter()
        .fold(text.to_owned(), |text, (entity, plain)| {
            text.replace(entity, plain)
        })
}
