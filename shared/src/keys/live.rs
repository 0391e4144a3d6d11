//! [`Keys`]: a function instance's current [`KeySet`], reloaded when it meets a key it does not
//! know (rate-limited, one reload at a time) and when its copy is older than
//! [`KEYS_MAX_AGE_SECS`]. That is what lets a rotation happen under warm instances: they pick up
//! keys activated after they started, and stop signing with retired ones within minutes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::keyset::KeySet;
use super::purpose::Purpose;
use super::signing::is_kid;
use super::source::KeySource;
use super::timing::{KEYS_MAX_AGE_SECS, UNKNOWN_KEY_RELOAD_INTERVAL_SECS};
use super::KeyError;

struct Loaded {
    set: Arc<KeySet>,
    at: Instant,
}

/// Where "now" comes from (the system clock, or a test's).
type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// The keys of a function instance. Reading them is a lock-free-in-practice `Arc` clone; a reload
/// swaps in a new set while requests in flight keep the one they started with.
pub struct Keys {
    loaded: RwLock<Loaded>,
    source: Option<KeySource>,
    /// Last reload attempt; held while reloading, so concurrent callers wait for one reload.
    reloading: tokio::sync::Mutex<Option<Instant>>,
    min_interval: Duration,
    max_age: Duration,
    reloads: AtomicU64,
    clock: Clock,
}

impl Keys {
    /// Keys that never reload (tests, the admin CLI).
    pub fn fixed(set: KeySet) -> Self {
        Self::build(set, None)
    }

    /// `set`, reloaded from `source` when needed.
    pub fn with_source(set: KeySet, source: KeySource) -> Self {
        Self::build(set, Some(source))
    }

    /// Loads from `source` (a function's init).
    pub async fn load(source: KeySource) -> Result<Self, KeyError> {
        let set = source.load().await?;
        Ok(Self::with_source(set, source))
    }

    fn build(set: KeySet, source: Option<KeySource>) -> Self {
        Self {
            loaded: RwLock::new(Loaded {
                set: Arc::new(set),
                at: Instant::now(),
            }),
            source,
            reloading: tokio::sync::Mutex::new(None),
            min_interval: Duration::from_secs(UNKNOWN_KEY_RELOAD_INTERVAL_SECS),
            max_age: Duration::from_secs(KEYS_MAX_AGE_SECS.unsigned_abs()),
            reloads: AtomicU64::new(0),
            clock: Arc::new(Instant::now),
        }
    }

    /// The same keys on another clock (tests move time on instead of sleeping). The current copy
    /// counts as loaded at the clock's present.
    pub fn with_clock(mut self, clock: impl Fn() -> Instant + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self.loaded
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .at = (self.clock)();
        self
    }

    fn age(&self) -> Duration {
        let at = self
            .loaded
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .at;
        (self.clock)().saturating_duration_since(at)
    }

    /// The current key set.
    pub fn current(&self) -> Arc<KeySet> {
        self.loaded
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .set
            .clone()
    }

    /// How many reloads replaced the keys so far.
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::Relaxed)
    }

    /// The key set to verify `token` (a compact JWS) with: the current one, reloaded first if the
    /// token names a well-formed `kid` that is not published in it.
    pub async fn for_token(&self, token: &str) -> Arc<KeySet> {
        let kid = jsonwebtoken::decode_header(token)
            .ok()
            .and_then(|header| header.kid)
            .filter(|kid| is_kid(kid));
        match kid {
            Some(kid) => {
                self.reload_unless("unknown kid", |set| set.knows_kid(&kid))
                    .await
            }
            None => self.current(),
        }
    }

    /// The key set to open `text` sealed for `purpose` with: the current one, reloaded first if
    /// the text names a key id of the purpose it does not hold.
    pub async fn for_sealed(&self, purpose: Purpose, text: &str) -> Arc<KeySet> {
        self.reload_unless("unknown sealing key", |set| {
            set.sealer(purpose).knows_key_of(text)
        })
        .await
    }

    /// Reloads when the current copy is older than the maximum age (called before each
    /// invocation, so signing and sealing never use keys retired long ago).
    pub async fn refresh_if_stale(&self) {
        if self.age() > self.max_age {
            self.reload_unless("maximum age", |_| self.age() <= self.max_age)
                .await;
        }
    }

    /// Reloads unless `satisfied` holds for the current set, at most once per minimum interval;
    /// concurrent callers wait for the reload in progress instead of starting their own.
    async fn reload_unless(
        &self,
        reason: &'static str,
        satisfied: impl Fn(&KeySet) -> bool,
    ) -> Arc<KeySet> {
        let current = self.current();
        if satisfied(&current) {
            return current;
        }
        let Some(source) = &self.source else {
            return current;
        };
        let mut last = self.reloading.lock().await;
        let current = self.current();
        if satisfied(&current) {
            return current;
        }
        let now = (self.clock)();
        if last.is_some_and(|at| now.saturating_duration_since(at) < self.min_interval) {
            return current;
        }
        *last = Some(now);
        match source.load().await {
            Ok(set) => {
                let set = Arc::new(set);
                *self.loaded.write().unwrap_or_else(PoisonError::into_inner) = Loaded {
                    set: set.clone(),
                    at: (self.clock)(),
                };
                self.reloads.fetch_add(1, Ordering::Relaxed);
                tracing::info!(reason, source = %source.describe(), kid = ?set.active_kid(), "reloaded keys");
                set
            }
            Err(error) => {
                tracing::warn!(reason, %error, "reloading keys failed; keeping the keys loaded before");
                current
            }
        }
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("current", &self.current())
            .field("reloads", &self.reloads())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
