//! Rate limits of account actions that send mail or create accounts: registration, the
//! verification and reset mails, email changes. Each limit is a counter per subject (a client IP
//! bucket, or the hash of an address or patient id) in fixed windows of [`WINDOW_SECS`]
//! ([`layout::action_counter`]: `LIMIT#{action}#{subject}` / `WINDOW#{n}`).
//!
//! Taking a unit is ONE conditional add: `count + 1` only while `count` is below the limit, so
//! the check and the count are the same atomic write and concurrent requests can never take more
//! than the limit between them (unlike a read followed by a write). The item expires with its
//! window, so a new window starts from zero with no reset write.

use std::sync::Arc;

use super::throttle::ip_bucket;
use super::RepoError;
use crate::crypto::sha256_b64url;
use crate::store::{layout, now_unix, Condition, Store, Update};

/// Length of a window, seconds.
pub const WINDOW_SECS: i64 = 60 * 60;

const COUNT: &str = "count";

/// One limited action: its name in keys and how many units a subject gets per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Name in keys, e.g. `register-ip`.
    pub action: &'static str,
    /// Units per subject per window.
    pub per_window: i64,
}

/// Registrations from one client address bucket: a household or a practice's front desk
/// registering several people gets through, a script does not.
pub const REGISTER_PER_IP: Limit = Limit {
    action: "register-ip",
    per_window: 10,
};
/// Registrations (and "someone tried to register" mails) per address.
pub const REGISTER_PER_ADDRESS: Limit = Limit {
    action: "register-address",
    per_window: 3,
};
/// Verification mails sent again, per account.
pub const VERIFY_MAIL_PER_ACCOUNT: Limit = Limit {
    action: "verify-mail",
    per_window: 3,
};
/// Verification mails sent again, per client address bucket.
pub const VERIFY_MAIL_PER_IP: Limit = Limit {
    action: "verify-mail-ip",
    per_window: 10,
};
/// Password-reset requests from one client address bucket.
pub const RESET_PER_IP: Limit = Limit {
    action: "reset-ip",
    per_window: 10,
};
/// Password-reset mails per address.
pub const RESET_PER_ADDRESS: Limit = Limit {
    action: "reset-address",
    per_window: 3,
};
/// Email-change confirmation mails per account.
pub const EMAIL_CHANGE_PER_ACCOUNT: Limit = Limit {
    action: "email-change",
    per_window: 3,
};

/// The subject of a limit.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    /// A client address, counted per IPv4 address or IPv6 /64.
    Ip(&'a str),
    /// Anything else identifying (an address's lookup form, a patient id): only its hash is
    /// stored.
    Hashed(&'a str),
}

impl Subject<'_> {
    fn key_part(&self) -> String {
        match self {
            Subject::Ip(ip) => ip_bucket(ip),
            Subject::Hashed(text) => sha256_b64url(text.as_bytes()),
        }
    }
}

/// Counters of account actions.
#[derive(Clone)]
pub struct LimitRepo {
    store: Arc<dyn Store>,
}

impl LimitRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Takes one unit of `limit` for `subject`: `true` if it was available (and is now used),
    /// `false` if the subject is at its limit for this window. One round trip.
    pub async fn take(&self, limit: Limit, subject: Subject<'_>) -> Result<bool, RepoError> {
        self.take_at(limit, subject, now_unix()).await
    }

    async fn take_at(
        &self,
        limit: Limit,
        subject: Subject<'_>,
        now: i64,
    ) -> Result<bool, RepoError> {
        let window = now.div_euclid(WINDOW_SECS);
        let key = layout::action_counter(limit.action, &subject.key_part(), window);
        let update = Update::default()
            .add(COUNT, 1)
            .expire_at((window + 1) * WINDOW_SECS);
        match self
            .store
            .update(
                &key,
                update,
                Condition::Below(COUNT.into(), limit.per_window),
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if error.is_condition_failure() => Ok(false),
            Err(other) => Err(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn repo(dir: &tempfile::TempDir) -> LimitRepo {
        LimitRepo::new(Arc::new(
            SqliteStore::open(dir.path().join("t.db")).unwrap(),
        ))
    }

    #[tokio::test]
    async fn a_subject_gets_its_units_per_window_and_others_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let limits = repo(&dir);
        // An hour ahead, 100 s into a window: never straddles a boundary while running.
        let now = (now_unix().div_euclid(WINDOW_SECS) + 2) * WINDOW_SECS + 100;
        let anna = Subject::Hashed("anna@example.org");
        for _ in 0..REGISTER_PER_ADDRESS.per_window {
            assert!(limits
                .take_at(REGISTER_PER_ADDRESS, anna, now)
                .await
                .unwrap());
        }
        assert!(!limits
            .take_at(REGISTER_PER_ADDRESS, anna, now)
            .await
            .unwrap());
        let bert = Subject::Hashed("bert@example.org");
        assert!(limits
            .take_at(REGISTER_PER_ADDRESS, bert, now)
            .await
            .unwrap());
        assert!(limits
            .take_at(VERIFY_MAIL_PER_ACCOUNT, anna, now)
            .await
            .unwrap());
        let next = now + WINDOW_SECS;
        assert!(limits
            .take_at(REGISTER_PER_ADDRESS, anna, next)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn concurrent_takes_never_exceed_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let limits = repo(&dir);
        let now = (now_unix().div_euclid(WINDOW_SECS) + 2) * WINDOW_SECS + 100;
        let takes = (0..20).map(|_| {
            let limits = limits.clone();
            tokio::spawn(async move {
                limits
                    .take_at(REGISTER_PER_IP, Subject::Ip("198.51.100.7"), now)
                    .await
                    .unwrap()
            })
        });
        let mut granted = 0;
        for take in takes {
            granted += usize::from(take.await.unwrap());
        }
        assert_eq!(granted, REGISTER_PER_IP.per_window as usize);
    }
}
