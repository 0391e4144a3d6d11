//! The DynamoDB adapter of the storage port.
//!
//! One table, keyed `pk` (HASH) + `sk` (RANGE), with the global secondary index `gsi1` on
//! `gsi1pk` + `gsi1sk` and TTL on `ttl`. Domain attributes are stored at the top level of the item.
//! This adapter is the only code in the project that touches `AttributeValue`.
//!
//! DynamoDB (and moto) delete expired items late or never, so expiry is enforced here: reads filter on
//! `ttl`, every condition treats an expired item as absent, and an update that meets an expired item
//! first removes it (guarded by its old `ttl`) so the update starts from an empty item, as
//! [`Update::apply`] defines.
//!
//! The adapter's parts: `names` names the table's attributes, `table` connects to and creates the
//! table, `item` and `stream` map items to
//! DynamoDB attributes and back, `batch` reads several items in one BatchGetItem, `expr` builds condition and update expressions, `query` builds
//! queries and turns cursors into start keys and back, `transact` builds transactions and reads
//! their cancellations, and `error` maps SDK failures to [`StoreError`]. Client set-up (timeouts,
//! retries) is [`crate::aws`]'s.

mod batch;
mod error;
mod expr;
mod item;
mod names;
mod query;
mod stream;
mod table;
#[cfg(test)]
mod test_support;
mod transact;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;

use self::error::classify;
use self::expr::{condition_expression, Expr, UpdateRequest};
use self::item::{item_from_attributes, item_to_attributes, key_attributes, live_item};
use self::names::{GSI1, TTL};
use self::query::{cursor_from_key, QueryRequest};
use self::transact::{analyse_cancellation, client_token, transact_item, Cancellation};
use super::{
    condition_holds, now_unix, validate, Condition, Index, Item, Key, Page, Query, Store,
    StoreError, Update, Write,
};
use crate::aws::Aws;

pub use self::stream::item_from_stream_image;

/// Attempts of one logical write when it meets an expired item or a transaction conflict.
const WRITE_ATTEMPTS: u32 = 3;
/// Attempts of one transaction (conflicts with concurrent transactions are common under load).
const TRANSACT_ATTEMPTS: u32 = 4;

/// The storage port on a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// Wraps an existing client; no call is made.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Removes an expired item that blocked a write, only if it is still the same expired item
    /// (same `ttl`); losing that race is fine, the caller retries and sees the new state.
    async fn purge_expired(&self, item: &Item) -> Result<(), StoreError> {
        let Some(ttl) = item.expires_at else {
            return Ok(());
        };
        tracing::debug!(table = %self.table, "removing an expired item that blocked a write");
        let mut expr = Expr::new(now_unix());
        let condition = format!(
            "{} = {}",
            expr.name(TTL),
            expr.value(AttributeValue::N(ttl.to_string()))
        );
        let (names, values) = expr.finish();
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&item.key)))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(self.error("DeleteItem", &err)),
        }
    }

    /// The error after every attempt met a conflict (or a re-appearing expired item).
    fn gave_up(&self, op: &str, attempts: u32) -> StoreError {
        tracing::warn!(table = %self.table, op, attempts, "DynamoDB write still conflicting, giving up");
        StoreError::Conflict
    }

    fn error<E>(&self, op: &str, err: &SdkError<E, HttpResponse>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        classify(&self.table, op, err)
    }
}

impl DynamoStore {
    /// Every live item of the table, in no particular order (a strongly consistent, paginated
    /// Scan; not a point-in-time snapshot while others write). For tools and the invariant checks
    /// of the fault tests; never on a request path.
    pub async fn snapshot(&self) -> Result<Vec<Item>, StoreError> {
        let now = now_unix();
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|err| self.error("Scan", &err))?;
            for attributes in out.items.unwrap_or_default() {
                let item = item_from_attributes(attributes)?;
                if !item.is_expired(now) {
                    items.push(item);
                }
            }
            match out.last_evaluated_key.filter(|key| !key.is_empty()) {
                Some(key) => start = Some(key),
                None => return Ok(items),
            }
        }
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        validate::key(key)?;
        let now = now_unix();
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| self.error("GetItem", &err))?;
        live_item(out.item, now)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        self.batch_get(keys).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<Option<Item>, StoreError> {
        validate::item(&item)?;
        validate::condition(&condition)?;
        let attributes = item_to_attributes(&item);
        for attempt in 0..WRITE_ATTEMPTS {
            let now = now_unix();
            let mut expr = Expr::new(now);
            let condition_text = condition_expression(&condition, &mut expr);
            let (names, values) = expr.finish();
            let result = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(attributes.clone()))
                .set_condition_expression(condition_text)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .return_values(ReturnValue::AllOld)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match result {
                Ok(out) => return live_item(out.attributes, now),
                Err(err) => {
                    if let Some(PutItemError::ConditionalCheckFailedException(failed)) =
                        err.as_service_error()
                    {
                        let current = live_item(failed.item().cloned(), now)?;
                        return Err(StoreError::ConditionFailed {
                            current: current.map(Box::new),
                        });
                    }
                    match self.error("PutItem", &err) {
                        StoreError::Conflict => backoff(attempt).await,
                        other => return Err(other),
                    }
                }
            }
        }
        Err(self.gave_up("PutItem", WRITE_ATTEMPTS))
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Condition,
    ) -> Result<Item, StoreError> {
        validate::update(key, &update)?;
        validate::condition(&condition)?;
        for attempt in 0..WRITE_ATTEMPTS {
            let now = now_unix();
            let request = UpdateRequest::new(&update, &condition, now);
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attributes(key)))
                .update_expression(request.update)
                .condition_expression(request.condition)
                .set_expression_attribute_names(request.names)
                .set_expression_attribute_values(request.values)
                .return_values(ReturnValue::AllNew)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match result {
                Ok(out) => {
                    let attributes = out.attributes.ok_or_else(|| {
                        StoreError::Corrupt(format!("UpdateItem returned no item for {key}"))
                    })?;
                    return item_from_attributes(attributes);
                }
                Err(err) => {
                    if let Some(UpdateItemError::ConditionalCheckFailedException(failed)) =
                        err.as_service_error()
                    {
                        let old = failed
                            .item()
                            .map(|attributes| item_from_attributes(attributes.clone()))
                            .transpose()?;
                        match old {
                            // The implicit "absent or live" guard failed: clear the expired item
                            // and try again, unless the caller's own condition fails anyway.
                            Some(old) if old.is_expired(now) => {
                                if !condition_holds(&condition, None) {
                                    return Err(StoreError::ConditionFailed { current: None });
                                }
                                self.purge_expired(&old).await?;
                                continue;
                            }
                            current => {
                                return Err(StoreError::ConditionFailed {
                                    current: current.map(Box::new),
                                })
                            }
                        }
                    }
                    match self.error("UpdateItem", &err) {
                        StoreError::Conflict => backoff(attempt).await,
                        other => return Err(other),
                    }
                }
            }
        }
        Err(self.gave_up("UpdateItem", WRITE_ATTEMPTS))
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<Option<Item>, StoreError> {
        validate::key(key)?;
        validate::condition(&condition)?;
        for attempt in 0..WRITE_ATTEMPTS {
            let now = now_unix();
            let mut expr = Expr::new(now);
            let condition_text = condition_expression(&condition, &mut expr);
            let (names, values) = expr.finish();
            let result = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key_attributes(key)))
                .set_condition_expression(condition_text)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .return_values(ReturnValue::AllOld)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            match result {
                Ok(out) => return live_item(out.attributes, now),
                Err(err) => {
                    if let Some(DeleteItemError::ConditionalCheckFailedException(failed)) =
                        err.as_service_error()
                    {
                        let current = live_item(failed.item().cloned(), now)?;
                        return Err(StoreError::ConditionFailed {
                            current: current.map(Box::new),
                        });
                    }
                    match self.error("DeleteItem", &err) {
                        StoreError::Conflict => backoff(attempt).await,
                        other => return Err(other),
                    }
                }
            }
        }
        Err(self.gave_up("DeleteItem", WRITE_ATTEMPTS))
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate::transaction(&writes)?;
        for attempt in 0..TRANSACT_ATTEMPTS {
            let now = now_unix();
            let items = writes
                .iter()
                .map(|write| transact_item(&self.table, write, now))
                .collect::<Result<Vec<_>, _>>()?;
            // A fresh token per attempt: the SDK's own retries of this attempt stay idempotent,
            // while our retry (after a conflict or a purge) is a new request.
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .client_request_token(client_token())
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                err.as_service_error()
            {
                match analyse_cancellation(&writes, cancelled.cancellation_reasons(), now)? {
                    Cancellation::Failed(error) => return Err(error),
                    Cancellation::Purge(expired) => {
                        for item in &expired {
                            self.purge_expired(item).await?;
                        }
                    }
                    Cancellation::Conflict => backoff(attempt).await,
                }
                continue;
            }
            match self.error("TransactWriteItems", &err) {
                StoreError::Conflict => backoff(attempt).await,
                other => return Err(other),
            }
        }
        Err(self.gave_up("TransactWriteItems", TRANSACT_ATTEMPTS))
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        validate::query(&query)?;
        let now = now_unix();
        let request = QueryRequest::new(&query, now)?;
        let limit = i32::try_from(query.limit)
            .map_err(|_| StoreError::Invalid("query limit out of range".into()))?;
        let mut builder = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(request.key_condition)
            .filter_expression(request.filter)
            .set_expression_attribute_names(request.names)
            .set_expression_attribute_values(request.values)
            .set_exclusive_start_key(request.start)
            .scan_index_forward(!query.descending)
            .limit(limit);
        builder = match query.index {
            Index::Primary => builder.consistent_read(true),
            // Global secondary indexes only support eventually consistent reads.
            Index::Gsi1 => builder.index_name(GSI1),
        };
        let out = builder
            .send()
            .await
            .map_err(|err| self.error("Query", &err))?;
        let mut items = Vec::new();
        for attributes in out.items.unwrap_or_default() {
            let item = item_from_attributes(attributes)?;
            if !item.is_expired(now) {
                items.push(item);
            }
        }
        let next = out
            .last_evaluated_key
            .filter(|key| !key.is_empty())
            .map(|key| cursor_from_key(key, query.index))
            .transpose()?;
        Ok(Page { items, next })
    }
}

/// Small jittered pause before retrying a conflicting write or unprocessed reads (20–40 ms,
/// doubling per attempt).
async fn backoff(attempt: u32) {
    let base = 20u64 << attempt.min(5);
    let millis = rand::random_range(base..=base * 2);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

/// A DynamoDB client as [`DynamoStore::connect`] builds it, without touching any table (for
/// creating one).
pub async fn client(endpoint: Option<&str>) -> Client {
    Client::from_conf(dynamo_config(&Aws::load(endpoint).await))
}

/// The DynamoDB client configuration over the shared AWS set-up.
fn dynamo_config(aws: &Aws) -> aws_sdk_dynamodb::Config {
    aws_sdk_dynamodb::config::Builder::from(aws.config()).build()
}
