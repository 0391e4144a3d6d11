//! Login throttling: failure counters in fixed windows, per account and per client IP.
//!
//! Keys ([`layout::account_failures`], [`layout::address_failures`]):
//! `THROTTLE#ACCOUNT#{sha256(account)}` and `THROTTLE#IP#{ip}`, sort key `WINDOW#{n}` where `n`
//! is the number of the [`WINDOW_SECS`] window since the epoch. Putting the window in the key makes
//! each window its own counter, so recording a failure is one blind `add 1` that also sets the
//! window's end as expiry (the same value on every update), and a new window starts from zero with no
//! reset write. Accounts are keyed by a hash so no email address appears in keys or metrics.
//!
//! Limits (OWASP authentication guidance: lock briefly after a handful of failures):
//! - [`MAX_ACCOUNT_FAILURES`] = 5 failed passwords per account per 15 minutes: online guessing gets
//!   at most 480 tries a day per account, while a patient who mistypes a few times waits at most 15
//!   minutes. The flip side (anyone can lock an account for 15 minutes) is bounded by that window.
//! - [`MAX_IP_FAILURES`] = 20 per client address per 15 minutes: slows one source spraying many
//!   accounts, high enough for a practice's shared connection. IPv6 clients are counted per /64,
//!   since one subscriber usually holds a whole /64 and could otherwise rotate addresses freely.

use std::net::IpAddr;
use std::sync::Arc;

use super::RepoError;
use crate::crypto;
use crate::store::{layout, now_unix, Condition, Item, Key, Store, Update};

/// Length of a throttling window, seconds.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Failures per account within one window after which the account is locked until the window ends.
pub const MAX_ACCOUNT_FAILURES: i64 = 5;
/// Failures per client address within one window after which the address is locked until it ends.
pub const MAX_IP_FAILURES: i64 = 20;

const COUNT: &str = "failures";

/// Failure counts in the current window after recording one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureCounts {
    /// Failures of this account.
    pub account: i64,
    /// Failures from this client address.
    pub ip: i64,
}

impl FailureCounts {
    /// Whether these counts lock the next attempt.
    pub fn is_locked(&self) -> bool {
        self.account >= MAX_ACCOUNT_FAILURES || self.ip >= MAX_IP_FAILURES
    }
}

/// Window number and end (unix seconds) of the window holding `now`.
fn window(now: i64) -> (i64, i64) {
    let n = now.div_euclid(WINDOW_SECS);
    (n, (n + 1) * WINDOW_SECS)
}

fn account_key(account: &str, n: i64) -> Key {
    layout::account_failures(account, n)
}

fn ip_key(ip: &str, n: i64) -> Key {
    layout::address_failures(&ip_bucket(ip), n)
}

/// The counter an address belongs to: IPv4 as is, IPv6 by its /64 (IPv4-mapped IPv6 as IPv4), and
/// anything unparsable by hash (so hostile text never lands in a key as is).
fn ip_bucket(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => format!("H{}", crypto::sha256_b64url(ip.as_bytes())),
    }
}

fn count(item: Option<&Item>) -> Result<i64, RepoError> {
    match item {
        Some(item) => Ok(item.number(COUNT)?),
        None => Ok(0),
    }
}

/// Login failure counters.
#[derive(Clone)]
pub struct ThrottleRepo {
    store: Arc<dyn Store>,
}

impl ThrottleRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Counts one failed login for `account` (pass [`crate::domain::Email::lookup_key`] so letter
    /// case does not matter; unknown accounts are counted too, so lockout does not reveal which exist)
    /// from client address `ip`. One round trip per counter, both sent at once.
    pub async fn record_failure(
        &self,
        account: &str,
        ip: &str,
    ) -> Result<FailureCounts, RepoError> {
        self.record_failure_at(account, ip, now_unix()).await
    }

    async fn record_failure_at(
        &self,
        account: &str,
        ip: &str,
        now: i64,
    ) -> Result<FailureCounts, RepoError> {
        let (n, end) = window(now);
        let bump = || Update::default().add(COUNT, 1).expire_at(end);
        let (account_key, ip_key) = (account_key(account, n), ip_key(ip, n));
        let (account_item, ip_item) = tokio::try_join!(
            self.store.update(&account_key, bump(), Condition::None),
            self.store.update(&ip_key, bump(), Condition::None),
        )?;
        Ok(FailureCounts {
            account: count(Some(&account_item))?,
            ip: count(Some(&ip_item))?,
        })
    }

    /// If the account or the address is locked, the seconds until it may try again (at least 1).
    /// Check this before verifying a password. One round trip per counter, both sent at once.
    pub async fn is_locked(&self, account: &str, ip: &str) -> Result<Option<u64>, RepoError> {
        self.is_locked_at(account, ip, now_unix()).await
    }

    async fn is_locked_at(
        &self,
        account: &str,
        ip: &str,
        now: i64,
    ) -> Result<Option<u64>, RepoError> {
        let (n, end) = window(now);
        let (account_key, ip_key) = (account_key(account, n), ip_key(ip, n));
        let (account_item, ip_item) =
            tokio::try_join!(self.store.get(&account_key), self.store.get(&ip_key))?;
        let counts = FailureCounts {
            account: count(account_item.as_ref())?,
            ip: count(ip_item.as_ref())?,
        };
        Ok(counts
            .is_locked()
            .then(|| u64::try_from(end - now).unwrap_or(1).max(1)))
    }

    /// Forgets the account's failures (after a successful login), so earlier typos do not count
    /// towards a later lockout. Address counters are kept. One round trip.
    pub async fn clear_account(&self, account: &str) -> Result<(), RepoError> {
        self.clear_account_at(account, now_unix()).await
    }

    async fn clear_account_at(&self, account: &str, now: i64) -> Result<(), RepoError> {
        let (n, _) = window(now);
        self.store
            .delete(&account_key(account, n), Condition::None)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    /// 100 s into a window an hour ahead: every counter it writes outlives the test in real time,
    /// and the test never straddles a window boundary however slowly it runs.
    fn start() -> i64 {
        let (n, _) = window(now_unix());
        (n + 4) * WINDOW_SECS + 100
    }

    fn repo(dir: &tempfile::TempDir) -> ThrottleRepo {
        ThrottleRepo::new(Arc::new(
            SqliteStore::open(dir.path().join("t.db")).unwrap(),
        ))
    }

    #[tokio::test]
    async fn an_account_locks_after_the_limit_until_the_window_ends() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        for i in 1..MAX_ACCOUNT_FAILURES {
            let counts = throttle
                .record_failure_at("anna@example.org", "198.51.100.7", now)
                .await
                .unwrap();
            assert_eq!(counts.account, i);
            assert!(!counts.is_locked());
            assert_eq!(
                throttle
                    .is_locked_at("anna@example.org", "198.51.100.7", now)
                    .await
                    .unwrap(),
                None
            );
        }
        let counts = throttle
            .record_failure_at("anna@example.org", "198.51.100.7", now)
            .await
            .unwrap();
        assert!(counts.is_locked());
        let retry = throttle
            .is_locked_at("anna@example.org", "203.0.113.9", now)
            .await
            .unwrap();
        assert_eq!(
            retry,
            Some((WINDOW_SECS - 100) as u64),
            "locked from any address"
        );
        assert_eq!(
            throttle
                .is_locked_at("other@example.org", "203.0.113.9", now)
                .await
                .unwrap(),
            None,
            "other accounts are not affected"
        );
    }

    #[tokio::test]
    async fn a_lock_lifts_in_the_next_window() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        for _ in 0..MAX_ACCOUNT_FAILURES {
            throttle
                .record_failure_at("anna@example.org", "198.51.100.7", now)
                .await
                .unwrap();
        }
        assert!(throttle
            .is_locked_at("anna@example.org", "198.51.100.7", now)
            .await
            .unwrap()
            .is_some());
        assert_eq!(
            throttle
                .is_locked_at("anna@example.org", "198.51.100.7", now + WINDOW_SECS)
                .await
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn an_address_locks_after_its_limit_across_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        for i in 0..MAX_IP_FAILURES {
            throttle
                .record_failure_at(&format!("user{i}@example.org"), "198.51.100.7", now)
                .await
                .unwrap();
        }
        assert!(throttle
            .is_locked_at("fresh@example.org", "198.51.100.7", now)
            .await
            .unwrap()
            .is_some());
        assert_eq!(
            throttle
                .is_locked_at("fresh@example.org", "198.51.100.8", now)
                .await
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn clearing_an_account_resets_its_count() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        for _ in 0..MAX_ACCOUNT_FAILURES - 1 {
            throttle
                .record_failure_at("anna@example.org", "198.51.100.7", now)
                .await
                .unwrap();
        }
        throttle
            .clear_account_at("anna@example.org", now)
            .await
            .unwrap();
        let counts = throttle
            .record_failure_at("anna@example.org", "198.51.100.7", now)
            .await
            .unwrap();
        assert_eq!(counts.account, 1);
        assert_eq!(counts.ip, MAX_ACCOUNT_FAILURES, "address counter is kept");
    }

    #[test]
    fn ipv6_addresses_share_a_counter_per_64_and_junk_is_hashed() {
        assert_eq!(
            ip_bucket("2001:db8:1:2:aaaa::1"),
            ip_bucket("2001:db8:1:2:bbbb::2")
        );
        assert_ne!(ip_bucket("2001:db8:1:2::1"), ip_bucket("2001:db8:1:3::1"));
        assert_eq!(ip_bucket("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(ip_bucket("198.51.100.7"), "198.51.100.7");
        let junk = ip_bucket("not an ip\u{0}#");
        assert!(junk.starts_with('H') && junk.len() == 44, "{junk}");
    }
}
