//! Transactions: one `TransactWriteItem` per write, and what a cancellation's reasons mean.

use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Delete as DeleteWrite, Put as PutWrite,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update as UpdateWrite,
};

use super::error::build_error;
use super::expr::{condition_expression, Expr, UpdateRequest};
use super::item::{item_from_attributes, item_to_attributes, key_attributes};
use crate::aws::short;
use crate::store::{condition_holds, Item, StoreError, Write};

/// The `TransactWriteItem` for one write on `table`, with its condition as of `now`.
pub(super) fn transact_item(
    table: &str,
    write: &Write,
    now: i64,
) -> Result<TransactWriteItem, StoreError> {
    let built = match write {
        Write::Put { item, condition } => {
            let mut expr = Expr::new(now);
            let condition = condition_expression(condition, &mut expr);
            let (names, values) = expr.finish();
            TransactWriteItem::builder().put(
                PutWrite::builder()
                    .table_name(table)
                    .set_item(Some(item_to_attributes(item)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(build_error)?,
            )
        }
        Write::Update {
            key,
            update,
            condition,
        } => {
            let request = UpdateRequest::new(update, condition, now);
            TransactWriteItem::builder().update(
                UpdateWrite::builder()
                    .table_name(table)
                    .set_key(Some(key_attributes(key)))
                    .update_expression(request.update)
                    .condition_expression(request.condition)
                    .set_expression_attribute_names(request.names)
                    .set_expression_attribute_values(request.values)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(build_error)?,
            )
        }
        Write::Delete { key, condition } => {
            let mut expr = Expr::new(now);
            let condition = condition_expression(condition, &mut expr);
            let (names, values) = expr.finish();
            TransactWriteItem::builder().delete(
                DeleteWrite::builder()
                    .table_name(table)
                    .set_key(Some(key_attributes(key)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(build_error)?,
            )
        }
        Write::Check { key, condition } => {
            let mut expr = Expr::new(now);
            // ConditionCheck requires an expression; an always-true one still makes the
            // transaction conflict with concurrent writes to the item.
            let condition =
                condition_expression(condition, &mut expr).unwrap_or_else(|| expr.always());
            let (names, values) = expr.finish();
            TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key_attributes(key)))
                    .condition_expression(condition)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(build_error)?,
            )
        }
    };
    Ok(built.build())
}

/// What to do after a cancelled transaction.
#[derive(Debug)]
pub(super) enum Cancellation {
    /// Give up with this error.
    Failed(StoreError),
    /// Only expired items blocked updates: remove them and retry.
    Purge(Vec<Item>),
    /// Only concurrent transactions got in the way: back off and retry.
    Conflict,
}

/// Reads the cancellation reasons (one per write, in order) of a cancelled transaction.
pub(super) fn analyse_cancellation(
    writes: &[Write],
    reasons: &[CancellationReason],
    now: i64,
) -> Result<Cancellation, StoreError> {
    let mut expired = Vec::new();
    let mut conflict = false;
    let mut other: Option<StoreError> = None;
    for (index, reason) in reasons.iter().enumerate() {
        match reason.code() {
            None | Some("None") => {}
            Some("ConditionalCheckFailed") => {
                let write = writes.get(index).ok_or_else(|| {
                    StoreError::Unavailable(
                        "TransactWriteItems returned more cancellation reasons than writes".into(),
                    )
                })?;
                let old = reason
                    .item()
                    .map(|attributes| item_from_attributes(attributes.clone()))
                    .transpose()?;
                match old {
                    Some(old) if old.is_expired(now) => {
                        // Only an update carries the implicit guard an expired item can fail;
                        // if the caller's condition holds on an absent item, that guard was it.
                        if matches!(write, Write::Update { .. })
                            && condition_holds(write.condition(), None)
                        {
                            expired.push(old);
                            continue;
                        }
                        return Ok(Cancellation::Failed(StoreError::TransactionFailed {
                            index,
                            current: None,
                        }));
                    }
                    current => {
                        return Ok(Cancellation::Failed(StoreError::TransactionFailed {
                            index,
                            current: current.map(Box::new),
                        }))
                    }
                }
            }
            Some("TransactionConflict") => conflict = true,
            Some(code) => {
                if other.is_none() {
                    let detail = short(reason.message().unwrap_or(code));
                    other = Some(match code {
                        "ValidationError" | "ItemCollectionSizeLimitExceeded" => {
                            StoreError::Invalid(format!(
                                "TransactWriteItems rejected write {index}: {detail}"
                            ))
                        }
                        _ => StoreError::Unavailable(format!(
                            "TransactWriteItems cancelled ({code}) at write {index}"
                        )),
                    });
                }
            }
        }
    }
    if let Some(error) = other {
        return Ok(Cancellation::Failed(error));
    }
    if !expired.is_empty() {
        return Ok(Cancellation::Purge(expired));
    }
    if conflict {
        return Ok(Cancellation::Conflict);
    }
    Ok(Cancellation::Failed(StoreError::Unavailable(
        "TransactWriteItems cancelled without a reason".into(),
    )))
}

pub(super) fn client_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::NOW;
    use super::*;
    use crate::store::{Condition, Key, Update};

    fn reason(code: &str, item: Option<&Item>) -> CancellationReason {
        CancellationReason::builder()
            .code(code)
            .set_item(item.map(item_to_attributes))
            .build()
    }

    fn writes() -> Vec<Write> {
        vec![
            Write::Put {
                item: Item::new(Key::new("A", "1")),
                condition: Condition::NotExists,
            },
            Write::Update {
                key: Key::new("B", "1"),
                update: Update::default().add("n", 1),
                condition: Condition::Below("n".into(), 3),
            },
            Write::Check {
                key: Key::new("C", "1"),
                condition: Condition::Exists,
            },
        ]
    }

    #[test]
    fn cancellation_names_the_first_failed_condition() {
        let live = Item::new(Key::new("C", "1")).with("x", 1_i64);
        let reasons = [
            reason("None", None),
            reason("TransactionConflict", None),
            reason("ConditionalCheckFailed", Some(&live)),
        ];
        match analyse_cancellation(&writes(), &reasons, NOW).unwrap() {
            Cancellation::Failed(StoreError::TransactionFailed { index, current }) => {
                assert_eq!(index, 2);
                assert_eq!(current.as_deref(), Some(&live));
            }
            other => panic!("{other:?}"),
        }

        let reasons = [
            reason("ConditionalCheckFailed", None),
            reason("None", None),
            reason("ConditionalCheckFailed", Some(&live)),
        ];
        match analyse_cancellation(&writes(), &reasons, NOW).unwrap() {
            Cancellation::Failed(StoreError::TransactionFailed { index, current }) => {
                assert_eq!(index, 0);
                assert!(current.is_none());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cancellation_by_expired_items() {
        let expired_b = Item::new(Key::new("B", "1"))
            .with("n", 9_i64)
            .expiring_at(NOW - 1);
        let expired_c = Item::new(Key::new("C", "1")).expiring_at(NOW);
        // The update's guard failed on an expired item: purge it and retry.
        let reasons = [
            reason("None", None),
            reason("ConditionalCheckFailed", Some(&expired_b)),
            reason("None", None),
        ];
        match analyse_cancellation(&writes(), &reasons, NOW).unwrap() {
            Cancellation::Purge(items) => assert_eq!(items, vec![expired_b.clone()]),
            other => panic!("{other:?}"),
        }
        // `Exists` on an expired item is a real failure, seen as absent.
        let reasons = [
            reason("None", None),
            reason("ConditionalCheckFailed", Some(&expired_b)),
            reason("ConditionalCheckFailed", Some(&expired_c)),
        ];
        match analyse_cancellation(&writes(), &reasons, NOW).unwrap() {
            Cancellation::Failed(StoreError::TransactionFailed { index, current }) => {
                assert_eq!(index, 2);
                assert!(current.is_none());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn cancellation_by_conflicts_or_other_reasons() {
        let reasons = [
            reason("TransactionConflict", None),
            reason("None", None),
            reason("TransactionConflict", None),
        ];
        assert!(matches!(
            analyse_cancellation(&writes(), &reasons, NOW).unwrap(),
            Cancellation::Conflict
        ));
        let reasons = [
            reason("TransactionConflict", None),
            reason("ValidationError", None),
            reason("None", None),
        ];
        assert!(matches!(
            analyse_cancellation(&writes(), &reasons, NOW).unwrap(),
            Cancellation::Failed(StoreError::Invalid(_))
        ));
        let reasons = [reason("ThrottlingError", None)];
        assert!(matches!(
            analyse_cancellation(&writes(), &reasons, NOW).unwrap(),
            Cancellation::Failed(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            analyse_cancellation(&writes(), &[], NOW).unwrap(),
            Cancellation::Failed(StoreError::Unavailable(_))
        ));
    }
}
