//! Authenticator-app codes (RFC 6238 TOTP): 160-bit secrets, 30-second steps, 6 digits, HMAC-SHA-1
//! (what every authenticator app speaks), one step of drift either way. The HMAC and the
//! `otpauth://` URI are `totp-rs`'s; the QR code is rendered here as SVG, so the enrolment page
//! needs no script and no image request.
//!
//! Which step a code matched is returned, so the caller can accept each step once (RFC 6238 §5.2):
//! the store raises the patient's last accepted step with a conditional write.

use std::fmt;

use qrcode::render::svg;
use qrcode::QrCode;
use totp_rs::{Builder, Secret, Totp};

/// Bytes of a secret (RFC 4226 §4 recommends 160 bits).
pub const SECRET_BYTES: usize = 20;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;

/// The `issuer` of the `otpauth://` URI: what the authenticator app shows above the code.
pub const ISSUER_LABEL: &str = "MyPatientPortal";

/// A TOTP secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// A text that is not a base32 TOTP secret of [`SECRET_BYTES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a base32 TOTP secret of 160 bits")]
pub struct BadSecret;

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate() -> TotpSecret {
        TotpSecret(crate::crypto::random_bytes(SECRET_BYTES))
    }

    /// The secret from its base32 form (as stored).
    pub fn from_base32(text: &str) -> Result<TotpSecret, BadSecret> {
        let bytes = Secret::try_from_base32(text).map_err(|_| BadSecret)?;
        match bytes.as_bytes() {
            bytes if bytes.len() == SECRET_BYTES => Ok(TotpSecret(bytes.to_vec())),
            _ => Err(BadSecret),
        }
    }

    /// The base32 form (RFC 4648, no padding): what is stored and what people type into apps.
    pub fn to_base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    fn totp(&self, account: &str) -> Totp {
        // Defaults are RFC 6238's: SHA-1, 6 digits, 30 s, one step of skew. The secret has the
        // recommended length and the account name (an email address) holds no `:` in practice;
        // should one, the URI is built without it rather than failing.
        let account = account.replace(':', " ");
        Builder::new()
            .with_secret(self.0.clone())
            .with_issuer(Some(ISSUER_LABEL))
            .with_account_name(account)
            .build_noncompliant()
    }

    /// The `otpauth://totp/…` URI an authenticator app reads (Key Uri Format), for `account`.
    pub fn uri(&self, account: &str) -> String {
        self.totp(account).to_url().unwrap_or_else(|_| {
            format!("otpauth://totp/{ISSUER_LABEL}?secret={}", self.to_base32())
        })
    }

    /// The step `code` is valid for at `now` (unix seconds), within one step either way; `None`
    /// for a wrong or malformed code. Spaces are ignored (apps show `123 456`).
    pub fn matching_step(&self, code: &str, now: i64) -> Option<i64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = u64::try_from(now).ok()?;
        let step = self.totp("").check(&code, now)?;
        i64::try_from(step).ok()
    }

    /// The code of the step `now` falls in (tests and the local demo compute codes with it).
    pub fn code_at(&self, now: i64) -> String {
        self.totp("")
            .generate(u64::try_from(now).unwrap_or_default())
            .to_string()
    }
}

/// The step `now` (unix seconds) falls in.
pub fn step_of(now: i64) -> i64 {
    now.div_euclid(STEP_SECS)
}

/// `text` as a QR code in SVG (dark modules on white, quiet zone kept), sized by the page's CSS.
/// `None` only if the text is too long for a QR code, which an `otpauth://` URI never is.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let document = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML: the XML declaration before the element has no place there.
    let start = document.find("<svg")?;
    Some(document[start..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_test_vectors_pass() {
        // RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890" (20 bytes); 8-digit codes
        // there, so their last 6 digits are ours.
        let secret = TotpSecret(b"12345678901234567890".to_vec());
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(secret.code_at(time), code, "{time}");
            assert_eq!(secret.matching_step(code, time), Some(step_of(time)));
        }
    }

    #[test]
    fn one_step_of_drift_is_accepted_two_are_not() {
        let secret = TotpSecret::generate();
        let now = 1_800_000_015;
        let code = secret.code_at(now);
        assert_eq!(secret.matching_step(&code, now), Some(step_of(now)));
        assert_eq!(secret.matching_step(&code, now + 30), Some(step_of(now)));
        assert_eq!(secret.matching_step(&code, now - 30), Some(step_of(now)));
        assert_eq!(secret.matching_step(&code, now + 60), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(secret.matching_step(&spaced, now), Some(step_of(now)));
        for bad in ["", "12345", "1234567", "abcdef", "12345a"] {
            assert_eq!(secret.matching_step(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn secrets_are_160_bits_and_survive_base32() {
        let secret = TotpSecret::generate();
        assert_eq!(secret.0.len(), 20);
        let text = secret.to_base32();
        assert_eq!(text.len(), 32);
        assert_eq!(TotpSecret::from_base32(&text).unwrap(), secret);
        assert_eq!(TotpSecret::from_base32("AAAA"), Err(BadSecret));
        assert!(!format!("{secret:?}").contains(&text));
    }

    #[test]
    fn the_uri_names_the_portal_and_account_and_the_qr_code_is_svg() {
        let secret = TotpSecret::generate();
        let uri = secret.uri("anna@example.org");
        assert!(
            uri.starts_with("otpauth://totp/MyPatientPortal:anna%40example.org?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", secret.to_base32())));
        assert!(uri.contains("issuer=MyPatientPortal"));
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg") && !svg.contains("<script"), "{svg}");
    }
}
