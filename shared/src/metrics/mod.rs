//! CloudWatch metrics, written as Embedded Metric Format (EMF) on the one log line each request
//! already gets: CloudWatch Logs extracts the numbers, so metrics cost no API call and no latency.
//!
//! - [`boot`](crate::boot) runs every invocation inside [`measure`], which gives it a fresh
//!   [`Recorder`]; the flows count what happened with [`count`] / [`count_with`] (sign-ins, tokens,
//!   bookings, mails, store errors) wherever they are, without passing anything around;
//! - afterwards [`RequestLog`] turns the request's route, status, duration and counts into the
//!   line ([`emf`] builds the `_aws` metadata), which `boot` prints.
//!
//! A small module of our own rather than an EMF crate: the available ones install a process-wide
//! recorder and flush their own documents, while the metrics belong on the request's existing log
//! line, and per-request recording must stay apart when tests run several invocations at once.
//! Another per-request record (an `audit` field, say) goes on the same line through
//! [`RequestLog::insert`].

pub mod emf;
mod request;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

pub use request::{status_class, RequestLog};

/// The CloudWatch namespace of the metrics unless configured (`PORTAL_METRICS_NAMESPACE`).
pub const DEFAULT_NAMESPACE: &str = "MyPatientPortal";

static NAMESPACE: OnceLock<String> = OnceLock::new();

/// Sets the namespace of this process's metrics, once, at init (later calls change nothing).
pub fn set_namespace(namespace: &str) {
    let _ = NAMESPACE.set(namespace.to_owned());
}

/// The namespace of this process's metrics.
pub fn namespace() -> &'static str {
    NAMESPACE.get().map_or(DEFAULT_NAMESPACE, String::as_str)
}

/// What the flows count. Each is a CloudWatch metric of unit `Count` in the [`namespace`], with the
/// dimension `Function`, plus [`Counter::dimension`] for the two that are split further.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Counter {
    /// A patient signed in with the right password.
    SignInOk,
    /// A sign-in with a wrong password or an unknown address.
    SignInFailed,
    /// A sign-in refused because the account or address is locked for a while.
    SignInThrottled,
    /// Tokens issued at the token endpoint, by grant type (dimension `Grant`).
    TokensIssued,
    /// A spent refresh token (or authorization code) presented again: the grant was revoked.
    RefreshReuseDetected,
    /// An appointment booked.
    Bookings,
    /// An appointment moved to another slot.
    Reschedules,
    /// An appointment cancelled.
    Cancels,
    /// A booking or reschedule refused because the slot was taken meanwhile.
    SlotUnavailable,
    /// A booking refused because the patient holds the type's most upcoming appointments.
    BookingLimitReached,
    /// An ASAP notification accepted by the mail service.
    AsapMailsSent,
    /// An ASAP notification the mail service refused (the event is retried).
    AsapMailsFailed,
    /// An ASAP notification not sent on purpose: already sent, no recipient, over the fan-out, or
    /// to an address that bounced or complained.
    AsapMailsSuppressed,
    /// An ASAP mail (notification or address confirmation) not sent because a daily limit per
    /// address or subscription was reached, or the address owner said "this wasn't me".
    AsapMailsRateLimited,
    /// A storage call that failed, by kind (dimension `Kind`); condition failures are not errors.
    StoreErrors,
    /// A patient registered themselves (a new, unverified account).
    Registrations,
    /// A patient verified their address through its mailed link.
    Verifications,
    /// A patient set a new password through a reset link.
    PasswordResets,
}

impl Counter {
    /// Every counter, in metric-name order.
    pub const ALL: [Counter; 18] = [
        Counter::SignInOk,
        Counter::SignInFailed,
        Counter::SignInThrottled,
        Counter::TokensIssued,
        Counter::RefreshReuseDetected,
        Counter::Bookings,
        Counter::Reschedules,
        Counter::Cancels,
        Counter::SlotUnavailable,
        Counter::BookingLimitReached,
        Counter::AsapMailsSent,
        Counter::AsapMailsFailed,
        Counter::AsapMailsSuppressed,
        Counter::AsapMailsRateLimited,
        Counter::StoreErrors,
        Counter::Registrations,
        Counter::Verifications,
        Counter::PasswordResets,
    ];

    /// The CloudWatch metric name.
    pub fn name(self) -> &'static str {
        match self {
            Counter::SignInOk => "SignInOk",
            Counter::SignInFailed => "SignInFailed",
            Counter::SignInThrottled => "SignInThrottled",
            Counter::TokensIssued => "TokensIssued",
            Counter::RefreshReuseDetected => "RefreshReuseDetected",
            Counter::Bookings => "Bookings",
            Counter::Reschedules => "Reschedules",
            Counter::Cancels => "Cancels",
            Counter::SlotUnavailable => "SlotUnavailable",
            Counter::BookingLimitReached => "BookingLimitReached",
            Counter::AsapMailsSent => "AsapMailsSent",
            Counter::AsapMailsFailed => "AsapMailsFailed",
            Counter::AsapMailsSuppressed => "AsapMailsSuppressed",
            Counter::AsapMailsRateLimited => "AsapMailsRateLimited",
            Counter::StoreErrors => "StoreErrors",
            Counter::Registrations => "Registrations",
            Counter::Verifications => "Verifications",
            Counter::PasswordResets => "PasswordResets",
        }
    }

    /// The extra dimension this counter is split by, if any.
    pub fn dimension(self) -> Option<&'static str> {
        match self {
            Counter::TokensIssued => Some("Grant"),
            Counter::StoreErrors => Some("Kind"),
            _ => None,
        }
    }
}

/// Metrics of the whole request, besides the counters: `Requests` (1 per request) and
/// `Duration` (milliseconds), by `Function` and by (`Function`, `Route`, `StatusClass`).
pub const REQUESTS: &str = "Requests";
/// See [`REQUESTS`].
pub const DURATION: &str = "Duration";

/// Current time in unix milliseconds (the EMF timestamp).
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Counts of one invocation: counter and dimension value (for split counters) → count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorder {
    counts: BTreeMap<(Counter, Option<&'static str>), u64>,
}

impl Recorder {
    /// Adds `n` to a counter (`value`: its dimension's value, for split counters).
    pub fn add(&mut self, counter: Counter, value: Option<&'static str>, n: u64) {
        *self.counts.entry((counter, value)).or_default() += n;
    }

    /// What was counted, in metric-name order.
    pub fn counts(&self) -> impl Iterator<Item = (Counter, Option<&'static str>, u64)> + '_ {
        self.counts.iter().map(|(&(c, v), &n)| (c, v, n))
    }

    /// The total of a counter over all its dimension values.
    pub fn total(&self, counter: Counter) -> u64 {
        self.counts()
            .filter(|(c, _, _)| *c == counter)
            .map(|(_, _, n)| n)
            .sum()
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

tokio::task_local! {
    static CURRENT: Arc<Mutex<Recorder>>;
}

/// Runs `future` with a fresh recorder as the current one and returns what it counted.
pub async fn measure<F: Future>(future: F) -> (F::Output, Recorder) {
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let output = CURRENT.scope(Arc::clone(&recorder), future).await;
    let counts = match recorder.lock() {
        Ok(mut guard) => std::mem::take(&mut *guard),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    (output, counts)
}

/// Counts one event of an unsplit counter in the current request. Outside [`measure`] (the admin
/// CLI, unit tests) it does nothing.
pub fn count(counter: Counter) {
    count_n(counter, None, 1);
}

/// Counts one event of a split counter with its dimension value (a small fixed set, such as a
/// grant type: never user input, which would make unbounded metric series).
pub fn count_with(counter: Counter, value: &'static str) {
    count_n(counter, Some(value), 1);
}

/// Counts `n` events (n = 0 counts nothing).
pub fn count_n(counter: Counter, value: Option<&'static str>, n: u64) {
    if n == 0 {
        return;
    }
    let _ = CURRENT.try_with(|recorder| {
        if let Ok(mut recorder) = recorder.lock() {
            recorder.add(counter, value, n);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_land_in_the_request_that_made_them() {
        let (answer, counts) = measure(async {
            count(Counter::Bookings);
            count(Counter::Bookings);
            count_with(Counter::TokensIssued, "refresh_token");
            tokio::task::yield_now().await;
            count_n(Counter::AsapMailsSent, None, 3);
            count_n(Counter::AsapMailsFailed, None, 0);
            42
        })
        .await;
        assert_eq!(answer, 42);
        assert_eq!(counts.total(Counter::Bookings), 2);
        assert_eq!(counts.total(Counter::TokensIssued), 1);
        assert_eq!(counts.total(Counter::AsapMailsSent), 3);
        assert_eq!(counts.total(Counter::AsapMailsFailed), 0);
        assert_eq!(counts.counts().count(), 3);
    }

    #[tokio::test]
    async fn concurrent_requests_keep_their_own_counts() {
        let one = measure(async {
            count(Counter::SignInOk);
            tokio::task::yield_now().await;
        });
        let two = measure(async {
            tokio::task::yield_now().await;
            count(Counter::SignInFailed);
        });
        let ((_, a), (_, b)) = tokio::join!(one, two);
        assert_eq!(a.total(Counter::SignInOk), 1);
        assert_eq!(a.total(Counter::SignInFailed), 0);
        assert_eq!(b.total(Counter::SignInFailed), 1);
        assert_eq!(b.total(Counter::SignInOk), 0);
    }

    #[test]
    fn counting_outside_a_request_is_harmless() {
        count(Counter::Cancels);
        count_with(Counter::StoreErrors, "unavailable");
    }

    #[test]
    fn names_are_unique_and_split_counters_name_their_dimension() {
        let mut names: Vec<&str> = Counter::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Counter::ALL.len());
        assert_eq!(Counter::TokensIssued.dimension(), Some("Grant"));
        assert_eq!(Counter::StoreErrors.dimension(), Some("Kind"));
        assert_eq!(Counter::Bookings.dimension(), None);
    }
}
