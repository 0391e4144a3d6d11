//! Patient passwords: argon2id hashes in PHC string form.
//!
//! Parameters are OWASP's first argon2id recommendation: m = 19456 KiB (19 MiB), t = 2, p = 1.
//! - Memory: 19 MiB per hash fits comfortably in a 128-256 MB Lambda next to the runtime, and one
//!   instance serves one request at a time, so there is never more than one hash in flight.
//! - Time: a few tens of milliseconds at 1 vCPU. Lambda gives CPU in proportion to memory (about one
//!   vCPU at 1,769 MB), so at 128-256 MB a hash takes several times longer; the login function should
//!   be sized with that in mind rather than weakening the parameters.
//! - p = 1: Lambda's small sizes have at most one core's worth of CPU, so more lanes would only add
//!   time without adding cost for an attacker.
//!
//! The PHC string stores the parameters, so raising them later only affects new hashes; old hashes
//! keep verifying.
//!
//! Hashing is CPU-bound and synchronous: call it from a handler that owns its instance (Lambda), or
//! through `tokio::task::spawn_blocking` where other requests share the runtime.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore as _;

/// Memory cost, KiB.
pub const MEMORY_KIB: u32 = 19_456;
/// Iterations.
pub const TIME_COST: u32 = 2;
/// Lanes.
pub const PARALLELISM: u32 = 1;
/// Shortest accepted password, in characters: above NIST SP 800-63B's floor of 8 for user-chosen
/// secrets, since the portal guards health data and has no second factor yet.
pub const MIN_CHARS: usize = 10;
/// Longest accepted password, in characters: long passphrases are welcome, megabyte bodies are not.
pub const MAX_CHARS: usize = 1024;

/// Salt length in bytes (the PHC recommendation of 16).
const SALT_BYTES: usize = 16;

/// A hash with exactly the parameters above, of a password nobody knows, so that checking a login for
/// an unknown email costs the same time as checking a wrong password for a known one.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$zNhbcn7ZKh5Ms9ItMX2cXQ$mmFMEXG0Z9Lq7dc7r8e3VJbnwlKK3ZDwfkAjzVq1seI";

/// Why a password cannot be set.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// The password is shorter than [`MIN_CHARS`] or longer than [`MAX_CHARS`] characters.
    #[error("the password must be 10 to 1024 characters long")]
    PasswordPolicy,
    /// The password is one of the most common ones ([`super::common_passwords`]), which attackers
    /// try first.
    #[error("the password is one of the most common passwords; choose another")]
    TooCommon,
    /// The hashing library failed (not expected with fixed parameters).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Checks the password rules without hashing (for form validation before any expensive work): the
/// length, then the list of common passwords. Every way of setting a password (registration,
/// reset, change, `portal-admin`) goes through here.
pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if !(MIN_CHARS..=MAX_CHARS).contains(&chars) {
        return Err(PasswordError::PasswordPolicy);
    }
    if super::common_passwords::is_common(password) {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(MEMORY_KIB, TIME_COST, PARALLELISM, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password that meets the policy; returns the PHC string to store.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    check_policy(password)?;
    let mut salt = [0u8; SALT_BYTES];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    let hash = hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Password verifications (argon2 runs, the dummy ones included) this process has made.
static VERIFICATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many passwords this process has verified with argon2 so far (dummy verifications of
/// unknown accounts included). Tests use it to prove that a throttled attempt never reaches the
/// expensive check; a counter costs nothing next to argon2.
pub fn verifications() -> u64 {
    VERIFICATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether `password` matches the stored PHC string. The comparison inside is constant time. A
/// password over [`MAX_CHARS`] cannot match any stored hash and is refused before hashing; a stored
/// string that is not a valid PHC hash never matches (and is logged, since it means corrupt data).
pub fn verify_password(phc: &str, password: &str) -> bool {
    VERIFICATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if password.chars().count() > MAX_CHARS {
        return false;
    }
    let parsed = match PasswordHash::new(phc) {
        Ok(parsed) => parsed,
        Err(error) => {
            tracing::error!(%error, "stored password hash is not a valid PHC string");
            return false;
        }
    };
    // The parameters come from the PHC string, so hashes made with older settings still verify.
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Spends the time of one verification against a fixed hash. Call it when the email is unknown so the
/// response time does not tell whether an account exists.
pub fn verify_dummy(password: &str) {
    std::hint::black_box(verify_password(DUMMY_PHC, password));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(&phc, "correct horse battery"));
        assert!(!verify_password(&phc, "correct horse batterY"));
        assert!(!verify_password(&phc, ""));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let a = hash_password("same password").unwrap();
        let b = hash_password("same password").unwrap();
        assert_ne!(a, b, "salts must differ");
    }

    #[test]
    fn the_policy_bounds_length_in_characters() {
        assert_eq!(hash_password("short"), Err(PasswordError::PasswordPolicy));
        assert_eq!(
            check_policy("ab3de6gh9"),
            Err(PasswordError::PasswordPolicy)
        );
        assert_eq!(check_policy("ab3de6gh9k"), Ok(()));
        assert_eq!(check_policy(&"é".repeat(1024)), Ok(()));
        assert_eq!(
            check_policy(&"é".repeat(1025)),
            Err(PasswordError::PasswordPolicy)
        );
    }

    #[test]
    fn a_common_password_is_refused_whatever_its_length_or_case() {
        assert_eq!(check_policy("1234567890"), Err(PasswordError::TooCommon));
        assert_eq!(check_policy("QwertyUIOP"), Err(PasswordError::TooCommon));
        assert_eq!(hash_password("1234567890"), Err(PasswordError::TooCommon));
        assert_eq!(check_policy("correct horse battery"), Ok(()));
    }

    #[test]
    fn a_malformed_or_foreign_hash_never_verifies() {
        assert!(!verify_password("", "password1"));
        assert!(!verify_password(
            "plaintext-password1",
            "plaintext-password1"
        ));
        assert!(!verify_password("$argon2id$v=19$garbage", "password1"));
    }

    #[test]
    fn the_dummy_hash_uses_the_current_parameters_so_it_costs_the_same() {
        let dummy = PasswordHash::new(DUMMY_PHC).unwrap();
        let real_phc = hash_password("some password").unwrap();
        let real = PasswordHash::new(&real_phc).unwrap();
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(
            dummy.hash.map(|h| h.len()),
            real.hash.map(|h| h.len()),
            "same output length"
        );
        verify_dummy("some password");
        assert!(!verify_password(DUMMY_PHC, "some password"));
    }
}
