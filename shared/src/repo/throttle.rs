//! Login throttling: a reservation taken BEFORE a password is verified, in fixed windows, per
//! (account, client address), per client address and per account.
//!
//! Keys ([`layout::pair_attempts`], [`layout::address_failures`], [`layout::account_failures`]):
//! `THROTTLE#PAIR#{sha256(account)}#{bucket}`, `THROTTLE#IP#{bucket}` and
//! `THROTTLE#ACCOUNT#{sha256(account)}`, sort key `WINDOW#{n}` where `n` is the number of the
//! [`WINDOW_SECS`] window since the epoch. Putting the window in the key makes each window its own
//! counter: a new window starts from zero with no reset write, and every update sets the window's
//! end as expiry. Accounts are keyed by a hash so no email address appears in keys or metrics.
//!
//! Atomicity: [`ThrottleRepo::reserve`] is ONE transaction of three conditional increments
//! (`attempts < limit`), all or none. Forty parallel guesses therefore cannot all pass a check that
//! was read before any of them was counted: exactly as many get through as the limits leave, and a
//! refused attempt consumes nothing. A transaction that collides with a concurrent one on the same
//! counter is refused too (only a burst of parallel attempts on one account collides; a patient does
//! not race themselves), so contention can only make the throttle stricter, never let a guess by.
//!
//! Limits, and why they cannot lock a patient out (OWASP authentication guidance):
//! - [`MAX_PAIR_ATTEMPTS`] = 5 password checks per account per client address per 15 minutes: the
//!   tight limit. It stops one source guessing one account, and it is the only limit a single
//!   attacker reaches: the lock it sets holds for the attacker's address alone, so five wrong
//!   passwords from somewhere else leave the patient's own sign-in untouched.
//! - [`MAX_ADDRESS_ATTEMPTS`] = 20 per client address per 15 minutes: slows one source spraying many
//!   accounts, high enough for a practice's shared connection. IPv6 clients are counted per /64,
//!   since one subscriber usually holds a whole /64 and could otherwise rotate addresses freely.
//! - [`MAX_ACCOUNT_ATTEMPTS`] = 50 per account per 15 minutes from all addresses together: the loose
//!   limit. It caps distributed guessing at 4,800 tries a day per account; reaching it takes at
//!   least ten addresses working together (the pair limit), and even then the patient waits for the
//!   end of the current window (at most 15 minutes), never for an unlock by staff.
//!
//! A successful sign-in gives its reservation back to the address and account counters and clears
//! the pair counter (the patient's own typos), so patients never use up the shared budgets and an
//! attacker's count is not reset by the patient signing in.

use std::net::IpAddr;
use std::sync::Arc;

use super::RepoError;
use crate::crypto;
use crate::store::{layout, now_unix, Condition, Key, Store, StoreError, Update, Write};

/// Length of a throttling window, seconds.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Password checks per account from one client address within one window (the tight limit).
pub const MAX_PAIR_ATTEMPTS: i64 = 5;
/// Password checks from one client address within one window, over all accounts.
pub const MAX_ADDRESS_ATTEMPTS: i64 = 20;
/// Password checks per account within one window, over all addresses (the loose limit).
pub const MAX_ACCOUNT_ATTEMPTS: i64 = 50;

const COUNT: &str = "attempts";

/// A password check the throttle allowed; hand it back with [`ThrottleRepo::succeeded`] when the
/// password was right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    pair: Key,
    address: Key,
    account: Key,
}

/// The throttle's answer to a sign-in attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The password may be checked; the attempt is already counted.
    Allowed(Reservation),
    /// A limit is reached: try again in this many seconds (at least 1).
    Throttled {
        /// Seconds until the window ends.
        retry_after: u64,
    },
}

/// Window number and end (unix seconds) of the window holding `now`.
fn window(now: i64) -> (i64, i64) {
    let n = now.div_euclid(WINDOW_SECS);
    (n, (n + 1) * WINDOW_SECS)
}

/// The counter an address belongs to: IPv4 as is, IPv6 by its /64 (IPv4-mapped IPv6 as IPv4), and
/// anything unparsable by hash (so hostile text never lands in a key as is).
pub(crate) fn ip_bucket(ip: &str) -> String {
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

/// Login attempt counters.
#[derive(Clone)]
pub struct ThrottleRepo {
    store: Arc<dyn Store>,
}

impl ThrottleRepo {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Counts one sign-in attempt for `account` (pass [`crate::domain::Email::lookup_key`] so letter
    /// case does not matter; unknown accounts are counted too, so throttling does not reveal which
    /// exist) from client address `ip`, if every limit allows it. Call it before verifying the
    /// password. One round trip (a transaction).
    pub async fn reserve(&self, account: &str, ip: &str) -> Result<Attempt, RepoError> {
        self.reserve_at(account, ip, now_unix()).await
    }

    async fn reserve_at(&self, account: &str, ip: &str, now: i64) -> Result<Attempt, RepoError> {
        let (n, end) = window(now);
        let bucket = ip_bucket(ip);
        let reservation = Reservation {
            pair: layout::pair_attempts(account, &bucket, n),
            address: layout::address_failures(&bucket, n),
            account: layout::account_failures(account, n),
        };
        let count = |key: &Key, limit: i64| Write::Update {
            key: key.clone(),
            update: Update::default().add(COUNT, 1).expire_at(end),
            condition: Condition::Below(COUNT.into(), limit),
        };
        let writes = vec![
            count(&reservation.pair, MAX_PAIR_ATTEMPTS),
            count(&reservation.address, MAX_ADDRESS_ATTEMPTS),
            count(&reservation.account, MAX_ACCOUNT_ATTEMPTS),
        ];
        match self.store.transact(writes).await {
            Ok(()) => Ok(Attempt::Allowed(reservation)),
            Err(error) if error.is_condition_failure() || matches!(error, StoreError::Conflict) => {
                Ok(Attempt::Throttled {
                    retry_after: u64::try_from(end - now).unwrap_or(1).max(1),
                })
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The password of `reservation` was right: its attempt stops counting towards the address and
    /// account limits, and the pair's earlier typos are forgotten. One round trip per counter, sent
    /// at once; a counter whose window has ended in between is left alone.
    pub async fn succeeded(&self, reservation: &Reservation) -> Result<(), RepoError> {
        fn give_back<'a>(
            store: &'a dyn Store,
            key: &'a Key,
        ) -> impl std::future::Future<Output = Result<crate::store::Item, StoreError>> + 'a
        {
            store.update(key, Update::default().add(COUNT, -1), Condition::Exists)
        }
        let results = tokio::join!(
            self.store.delete(&reservation.pair, Condition::None),
            give_back(self.store.as_ref(), &reservation.address),
            give_back(self.store.as_ref(), &reservation.account),
        );
        results.0?;
        for result in [results.1, results.2] {
            match result {
                Ok(_) => {}
                Err(error) if error.is_condition_failure() => {}
                Err(other) => return Err(other.into()),
            }
        }
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

    async fn allowed(throttle: &ThrottleRepo, account: &str, ip: &str, now: i64) -> bool {
        match throttle.reserve_at(account, ip, now).await.unwrap() {
            Attempt::Allowed(_) => true,
            Attempt::Throttled { retry_after } => {
                assert!(retry_after >= 1);
                false
            }
        }
    }

    #[tokio::test]
    async fn a_pair_is_throttled_after_its_limit_but_the_account_stays_open_elsewhere() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        for _ in 0..MAX_PAIR_ATTEMPTS {
            assert!(allowed(&throttle, "anna@example.org", "198.51.100.7", now).await);
        }
        assert_eq!(
            throttle
                .reserve_at("anna@example.org", "198.51.100.7", now)
                .await
                .unwrap(),
            Attempt::Throttled {
                retry_after: (WINDOW_SECS - 100) as u64
            }
        );
        assert!(
            allowed(&throttle, "anna@example.org", "203.0.113.9", now).await,
            "the patient's own address is not locked out"
        );
        assert!(
            allowed(
                &throttle,
                "anna@example.org",
                "198.51.100.7",
                now + WINDOW_SECS
            )
            .await,
            "the next window starts afresh"
        );
    }

    #[tokio::test]
    async fn an_account_is_throttled_after_the_loose_limit_over_all_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        for i in 0..MAX_ACCOUNT_ATTEMPTS {
            let ip = format!("198.51.100.{i}");
            assert!(
                allowed(&throttle, "anna@example.org", &ip, now).await,
                "{i}"
            );
        }
        assert!(!allowed(&throttle, "anna@example.org", "203.0.113.9", now).await);
        assert!(allowed(&throttle, "other@example.org", "203.0.113.9", now).await);
    }

    #[tokio::test]
    async fn an_address_is_throttled_after_its_limit_across_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        for i in 0..MAX_ADDRESS_ATTEMPTS {
            let account = format!("user{i}@example.org");
            assert!(allowed(&throttle, &account, "198.51.100.7", now).await);
        }
        assert!(!allowed(&throttle, "fresh@example.org", "198.51.100.7", now).await);
        assert!(allowed(&throttle, "fresh@example.org", "198.51.100.8", now).await);
    }

    #[tokio::test]
    async fn a_refused_attempt_consumes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        for _ in 0..MAX_PAIR_ATTEMPTS {
            allowed(&throttle, "anna@example.org", "198.51.100.7", now).await;
        }
        // Refused by the pair limit many times: the address and account budgets stay untouched.
        for _ in 0..MAX_ADDRESS_ATTEMPTS {
            assert!(!allowed(&throttle, "anna@example.org", "198.51.100.7", now).await);
        }
        for i in 0..MAX_ADDRESS_ATTEMPTS - MAX_PAIR_ATTEMPTS {
            let account = format!("user{i}@example.org");
            assert!(
                allowed(&throttle, &account, "198.51.100.7", now).await,
                "{i}"
            );
        }
    }

    #[tokio::test]
    async fn a_success_gives_its_attempt_back_and_forgets_the_pairs_typos() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        let mut last = None;
        for _ in 0..MAX_PAIR_ATTEMPTS {
            last = Some(
                throttle
                    .reserve_at("anna@example.org", "198.51.100.7", now)
                    .await,
            );
        }
        let Some(Ok(Attempt::Allowed(reservation))) = last else {
            panic!("the fifth attempt is allowed")
        };
        throttle.succeeded(&reservation).await.unwrap();
        for _ in 0..MAX_PAIR_ATTEMPTS {
            assert!(allowed(&throttle, "anna@example.org", "198.51.100.7", now).await);
        }
        let address = throttle.store.get(&reservation.address).await.unwrap();
        assert_eq!(
            address.unwrap().number(COUNT).unwrap(),
            2 * MAX_PAIR_ATTEMPTS - 1,
            "the success is not counted against the address"
        );
    }

    #[tokio::test]
    async fn concurrent_attempts_never_exceed_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let throttle = repo(&dir);
        let now = start();
        let attempts =
            (0..30).map(|_| throttle.reserve_at("anna@example.org", "198.51.100.7", now));
        let allowed = futures_util::future::join_all(attempts)
            .await
            .into_iter()
            .filter(|a| matches!(a, Ok(Attempt::Allowed(_))))
            .count();
        assert!(allowed <= MAX_PAIR_ATTEMPTS as usize, "{allowed}");
        assert!(allowed >= 1);
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
