//! Races: conditions are evaluated atomically with their write.

use std::sync::Arc;

use shared::store::{Condition, Item, Query, StoreError, Update, Write};
use tokio::sync::Barrier;

use super::support::*;

const RACERS: usize = 20;

/// Runs `RACERS` copies of `attempt` at once (each gets its index and its own handle on the store).
pub(super) async fn race<T, F, Fut>(store: &S, attempt: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, S) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut tasks = Vec::new();
    for i in 0..RACERS {
        let barrier = barrier.clone();
        let attempt = attempt(i, store.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            attempt.await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("racer panicked"));
    }
    results
}

pub(super) async fn twenty_concurrent_not_exists_puts_have_exactly_one_winner_in_each_of_50_rounds(
    store: S,
) {
    for round in 0..50 {
        let k = key("RACE", &format!("{round:02}"));
        let results = race(&store, |i, store| {
            let k = k.clone();
            async move {
                let item = Item::new(k).with("racer", i as i64);
                store.put(item, Condition::NotExists).await
            }
        })
        .await;
        let winners: Vec<usize> = (0..RACERS).filter(|i| results[*i].is_ok()).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: winners {winners:?}, results {results:?}"
        );
        let winner = winners[0];
        let stored = get(&store, &k).await.expect("the winner's item is stored");
        assert_eq!(
            stored.number("racer").unwrap(),
            winner as i64,
            "round {round}"
        );
        for (i, result) in results.into_iter().enumerate() {
            if i == winner {
                assert_eq!(
                    result.unwrap(),
                    None,
                    "round {round}: the winner replaced nothing"
                );
            } else {
                assert_condition_failed(
                    result,
                    Some(&stored),
                    &format!("round {round}, racer {i}"),
                );
            }
        }
    }
}

pub(super) async fn twenty_concurrent_claiming_transactions_have_one_winner_and_losers_leave_nothing(
    store: S,
) {
    for round in 0..10 {
        let claim = key("CLAIM", &format!("{round:02}"));
        let own_partition = format!("OWN#{round:02}");
        let results = race(&store, |i, store| {
            let claim = claim.clone();
            let own = key(&own_partition, &format!("{i:02}"));
            async move {
                store
                    .transact(vec![
                        Write::Put {
                            item: Item::new(claim).with("racer", i as i64),
                            condition: Condition::NotExists,
                        },
                        Write::Put {
                            item: Item::new(own).with("racer", i as i64),
                            condition: Condition::NotExists,
                        },
                    ])
                    .await
            }
        })
        .await;
        let winners: Vec<usize> = (0..RACERS).filter(|i| results[*i].is_ok()).collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: winners {winners:?}, results {results:?}"
        );
        let winner = winners[0];
        let stored = get(&store, &claim).await.expect("the claim is stored");
        assert_eq!(
            stored.number("racer").unwrap(),
            winner as i64,
            "round {round}"
        );
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(()) => {}
                Err(StoreError::TransactionFailed { index: 0, current }) => {
                    if let Some(current) = current {
                        assert_eq!(*current, stored, "round {round}, racer {i}: reported claim");
                    }
                }
                // DynamoDB may cancel a transaction that collides with one in flight.
                Err(StoreError::Conflict) => {}
                Err(other) => panic!("round {round}, racer {i}: unexpected {other:?}"),
            }
        }
        let own = query_page(&store, Query::partition(own_partition, 100)).await;
        assert_eq!(
            sort_keys(&own),
            vec![format!("{winner:02}")],
            "round {round}: only the winner's own item exists"
        );
    }
}

pub(super) async fn twenty_concurrent_capped_increments_stop_exactly_at_the_cap(store: S) {
    for round in 0..5 {
        let k = key("COUNTER", &round.to_string());
        let results = race(&store, |_, store| {
            let k = k.clone();
            async move {
                store
                    .update(
                        &k,
                        Update::default().add("n", 1),
                        Condition::Below("n".into(), 5),
                    )
                    .await
            }
        })
        .await;
        let mut seen = Vec::new();
        let mut refused = 0;
        for result in results {
            match result {
                Ok(item) => seen.push(item.number("n").unwrap()),
                Err(StoreError::ConditionFailed { current }) => {
                    refused += 1;
                    let current = current.expect("a refused increment reports the counter");
                    assert_eq!(current.number("n").unwrap(), 5, "round {round}");
                }
                Err(other) => panic!("round {round}: unexpected {other:?}"),
            }
        }
        seen.sort_unstable();
        assert_eq!(
            seen,
            vec![1, 2, 3, 4, 5],
            "round {round}: each success saw its own count"
        );
        assert_eq!(refused, RACERS - 5, "round {round}");
        assert_eq!(
            get(&store, &k).await.unwrap().number("n").unwrap(),
            5,
            "round {round}"
        );
    }
}
