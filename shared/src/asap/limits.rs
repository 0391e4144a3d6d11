//! Limits on ASAP mail, so neither a rogue app nor a second account looping book/cancel can turn
//! the portal into a spam relay:
//!
//! - at most [`CONFIRMATIONS_PER_ADDRESS_PER_DAY`] confirmation mails to one address per day, and
//!   none for [`NOT_ME_DAYS`] days after its owner said "this wasn't me";
//! - at most [`NOTIFICATIONS_PER_SUBSCRIPTION_PER_DAY`] notifications per subscription per day;
//! - at most [`NOTIFICATIONS_PER_ADDRESS_PER_DAY`] notifications to one address per day.
//!
//! Days are UTC days. Each limit is a counter item guarded like a slot counter (`sent` below the
//! limit) and written in the same transaction that claims the mail, so parallel senders can never
//! go over it together.
//!
//! The same transactions check that the address is not suppressed (it bounced permanently or its
//! owner complained: [`super::suppression`]), so a suppressed address costs no extra round trip.

use crate::store::{layout, Condition, Item, Update, Write};

/// Confirmation mails one address receives per day at most.
pub const CONFIRMATIONS_PER_ADDRESS_PER_DAY: i64 = 3;

/// Notifications one ASAP subscription causes per day at most.
pub const NOTIFICATIONS_PER_SUBSCRIPTION_PER_DAY: i64 = 3;

/// Notifications one address receives per day at most (over all subscriptions).
pub const NOTIFICATIONS_PER_ADDRESS_PER_DAY: i64 = 10;

/// How long "this wasn't me" blocks confirmation mails to an address.
pub const NOT_ME_DAYS: i64 = 30;

const DAY: i64 = 86_400;

/// A counter outlives its day by this much (clock skew between instances).
const COUNTER_RETENTION: i64 = 2 * DAY;

/// The UTC day of an instant (days since the epoch).
pub fn day(now: i64) -> i64 {
    now.div_euclid(DAY)
}

fn count(key: crate::store::Key, limit: i64, now: i64) -> Write {
    Write::Update {
        key,
        update: Update::default()
            .add("sent", 1)
            .expire_at((day(now) + 1) * DAY + COUNTER_RETENTION),
        condition: Condition::Below("sent".into(), limit),
    }
}

/// Position of the suppression check in the writes of [`confirmation`] and [`notification`]: a
/// transaction that fails there failed because the address is suppressed.
pub const SUPPRESSION_CHECK: usize = 0;

/// Position of the "this wasn't me" check in the writes of [`confirmation`].
pub const NOT_ME_CHECK: usize = 1;

/// Checks that `address` is not suppressed.
fn not_suppressed(address: &str) -> Write {
    Write::Check {
        key: layout::suppressed(address),
        condition: Condition::NotExists,
    }
}

/// The writes that let one confirmation mail go to `address`: it is not suppressed
/// ([`SUPPRESSION_CHECK`]), not blocked by "this wasn't me" ([`NOT_ME_CHECK`]), and the day's
/// count is below the limit (and is raised).
pub fn confirmation(address: &str, now: i64) -> Vec<Write> {
    vec![
        not_suppressed(address),
        Write::Check {
            key: layout::not_me(address),
            condition: Condition::NotExists,
        },
        count(
            layout::confirmation_mails(address, day(now)),
            CONFIRMATIONS_PER_ADDRESS_PER_DAY,
            now,
        ),
    ]
}

/// The writes that let one notification of `subscription_id` go to `address`: it is not
/// suppressed ([`SUPPRESSION_CHECK`]), and both day counts are below their limits (and raised).
pub fn notification(address: &str, subscription_id: &str, now: i64) -> Vec<Write> {
    vec![
        not_suppressed(address),
        count(
            layout::subscription_mails(subscription_id, day(now)),
            NOTIFICATIONS_PER_SUBSCRIPTION_PER_DAY,
            now,
        ),
        count(
            layout::notification_mails(address, day(now)),
            NOTIFICATIONS_PER_ADDRESS_PER_DAY,
            now,
        ),
    ]
}

/// The record of "this wasn't me" for `address`.
pub fn not_me(address: &str, now: i64) -> Item {
    Item::new(layout::not_me(address))
        .with("at", now)
        .expiring_at(now + NOT_ME_DAYS * DAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::condition_holds;

    #[test]
    fn counters_stop_at_their_limit_and_expire_after_their_day() {
        let now = 10 * DAY + 5;
        let mut counter = None;
        let mut allowed = 0;
        for _ in 0..5 {
            let Write::Update {
                key,
                update,
                condition,
            } = &confirmation("a@example.org", now)[2]
            else {
                panic!("a counter update");
            };
            if condition_holds(condition, counter.as_ref()) {
                counter = Some(update.apply(key, counter.take()).unwrap());
                allowed += 1;
            }
        }
        assert_eq!(allowed, CONFIRMATIONS_PER_ADDRESS_PER_DAY);
        assert_eq!(
            counter.unwrap().expires_at,
            Some(11 * DAY + COUNTER_RETENTION)
        );
        assert_eq!(day(now), 10);
        assert_eq!(day(-1), -1);
    }
}
