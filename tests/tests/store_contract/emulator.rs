//! DynamoDB only: the emulator keeps the promises of DynamoDB that the adapter relies on.
//!
//! The SDK retries a `TransactWriteItems` attempt that timed out with the same client request token.
//! DynamoDB answers such a retry of a committed transaction with success and changes nothing; moto
//! alone would run it again, so under a slow emulator a refresh-token rotation that committed on its
//! first attempt failed its own generation check on the retry and revoked the grant as a replay
//! (`make bench-e2e`, DynamoDB pass). `infra/scripts/moto_server.py` honours the token.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use portal_tests::dynamo_adapter;
use shared::store::{Key, Store};

/// One transaction that moves `n` of `item` from `from` to `from + 1`, as a rotation does.
fn rotation(table: &str, from: i64) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .key("pk", AttributeValue::S("GRANT#emulator".into()))
        .key("sk", AttributeValue::S("GRANT".into()))
        .update_expression("SET n = if_not_exists(n, :zero) + :one")
        .condition_expression("attribute_not_exists(n) OR n = :from")
        .expression_attribute_values(":zero", AttributeValue::N("0".into()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":from", AttributeValue::N(from.to_string()))
        .build()
        .unwrap();
    TransactWriteItem::builder().update(update).build()
}

#[tokio::test]
async fn a_transaction_resent_with_its_client_token_succeeds_again_and_applies_once() {
    let store = dynamo_adapter("emulator").await;
    let client = store.client();
    let send = |from: i64, token: &'static str| {
        client
            .transact_write_items()
            .transact_items(rotation(store.table(), from))
            .client_request_token(token)
            .send()
    };
    send(0, "rotation-token-1").await.unwrap();
    // The retry of a committed attempt (its answer lost): success, no second increment.
    send(0, "rotation-token-1")
        .await
        .unwrap_or_else(|e| panic!("the resent transaction failed: {e:?}"));
    let key = Key::new("GRANT#emulator", "GRANT");
    let item = store.get(&key).await.unwrap().unwrap();
    assert_eq!(item.number("n").unwrap(), 1, "applied once");

    // The same token with another request is refused, as DynamoDB refuses it.
    let mismatch = send(1, "rotation-token-1").await.unwrap_err();
    let code = mismatch
        .as_service_error()
        .and_then(|e| aws_sdk_dynamodb::error::ProvideErrorMetadata::code(e).map(str::to_owned));
    assert_eq!(
        code.as_deref(),
        Some("IdempotentParameterMismatchException")
    );
    // A new token is a new transaction: the condition is checked again.
    send(1, "rotation-token-2").await.unwrap();
    assert!(
        send(1, "rotation-token-3").await.is_err(),
        "stale generation"
    );
    let item = store.get(&key).await.unwrap().unwrap();
    assert_eq!(item.number("n").unwrap(), 2);
}
