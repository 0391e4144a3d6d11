//! A store wrapper that fails calls on purpose, so tests can show what every flow does when the
//! store throttles, times out, or — the nasty case — commits a write and loses the answer.
//!
//! Faults are either scripted ([`FaultStore::fail_next`]: the next call of some operations fails
//! in a chosen way; [`FaultStore::fail_nth`]: the n-th call from now, for sweeps that fail each
//! call of a flow in turn) or random ([`FaultStore::random`]: a chosen fraction of calls, drawn from a
//! seeded generator, so a run can be repeated exactly when the calls come in the same order).
//! Every injected failure is a [`StoreError::Unavailable`], which is what the adapters report for
//! throttling, timeouts and lost connections. Nothing is injected until configured.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Condition, Item, Key, Page, Query, Store, StoreError, Update, Write};

/// How a call fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Refused at once (DynamoDB throttling): nothing was applied.
    Throttle,
    /// No answer within the deadline and nothing applied (the request never arrived).
    Timeout,
    /// The call was applied — a write committed — but its answer was lost on the way back.
    LostAnswer,
}

impl Fault {
    /// Every kind, for sweeps.
    pub const ALL: [Fault; 3] = [Fault::Throttle, Fault::Timeout, Fault::LostAnswer];
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fault::Throttle => "throttled",
            Fault::Timeout => "timed out",
            Fault::LostAnswer => "answer lost",
        })
    }
}

/// One kind of store call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// [`Store::get`].
    Get,
    /// [`Store::get_many`].
    GetMany,
    /// [`Store::put`].
    Put,
    /// [`Store::update`].
    Update,
    /// [`Store::delete`].
    Delete,
    /// [`Store::transact`].
    Transact,
    /// [`Store::query`].
    Query,
}

impl Op {
    /// Every operation.
    pub const ALL: &'static [Op] = &[
        Op::Get,
        Op::GetMany,
        Op::Put,
        Op::Update,
        Op::Delete,
        Op::Transact,
        Op::Query,
    ];
    /// The operations that write.
    pub const WRITES: &'static [Op] = &[Op::Put, Op::Update, Op::Delete, Op::Transact];
    /// The operations that only read.
    pub const READS: &'static [Op] = &[Op::Get, Op::GetMany, Op::Query];
}

/// What has been injected so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Injected {
    /// Calls refused as throttled.
    pub throttled: u64,
    /// Calls that timed out without being applied.
    pub timed_out: u64,
    /// Calls applied whose answer was lost.
    pub lost_answers: u64,
}

impl Injected {
    /// All injected failures.
    pub fn total(&self) -> u64 {
        self.throttled + self.timed_out + self.lost_answers
    }
}

struct Random {
    rng: StdRng,
    rate: f64,
    kinds: Vec<Fault>,
    ops: Vec<Op>,
}

#[derive(Default)]
struct State {
    /// Faults of calls by their number (0 = the first call this store saw).
    numbered: BTreeMap<u64, Fault>,
    script: VecDeque<(Vec<Op>, Fault)>,
    random: Option<Random>,
    calls: u64,
    injected: Injected,
}

/// Forwards every call to the inner store, failing some on purpose (see the module docs).
pub struct FaultStore {
    inner: Arc<dyn Store>,
    state: Mutex<State>,
    delay: Duration,
}

/// How long a timed-out call (or one whose answer is lost) keeps its caller waiting by default:
/// short, so tests stay fast, but a real wait, so concurrent callers overlap it.
pub const DEFAULT_DELAY: Duration = Duration::from_millis(20);

impl FaultStore {
    /// Wraps a store; no faults until [`FaultStore::fail_next`] or [`FaultStore::random`].
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            state: Mutex::new(State::default()),
            delay: DEFAULT_DELAY,
        }
    }

    /// Builder: how long timeouts and lost answers wait before failing.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The next call of one of `ops` fails with `fault` (scripted faults queue up in order, each
    /// used once, before any random one).
    pub fn fail_next(&self, ops: &[Op], fault: Fault) {
        self.state().script.push_back((ops.to_vec(), fault));
    }

    /// The `n`-th call from now (0 = the next one), whatever its operation, fails with `fault`:
    /// for sweeps that fail each call of a flow in turn.
    pub fn fail_nth(&self, n: u64, fault: Fault) {
        let mut state = self.state();
        let at = state.calls + n;
        state.numbered.insert(at, fault);
    }

    /// From now on, each call of one of `ops` fails with probability `rate` (0.0..=1.0), with a
    /// kind drawn from `kinds`, from a generator seeded with `seed`.
    pub fn random(&self, seed: u64, rate: f64, kinds: &[Fault], ops: &[Op]) {
        self.state().random = Some(Random {
            rng: StdRng::seed_from_u64(seed),
            rate: rate.clamp(0.0, 1.0),
            kinds: kinds.to_vec(),
            ops: ops.to_vec(),
        });
    }

    /// Stops injecting: clears scripted faults and the random ones.
    pub fn heal(&self) {
        let mut state = self.state();
        state.numbered.clear();
        state.script.clear();
        state.random = None;
    }

    /// Scripted and numbered faults not used yet.
    pub fn pending(&self) -> usize {
        let state = self.state();
        state.script.len() + state.numbered.len()
    }

    /// Calls seen so far (failed ones included).
    pub fn calls(&self) -> u64 {
        self.state().calls
    }

    /// What has been injected so far.
    pub fn injected(&self) -> Injected {
        self.state().injected
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether (and how) this call fails; counts it.
    fn draw(&self, op: Op) -> Option<Fault> {
        let mut state = self.state();
        let number = state.calls;
        state.calls += 1;
        let scripted = state.script.iter().position(|(ops, _)| ops.contains(&op));
        let fault = match (state.numbered.remove(&number), scripted) {
            (Some(fault), _) => Some(fault),
            (None, Some(at)) => state.script.remove(at).map(|(_, fault)| fault),
            (None, None) => state.random.as_mut().and_then(|random| {
                if random.kinds.is_empty() || !random.ops.contains(&op) {
                    return None;
                }
                if !random.rng.random_bool(random.rate) {
                    return None;
                }
                let pick = random.rng.random_range(0..random.kinds.len());
                Some(random.kinds[pick])
            }),
        }?;
        match fault {
            Fault::Throttle => state.injected.throttled += 1,
            Fault::Timeout => state.injected.timed_out += 1,
            Fault::LostAnswer => state.injected.lost_answers += 1,
        }
        Some(fault)
    }

    /// Runs `call` through the fault `op` draws: refused before it for a throttle or a timeout,
    /// run and then answered with an error for a lost answer.
    async fn through<T, F>(&self, op: Op, call: F) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        match self.draw(op) {
            None => call.await,
            Some(Fault::Throttle) => Err(StoreError::Unavailable(format!(
                "{op:?} throttled (injected fault)"
            ))),
            Some(Fault::Timeout) => {
                tokio::time::sleep(self.delay).await;
                Err(StoreError::Unavailable(format!(
                    "{op:?} timed out (injected fault)"
                )))
            }
            Some(Fault::LostAnswer) => {
                // Whatever the store answered, the caller never hears it.
                let _ = call.await;
                tokio::time::sleep(self.delay).await;
                Err(StoreError::Unavailable(format!(
                    "{op:?} timed out after it was sent (injected fault): it may have been applied"
                )))
            }
        }
    }
}

#[async_trait]
impl Store for FaultStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.through(Op::Get, self.inner.get(key)).await
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.through(Op::GetMany, self.inner.get_many(keys)).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.through(Op::Put, self.inner.put(item, condition)).await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, StoreError> {
        self.through(Op::Update, self.inner.update(key, update, condition))
            .await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<Option<Item>, StoreError> {
        self.through(Op::Delete, self.inner.delete(key, condition))
            .await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.through(Op::Transact, self.inner.transact(writes))
            .await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.through(Op::Query, self.inner.query(query)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    fn store() -> (tempfile::TempDir, FaultStore) {
        let dir = tempfile::tempdir().unwrap();
        let inner: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("t.db")).unwrap());
        (dir, FaultStore::new(inner).with_delay(Duration::ZERO))
    }

    #[tokio::test]
    async fn a_throttled_or_timed_out_write_is_not_applied_and_a_lost_answer_is() {
        let (_dir, store) = store();
        for (n, fault) in Fault::ALL.into_iter().enumerate() {
            let key = Key::new("P", format!("S{n}"));
            store.fail_next(&[Op::Put], fault);
            let failed = store
                .put(Item::new(key.clone()), Condition::NotExists)
                .await;
            assert!(matches!(failed, Err(StoreError::Unavailable(_))), "{fault}");
            let applied = store.get(&key).await.unwrap().is_some();
            assert_eq!(applied, fault == Fault::LostAnswer, "{fault}");
        }
        assert_eq!(
            store.injected(),
            Injected {
                throttled: 1,
                timed_out: 1,
                lost_answers: 1
            }
        );
        assert_eq!(store.calls(), 6);
    }

    #[tokio::test]
    async fn scripted_faults_wait_for_an_operation_they_name() {
        let (_dir, store) = store();
        let key = Key::new("P", "S");
        store.fail_next(&[Op::Transact], Fault::Throttle);
        store
            .put(Item::new(key.clone()), Condition::None)
            .await
            .unwrap();
        assert!(store.get(&key).await.unwrap().is_some());
        assert_eq!(store.pending(), 1);
        let writes = vec![Write::Delete {
            key: key.clone(),
            condition: Condition::Exists,
        }];
        assert!(store.transact(writes.clone()).await.is_err());
        assert_eq!(store.pending(), 0);
        store.transact(writes).await.unwrap();
    }

    #[tokio::test]
    async fn random_faults_hit_about_the_chosen_fraction_and_repeat_with_the_seed() {
        let run = |seed| async move {
            let (_dir, store) = store();
            store.random(seed, 0.3, &[Fault::Throttle], Op::READS);
            let mut outcomes = Vec::new();
            for _ in 0..400 {
                outcomes.push(store.get(&Key::new("P", "S")).await.is_err());
                // Writes are not in the chosen operations: never failed.
                store
                    .put(Item::new(Key::new("P", "W")), Condition::None)
                    .await
                    .unwrap();
            }
            (outcomes, store.injected().throttled)
        };
        let (first, failed) = run(7).await;
        assert!((80..=160).contains(&failed), "{failed} of 400");
        assert_eq!(run(7).await.0, first, "same seed, same faults");
        assert_ne!(run(8).await.0, first);
    }

    #[tokio::test]
    async fn a_batched_read_fails_like_a_read_under_its_own_operation() {
        let (_dir, store) = store();
        let keys = [Key::new("P", "S"), Key::new("P", "T")];
        store.fail_next(&[Op::GetMany], Fault::Throttle);
        store.get(&keys[0]).await.unwrap();
        assert!(matches!(
            store.get_many(&keys).await,
            Err(StoreError::Unavailable(_))
        ));
        assert_eq!(store.get_many(&keys).await.unwrap(), [None, None]);
        store.random(3, 1.0, &[Fault::Timeout], Op::READS);
        assert!(store.get_many(&keys).await.is_err(), "a read among READS");
        assert_eq!(store.injected().total(), 2);
    }

    #[tokio::test]
    async fn a_numbered_fault_hits_exactly_that_call() {
        let (_dir, store) = store();
        let key = Key::new("P", "S");
        store.get(&key).await.unwrap();
        store.fail_nth(2, Fault::Timeout);
        store.get(&key).await.unwrap();
        store.get(&key).await.unwrap();
        assert!(store.get(&key).await.is_err());
        store.get(&key).await.unwrap();
        assert_eq!(store.injected().timed_out, 1);
        assert_eq!(store.pending(), 0);
    }

    #[tokio::test]
    async fn healing_stops_every_fault() {
        let (_dir, store) = store();
        store.random(1, 1.0, &Fault::ALL, Op::ALL);
        store.fail_next(Op::ALL, Fault::Throttle);
        store.fail_nth(5, Fault::Throttle);
        assert!(store.get(&Key::new("P", "S")).await.is_err());
        store.heal();
        assert!(store.get(&Key::new("P", "S")).await.is_ok());
        assert_eq!(store.pending(), 0);
    }
}
