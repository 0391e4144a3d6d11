//! The DynamoDB adapter of the storage port.
//!
//! One table, keyed `pk` (HASH) + `sk` (RANGE), with the global secondary index `gsi1` on
//! `gsi1pk` + `gsi1sk` and TTL on `ttl`. Domain attributes are stored at the top level of the item.
//! This module is the only code in the project that touches `AttributeValue`.
//!
//! DynamoDB (and moto) delete expired items late or never, so expiry is enforced here: reads filter on
//! `ttl`, every condition treats an expired item as absent, and an update that meets an expired item
//! first removes it (guarded by its old `ttl`) so the update starts from an empty item, as
//! [`Update::apply`] defines.

use std::collections::HashMap;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::BehaviorVersion;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, ConditionCheck,
    Delete as DeleteWrite, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, Put as PutWrite, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType, StreamSpecification, StreamViewType, TableDescription, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus, TransactWriteItem, Update as UpdateWrite,
};
use aws_sdk_dynamodb::Client;

use super::{
    condition_holds, now_unix, validate, Condition, Cursor, Index, Item, Key, Page, Query,
    SortKeyRange, Store, StoreError, Update, Value, Write,
};

/// Partition key attribute of the table.
const PK: &str = "pk";
/// Sort key attribute of the table.
const SK: &str = "sk";
/// Expiry attribute (unix seconds), the table's TTL attribute.
const TTL: &str = "ttl";
/// Partition key attribute of the secondary index.
const GSI1_PK: &str = "gsi1pk";
/// Sort key attribute of the secondary index.
const GSI1_SK: &str = "gsi1sk";
/// Name of the secondary index.
const GSI1: &str = "gsi1";
/// An attribute no item can have (domain names are letters, digits and `_` only): removing it is
/// the no-op clause of an update that changes nothing, since transactions require an expression
/// and moto fails on an UpdateItem without one.
const NOOP_ATTRIBUTE: &str = "store-noop";

/// Attempts of one logical write when it meets an expired item or a transaction conflict.
const WRITE_ATTEMPTS: u32 = 3;
/// Attempts of one transaction (conflicts with concurrent transactions are common under load).
const TRANSACT_ATTEMPTS: u32 = 4;
/// How long `create_table` waits for the table to become ACTIVE.
const CREATE_TABLE_WAIT: Duration = Duration::from_secs(300);
/// Longest service or network message kept in an error (they never contain item contents, but may be long).
const MAX_MESSAGE_CHARS: usize = 240;

type Attributes = HashMap<String, AttributeValue>;

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

    /// Builds a client from the standard AWS environment (region, credentials) with an optional
    /// endpoint override (the moto emulator), then makes one cheap call (DescribeTable) so a cold
    /// start opens its connection during init and a wrong table or endpoint fails now with a
    /// one-line [`StoreError::Unavailable`] naming both.
    ///
    /// Timeouts: 3 s to connect, 5 s per attempt, 10 s per operation, at most 3 attempts with short
    /// backoff (the standard retry mode's token bucket stops retry storms). The DescribeTable probe
    /// gives up after 6 s, inside Lambda's 10 s init phase.
    pub async fn connect(table: &str, endpoint: Option<&str>) -> Result<Self, StoreError> {
        validate_table_name(table)?;
        let config = sdk_config(endpoint).await;
        let place = match (endpoint, config.region()) {
            (Some(url), _) => url.to_owned(),
            (None, Some(region)) => format!("region {region}"),
            (None, None) => "the default endpoint".to_owned(),
        };
        let fail = |reason: String| {
            StoreError::Unavailable(format!(
                "cannot use DynamoDB table `{table}` at {place}: {reason}"
            ))
        };
        if config.region().is_none() {
            return Err(fail("no AWS region configured (set AWS_REGION)".into()));
        }
        let client = Client::from_conf(dynamo_config(&config));
        // Tighter than the client's own limits so a hanging endpoint fails well inside Lambda's
        // 10 s init phase, with this message rather than a killed init.
        let probe_timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(Duration::from_secs(3))
            .operation_timeout(Duration::from_secs(6))
            .build();
        let described = client
            .describe_table()
            .table_name(table)
            .customize()
            .config_override(
                aws_sdk_dynamodb::config::Builder::default().timeout_config(probe_timeouts),
            )
            .send()
            .await
            .map_err(|err| fail(describe_failure(&err)))?;
        let description = described
            .table
            .ok_or_else(|| fail("DescribeTable returned no table description".into()))?;
        check_schema(&description).map_err(fail)?;
        Ok(Self::new(client, table))
    }

    /// Creates the table with the schema `template.yaml` declares (idempotent: an existing table is
    /// fine): `pk` (S, HASH) + `sk` (S, RANGE); GSI `gsi1` on `gsi1pk` (S, HASH) + `gsi1sk`
    /// (S, RANGE), projection ALL; PAY_PER_REQUEST; stream NEW_AND_OLD_IMAGES. Waits until the table
    /// is ACTIVE, then enables TTL on `ttl`.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        validate_table_name(table)?;
        let created = client
            .create_table()
            .table_name(table)
            .set_attribute_definitions(Some(vec![
                attribute_definition(PK)?,
                attribute_definition(SK)?,
                attribute_definition(GSI1_PK)?,
                attribute_definition(GSI1_SK)?,
            ]))
            .set_key_schema(Some(vec![
                key_schema_element(PK, KeyType::Hash)?,
                key_schema_element(SK, KeyType::Range)?,
            ]))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(GSI1)
                    .set_key_schema(Some(vec![
                        key_schema_element(GSI1_PK, KeyType::Hash)?,
                        key_schema_element(GSI1_SK, KeyType::Range)?,
                    ]))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(build_error)?,
            )
            .billing_mode(BillingMode::PayPerRequest)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()
                    .map_err(build_error)?,
            )
            .send()
            .await;
        match created {
            Ok(_) => {}
            // Already there (or being created by someone else): wait for it like for our own.
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(CreateTableError::ResourceInUseException(_))
                ) => {}
            Err(err) => return Err(classify(table, "CreateTable", &err)),
        }
        let description = wait_until_active(client, table).await?;
        check_schema(&description).map_err(|reason| {
            StoreError::Invalid(format!("existing DynamoDB table `{table}`: {reason}"))
        })?;
        ensure_ttl(client, table).await
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

    /// The `TransactWriteItem` for one write, with its condition as of `now`.
    fn transact_item(&self, write: &Write, now: i64) -> Result<TransactWriteItem, StoreError> {
        let built = match write {
            Write::Put { item, condition } => {
                let mut expr = Expr::new(now);
                let condition = condition_expression(condition, &mut expr);
                let (names, values) = expr.finish();
                TransactWriteItem::builder().put(
                    PutWrite::builder()
                        .table_name(&self.table)
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
                        .table_name(&self.table)
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
                        .table_name(&self.table)
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
                        .table_name(&self.table)
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
                .map(|write| self.transact_item(write, now))
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

// ---------------------------------------------------------------------------------------------
// Item mapping

fn value_to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::S(s) => AttributeValue::S(s.clone()),
        Value::N(n) => AttributeValue::N(n.to_string()),
        Value::B(b) => AttributeValue::B(Blob::new(b.clone())),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::L(list) => {
            AttributeValue::L(list.iter().map(|s| AttributeValue::S(s.clone())).collect())
        }
    }
}

/// The domain value of a stored attribute; `owner` and `name` only serve the error message, which
/// never shows the stored contents.
fn value_from_attribute(
    owner: &Key,
    name: &str,
    value: AttributeValue,
) -> Result<Value, StoreError> {
    let corrupt =
        |what: &str| StoreError::Corrupt(format!("item {owner}: attribute `{name}` {what}"));
    match value {
        AttributeValue::S(s) => Ok(Value::S(s)),
        AttributeValue::N(n) => n
            .parse::<i64>()
            .map(Value::N)
            .map_err(|_| corrupt("is not a 64-bit integer")),
        AttributeValue::B(b) => Ok(Value::B(b.into_inner())),
        AttributeValue::Bool(b) => Ok(Value::Bool(b)),
        AttributeValue::L(list) => list
            .into_iter()
            .map(|element| match element {
                AttributeValue::S(s) => Ok(s),
                _ => Err(corrupt("is a list with a non-string element")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::L),
        _ => Err(corrupt("has a type the store does not use")),
    }
}

/// An item from a DynamoDB Stream record image (`NewImage`/`OldImage` in DynamoDB JSON, as
/// Lambda receives it), mapped exactly like an item read through the SDK.
pub fn item_from_stream_image(image: &serde_json::Value) -> Result<Item, StoreError> {
    let object = image
        .as_object()
        .ok_or_else(|| StoreError::Corrupt("stream image is not an object".into()))?;
    let attributes = object
        .iter()
        .map(|(name, value)| Ok((name.clone(), attribute_from_json(name, value)?)))
        .collect::<Result<Attributes, StoreError>>()?;
    item_from_attributes(attributes)
}

fn attribute_from_json(
    name: &str,
    value: &serde_json::Value,
) -> Result<AttributeValue, StoreError> {
    use base64::Engine as _;
    use serde_json::Value as J;
    let corrupt = || {
        StoreError::Corrupt(format!(
            "stream image attribute `{name}` is not DynamoDB JSON"
        ))
    };
    let object = value
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(corrupt)?;
    let (tag, inner) = object.iter().next().ok_or_else(corrupt)?;
    Ok(match (tag.as_str(), inner) {
        ("S", J::String(s)) => AttributeValue::S(s.clone()),
        ("N", J::String(n)) => AttributeValue::N(n.clone()),
        ("BOOL", J::Bool(b)) => AttributeValue::Bool(*b),
        ("NULL", J::Bool(true)) => AttributeValue::Null(true),
        ("B", J::String(b)) => AttributeValue::B(Blob::new(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| corrupt())?,
        )),
        ("L", J::Array(items)) => AttributeValue::L(
            items
                .iter()
                .map(|item| attribute_from_json(name, item))
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(corrupt()),
    })
}

fn key_attributes(key: &Key) -> Attributes {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn item_to_attributes(item: &Item) -> Attributes {
    let mut attributes = key_attributes(&item.key);
    if let Some(expires_at) = item.expires_at {
        attributes.insert(TTL.to_owned(), AttributeValue::N(expires_at.to_string()));
    }
    if let Some(index) = &item.gsi1 {
        attributes.insert(GSI1_PK.to_owned(), AttributeValue::S(index.pk.clone()));
        attributes.insert(GSI1_SK.to_owned(), AttributeValue::S(index.sk.clone()));
    }
    for (name, value) in &item.attrs {
        attributes.insert(name.clone(), value_to_attribute(value));
    }
    attributes
}

fn take_string(attributes: &mut Attributes, name: &str) -> Result<Option<String>, ()> {
    match attributes.remove(name) {
        None => Ok(None),
        Some(AttributeValue::S(s)) => Ok(Some(s)),
        Some(_) => Err(()),
    }
}

fn item_from_attributes(mut attributes: Attributes) -> Result<Item, StoreError> {
    let pk = take_string(&mut attributes, PK);
    let sk = take_string(&mut attributes, SK);
    let key = match (pk, sk) {
        (Ok(Some(pk)), Ok(Some(sk))) => Key::new(pk, sk),
        _ => {
            return Err(StoreError::Corrupt(
                "stored item without string `pk` and `sk`".into(),
            ))
        }
    };
    let expires_at = match attributes.remove(TTL) {
        None => None,
        Some(AttributeValue::N(n)) => Some(n.parse::<i64>().map_err(|_| {
            StoreError::Corrupt(format!("item {key}: `{TTL}` is not a 64-bit integer"))
        })?),
        Some(_) => {
            return Err(StoreError::Corrupt(format!(
                "item {key}: `{TTL}` is not a number"
            )))
        }
    };
    let index_pk = take_string(&mut attributes, GSI1_PK);
    let index_sk = take_string(&mut attributes, GSI1_SK);
    let gsi1 = match (index_pk, index_sk) {
        (Ok(None), Ok(None)) => None,
        (Ok(Some(pk)), Ok(Some(sk))) => Some(Key::new(pk, sk)),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "item {key}: `{GSI1_PK}`/`{GSI1_SK}` must both be strings or both be absent"
            )))
        }
    };
    let mut item = Item {
        key,
        attrs: Default::default(),
        expires_at,
        gsi1,
    };
    for (name, value) in attributes {
        let value = value_from_attribute(&item.key, &name, value)?;
        item.attrs.insert(name, value);
    }
    Ok(item)
}

/// The item in a response, if there is one and it has not expired at `now`.
fn live_item(attributes: Option<Attributes>, now: i64) -> Result<Option<Item>, StoreError> {
    match attributes {
        Some(attributes) if !attributes.is_empty() => {
            let item = item_from_attributes(attributes)?;
            Ok((!item.is_expired(now)).then_some(item))
        }
        _ => Ok(None),
    }
}

/// `ExclusiveStartKey` for a cursor; the cursor must belong to the query's partition.
fn cursor_to_key(cursor: &Cursor, query: &Query) -> Result<Attributes, StoreError> {
    validate::key(&cursor.key).map_err(|_| malformed_cursor())?;
    let mut key = key_attributes(&cursor.key);
    match query.index {
        Index::Primary => {
            if cursor.key.pk != query.pk {
                return Err(foreign_cursor());
            }
        }
        Index::Gsi1 => {
            let index = cursor.gsi1.as_ref().ok_or_else(malformed_cursor)?;
            validate::key(index).map_err(|_| malformed_cursor())?;
            if index.pk != query.pk {
                return Err(foreign_cursor());
            }
            key.insert(GSI1_PK.to_owned(), AttributeValue::S(index.pk.clone()));
            key.insert(GSI1_SK.to_owned(), AttributeValue::S(index.sk.clone()));
        }
    }
    Ok(key)
}

fn cursor_from_key(mut key: Attributes, index: Index) -> Result<Cursor, StoreError> {
    let bad = || StoreError::Corrupt("query returned a malformed LastEvaluatedKey".into());
    let pk = take_string(&mut key, PK)
        .map_err(|_| bad())?
        .ok_or_else(bad)?;
    let sk = take_string(&mut key, SK)
        .map_err(|_| bad())?
        .ok_or_else(bad)?;
    let gsi1 = match index {
        Index::Primary => None,
        Index::Gsi1 => {
            let pk = take_string(&mut key, GSI1_PK)
                .map_err(|_| bad())?
                .ok_or_else(bad)?;
            let sk = take_string(&mut key, GSI1_SK)
                .map_err(|_| bad())?
                .ok_or_else(bad)?;
            Some(Key::new(pk, sk))
        }
    };
    Ok(Cursor {
        key: Key::new(pk, sk),
        gsi1,
    })
}

fn malformed_cursor() -> StoreError {
    StoreError::Invalid("malformed cursor".into())
}

fn foreign_cursor() -> StoreError {
    StoreError::Invalid("cursor does not belong to this query".into())
}

// ---------------------------------------------------------------------------------------------
// Expressions

/// Collects the placeholders of one request: every attribute name becomes `#nI` and every value
/// `:vI`, so reserved words are never an issue and the maps hold exactly what the text uses.
struct Expr {
    now: i64,
    names: HashMap<String, String>,
    placeholders: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    now_placeholder: Option<String>,
}

impl Expr {
    fn new(now: i64) -> Self {
        Self {
            now,
            names: HashMap::new(),
            placeholders: HashMap::new(),
            values: HashMap::new(),
            now_placeholder: None,
        }
    }

    /// The placeholder of an attribute name (the same one each time for the same name).
    fn name(&mut self, attribute: &str) -> String {
        if let Some(placeholder) = self.placeholders.get(attribute) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        self.placeholders
            .insert(attribute.to_owned(), placeholder.clone());
        placeholder
    }

    /// A fresh placeholder for a value.
    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// The placeholder of the current time, shared by every expiry test of the request.
    fn now(&mut self) -> String {
        if let Some(placeholder) = &self.now_placeholder {
            return placeholder.clone();
        }
        let placeholder = self.value(AttributeValue::N(self.now.to_string()));
        self.now_placeholder = Some(placeholder.clone());
        placeholder
    }

    /// A live item is at the key: it exists and has no expiry or one in the future.
    fn live(&mut self) -> String {
        let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.now());
        format!("(attribute_exists({pk}) AND (attribute_not_exists({ttl}) OR {ttl} > {now}))")
    }

    /// No live item is at the key: nothing, or an expired item.
    fn gone(&mut self) -> String {
        let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.now());
        format!("(attribute_not_exists({pk}) OR {ttl} <= {now})")
    }

    /// Nothing or a live item is at the key, i.e. not an expired one.
    fn not_expired(&mut self) -> String {
        let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.now());
        format!("(attribute_not_exists({pk}) OR attribute_not_exists({ttl}) OR {ttl} > {now})")
    }

    /// The filter that keeps only unexpired items (of a query, where every item exists).
    fn unexpired(&mut self) -> String {
        let (ttl, now) = (self.name(TTL), self.now());
        format!("(attribute_not_exists({ttl}) OR {ttl} > {now})")
    }

    /// An always-true condition (for a check with no guard).
    fn always(&mut self) -> String {
        let pk = self.name(PK);
        format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
    }

    /// The two maps, each `None` when empty (DynamoDB rejects empty maps).
    fn finish(self) -> (Option<HashMap<String, String>>, Option<Attributes>) {
        let names = (!self.names.is_empty()).then_some(self.names);
        let values = (!self.values.is_empty()).then_some(self.values);
        (names, values)
    }
}

/// The condition expression of a guard, or `None` for [`Condition::None`]. Mirrors
/// [`condition_holds`] with expired items treated as absent.
fn condition_expression(condition: &Condition, expr: &mut Expr) -> Option<String> {
    match condition {
        Condition::None => None,
        Condition::NotExists => Some(expr.gone()),
        Condition::Exists => Some(expr.live()),
        Condition::Equals(name, value) => {
            let live = expr.live();
            let name = expr.name(name);
            let value = expr.value(value_to_attribute(value));
            Some(format!("({live} AND {name} = {value})"))
        }
        Condition::AllEqual(pairs) => {
            let mut parts = vec![expr.live()];
            for (name, value) in pairs {
                let name = expr.name(name);
                let value = expr.value(value_to_attribute(value));
                parts.push(format!("{name} = {value}"));
            }
            Some(format!("({})", parts.join(" AND ")))
        }
        Condition::Below(name, limit) => {
            let gone = expr.gone();
            let name = expr.name(name);
            let number = expr.value(AttributeValue::S("N".into()));
            let limit = expr.value(AttributeValue::N(limit.to_string()));
            // A non-numeric attribute fails, as in `condition_holds`. The type test comes first so
            // the comparison only ever sees numbers (moto fails on a string compared with a number).
            Some(format!(
                "({gone} OR attribute_not_exists({name}) OR (attribute_type({name}, {number}) AND {name} < {limit}))"
            ))
        }
    }
}

/// An UpdateItem request's expressions: the update clauses and the caller's condition joined to
/// the implicit guard that the item is not expired.
#[derive(Debug)]
struct UpdateRequest {
    update: String,
    condition: String,
    names: Option<HashMap<String, String>>,
    values: Option<Attributes>,
}

impl UpdateRequest {
    fn new(update: &Update, condition: &Condition, now: i64) -> Self {
        let mut expr = Expr::new(now);
        let text = update_expression(update, &mut expr);
        let guard = expr.not_expired();
        let condition = match condition_expression(condition, &mut expr) {
            Some(own) => format!("{guard} AND {own}"),
            None => guard,
        };
        let (names, values) = expr.finish();
        Self {
            update: text,
            condition,
            names,
            values,
        }
    }
}

/// `SET … REMOVE … ADD …` for an update. One that changes nothing removes [`NOOP_ATTRIBUTE`], so an
/// absent item is still created with its key alone, as [`Update::apply`] does.
fn update_expression(update: &Update, expr: &mut Expr) -> String {
    let mut set = Vec::new();
    let mut remove = Vec::new();
    let mut add = Vec::new();
    for (name, value) in &update.set {
        let name = expr.name(name);
        let value = expr.value(value_to_attribute(value));
        set.push(format!("{name} = {value}"));
    }
    match update.expires_at {
        Some(Some(at)) => {
            let name = expr.name(TTL);
            let value = expr.value(AttributeValue::N(at.to_string()));
            set.push(format!("{name} = {value}"));
        }
        Some(None) => remove.push(expr.name(TTL)),
        None => {}
    }
    if let Some(index) = &update.gsi1 {
        for (attribute, part) in [(GSI1_PK, &index.pk), (GSI1_SK, &index.sk)] {
            let name = expr.name(attribute);
            let value = expr.value(AttributeValue::S(part.clone()));
            set.push(format!("{name} = {value}"));
        }
    }
    for name in &update.remove {
        remove.push(expr.name(name));
    }
    if set.is_empty() && remove.is_empty() && update.add.is_empty() {
        remove.push(expr.name(NOOP_ATTRIBUTE));
    }
    for (name, delta) in &update.add {
        let name = expr.name(name);
        let value = expr.value(AttributeValue::N(delta.to_string()));
        add.push(format!("{name} {value}"));
    }
    let clauses: Vec<String> = [("SET", set), ("REMOVE", remove), ("ADD", add)]
        .into_iter()
        .filter(|(_, parts)| !parts.is_empty())
        .map(|(verb, parts)| format!("{verb} {}", parts.join(", ")))
        .collect();
    clauses.join(" ")
}

/// A Query request's expressions and start key.
#[derive(Debug)]
struct QueryRequest {
    key_condition: String,
    filter: String,
    names: Option<HashMap<String, String>>,
    values: Option<Attributes>,
    start: Option<Attributes>,
}

impl QueryRequest {
    fn new(query: &Query, now: i64) -> Result<Self, StoreError> {
        let (pk_attribute, sk_attribute) = match query.index {
            Index::Primary => (PK, SK),
            Index::Gsi1 => (GSI1_PK, GSI1_SK),
        };
        let mut expr = Expr::new(now);
        let pk = expr.name(pk_attribute);
        let partition = expr.value(AttributeValue::S(query.pk.clone()));
        let mut key_condition = format!("{pk} = {partition}");
        match &query.range {
            SortKeyRange::All => {}
            SortKeyRange::Prefix(prefix) => {
                let sk = expr.name(sk_attribute);
                let prefix = expr.value(AttributeValue::S(prefix.clone()));
                key_condition.push_str(&format!(" AND begins_with({sk}, {prefix})"));
            }
            SortKeyRange::Between(low, high) => {
                let sk = expr.name(sk_attribute);
                let low = expr.value(AttributeValue::S(low.clone()));
                let high = expr.value(AttributeValue::S(high.clone()));
                key_condition.push_str(&format!(" AND {sk} BETWEEN {low} AND {high}"));
            }
        }
        let filter = expr.unexpired();
        let start = query
            .cursor
            .as_ref()
            .map(|cursor| cursor_to_key(cursor, query))
            .transpose()?;
        let (names, values) = expr.finish();
        Ok(Self {
            key_condition,
            filter,
            names,
            values,
            start,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Transactions

/// What to do after a cancelled transaction.
#[derive(Debug)]
enum Cancellation {
    /// Give up with this error.
    Failed(StoreError),
    /// Only expired items blocked updates: remove them and retry.
    Purge(Vec<Item>),
    /// Only concurrent transactions got in the way: back off and retry.
    Conflict,
}

/// Reads the cancellation reasons (one per write, in order) of a cancelled transaction.
fn analyse_cancellation(
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

fn client_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Small jittered pause before retrying a conflicting write (20–40 ms, doubling per attempt).
async fn backoff(attempt: u32) {
    let base = 20u64 << attempt.min(5);
    let millis = rand::random_range(base..=base * 2);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

// ---------------------------------------------------------------------------------------------
// Errors

/// The HTTP status of a raw response, for a failure the service sent without an error code
/// (an emulator's crash page, a proxy's answer).
trait RawStatus {
    fn status_code(&self) -> Option<u16>;
}

impl RawStatus for HttpResponse {
    fn status_code(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
}

/// Maps an SDK failure that is not a condition failure to a [`StoreError`] with a short message
/// (operation, table, cause) that never contains item contents.
fn classify<E, R>(table: &str, op: &str, err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: RawStatus + Debug + 'static,
{
    let context = |reason: &str| format!("DynamoDB {op} on `{table}`: {reason}");
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status_code();
            let service = service.err();
            match service.code() {
                Some("ValidationException") => {
                    StoreError::Invalid(context(&short(service.message().unwrap_or("invalid"))))
                }
                Some("ConditionalCheckFailedException") => {
                    StoreError::ConditionFailed { current: None }
                }
                Some("TransactionConflictException") => StoreError::Conflict,
                Some("ResourceNotFoundException") => {
                    StoreError::Unavailable(context("table or index not found"))
                }
                Some(
                    "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded",
                ) => StoreError::Unavailable(context("throttled")),
                code => StoreError::Unavailable(context(&service_reason(
                    code,
                    service.message(),
                    status,
                ))),
            }
        }
        SdkError::TimeoutError(_) => StoreError::Unavailable(context("timed out")),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            StoreError::Unavailable(context("timed out"))
        }
        _ => StoreError::Unavailable(context(&error_chain(err))),
    }
}

/// `code: message`, or the HTTP status when the response carried no error code.
fn service_reason(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> String {
    match (code, message.filter(|m| !m.trim().is_empty())) {
        (Some(code), Some(message)) => short(&format!("{code}: {message}")),
        (Some(code), None) => short(code),
        (None, _) => match status {
            Some(status) => format!("unexpected response (HTTP {status})"),
            None => "unexpected response".to_owned(),
        },
    }
}

/// Why DescribeTable failed, in a few words.
fn describe_failure<R: RawStatus + Debug + 'static>(
    err: &SdkError<DescribeTableError, R>,
) -> String {
    match err {
        SdkError::ServiceError(service) => match service.err() {
            DescribeTableError::ResourceNotFoundException(_) => "the table does not exist".into(),
            other => service_reason(other.code(), other.message(), service.raw().status_code()),
        },
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => "timed out".into(),
        other => error_chain(other),
    }
}

/// The messages of an error and its sources on one line, without repeats.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(error) = current {
        let text = error.to_string();
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = error.source();
    }
    short(&parts.join(": "))
}

/// One line, at most [`MAX_MESSAGE_CHARS`] characters.
fn short(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.chars().count() > MAX_MESSAGE_CHARS {
        let cut: String = line.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

fn build_error(err: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid(format!("cannot build DynamoDB request: {err}"))
}

// ---------------------------------------------------------------------------------------------
// Table management

/// DynamoDB table names: 3–255 characters of letters, digits, `_`, `-` and `.`.
fn validate_table_name(table: &str) -> Result<(), StoreError> {
    let ok = (3..=255).contains(&table.len())
        && table
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "invalid DynamoDB table name `{}` (3-255 of A-Z a-z 0-9 _ - .)",
            short(table)
        )))
    }
}

fn attribute_definition(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build_error)
}

fn key_schema_element(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(build_error)
}

fn has_key_schema(schema: &[KeySchemaElement], hash: &str, range: &str) -> bool {
    let find = |key_type: KeyType| {
        schema
            .iter()
            .find(|element| *element.key_type() == key_type)
            .map(|element| element.attribute_name())
    };
    schema.len() == 2 && find(KeyType::Hash) == Some(hash) && find(KeyType::Range) == Some(range)
}

/// Whether a table has the key schema and index this adapter needs; the reason when not.
fn check_schema(table: &TableDescription) -> Result<(), String> {
    if !has_key_schema(table.key_schema(), PK, SK) {
        return Err(format!("key schema is not `{PK}` (HASH) + `{SK}` (RANGE)"));
    }
    let index = table
        .global_secondary_indexes()
        .iter()
        .find(|index| index.index_name() == Some(GSI1))
        .ok_or_else(|| format!("index `{GSI1}` is missing"))?;
    if !has_key_schema(index.key_schema(), GSI1_PK, GSI1_SK) {
        return Err(format!(
            "index `{GSI1}` is not on `{GSI1_PK}` (HASH) + `{GSI1_SK}` (RANGE)"
        ));
    }
    let projection = index
        .projection()
        .and_then(|projection| projection.projection_type());
    if projection != Some(&ProjectionType::All) {
        return Err(format!("index `{GSI1}` does not project ALL attributes"));
    }
    Ok(())
}

/// Polls DescribeTable until the table and its indexes are ACTIVE.
async fn wait_until_active(client: &Client, table: &str) -> Result<TableDescription, StoreError> {
    let deadline = Instant::now() + CREATE_TABLE_WAIT;
    loop {
        let description = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|err| classify(table, "DescribeTable", &err))?
            .table
            .ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "DynamoDB DescribeTable on `{table}` returned no table description"
                ))
            })?;
        let status = description.table_status();
        if matches!(status, Some(TableStatus::Deleting)) {
            return Err(StoreError::Unavailable(format!(
                "DynamoDB table `{table}` is being deleted"
            )));
        }
        let indexes_active = description
            .global_secondary_indexes()
            .iter()
            .all(|index| matches!(index.index_status(), None | Some(IndexStatus::Active)));
        if matches!(status, Some(TableStatus::Active)) && indexes_active {
            return Ok(description);
        }
        if Instant::now() >= deadline {
            return Err(StoreError::Unavailable(format!(
                "DynamoDB table `{table}` did not become ACTIVE within {} s",
                CREATE_TABLE_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Enables TTL on `ttl` unless it already is (DynamoDB rejects enabling it twice).
async fn ensure_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    match ttl_state(client, table).await? {
        TtlState::On => return Ok(()),
        TtlState::Off => {}
        TtlState::Other(reason) => return Err(StoreError::Invalid(reason)),
    }
    let enabled = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL)
                .build()
                .map_err(build_error)?,
        )
        .send()
        .await;
    match enabled {
        Ok(_) => Ok(()),
        // Someone may have enabled it meanwhile; accept that, report anything else.
        Err(err) => match ttl_state(client, table).await? {
            TtlState::On => Ok(()),
            _ => Err(classify(table, "UpdateTimeToLive", &err)),
        },
    }
}

enum TtlState {
    On,
    Off,
    Other(String),
}

async fn ttl_state(client: &Client, table: &str) -> Result<TtlState, StoreError> {
    let out = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|err| classify(table, "DescribeTimeToLive", &err))?;
    let description = out.time_to_live_description();
    let status = description.and_then(|d| d.time_to_live_status());
    let attribute = description.and_then(|d| d.attribute_name());
    Ok(match status {
        None | Some(TimeToLiveStatus::Disabled) => TtlState::Off,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) if attribute == Some(TTL) => {
            TtlState::On
        }
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => TtlState::Other(format!(
            "DynamoDB table `{table}` has TTL on another attribute than `{TTL}`"
        )),
        Some(_) => TtlState::Other(format!(
            "DynamoDB table `{table}` is changing its TTL setting; try again later"
        )),
    })
}

// ---------------------------------------------------------------------------------------------
// Client configuration

/// The AWS configuration the adapter uses: the standard environment (region, credentials) with
/// client timeouts sized for Lambda — 3 s to connect, 5 s per attempt, 10 s per operation, at most
/// 3 attempts with short backoff (the standard retry mode's token bucket stops retry storms) — and an
/// optional endpoint override (the moto emulator).
pub async fn sdk_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(10))
                .build(),
        )
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(50))
                .with_max_backoff(Duration::from_secs(1)),
        );
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

fn dynamo_config(config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Config {
    aws_sdk_dynamodb::config::Builder::from(config).build()
}

/// A DynamoDB client as [`DynamoStore::connect`] builds it, without touching any table (for
/// creating one).
pub async fn client(endpoint: Option<&str>) -> Client {
    Client::from_conf(dynamo_config(&sdk_config(endpoint).await))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use aws_sdk_dynamodb::error::ErrorMetadata;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn sample() -> Item {
        Item::new(Key::new("USER#1", "PROFILE"))
            .with("name", "Ada")
            .with("count", 42_i64)
            .with("negative", -7_i64)
            .with("blob", vec![0_u8, 1, 255])
            .with("flag", true)
            .with("tags", vec!["a".to_owned(), "b".to_owned()])
            .with("empty", Vec::<String>::new())
            .with("blank", "")
            .expiring_at(NOW + 60)
            .indexed(Key::new("EMAIL#ada@example.com", "USER#1"))
    }

    /// Placeholders (`#nI`, `:vI`) used in the texts.
    fn placeholders(texts: &[&str]) -> (BTreeSet<String>, BTreeSet<String>) {
        let mut names = BTreeSet::new();
        let mut values = BTreeSet::new();
        for text in texts {
            let bytes = text.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                let (set, letter) = match b {
                    b'#' => (&mut names, b'n'),
                    b':' => (&mut values, b'v'),
                    _ => continue,
                };
                assert_eq!(bytes.get(i + 1), Some(&letter), "bad placeholder in {text}");
                let digits: String = text[i + 2..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                assert!(!digits.is_empty(), "bad placeholder in {text}");
                set.insert(format!("{}{}{digits}", b as char, letter as char));
            }
        }
        (names, values)
    }

    /// DynamoDB rejects empty maps and unused entries: the maps must hold exactly what the texts use.
    fn assert_exact(
        texts: &[&str],
        names: &Option<HashMap<String, String>>,
        values: &Option<Attributes>,
    ) {
        let (used_names, used_values) = placeholders(texts);
        if let Some(names) = names {
            assert!(!names.is_empty());
        }
        if let Some(values) = values {
            assert!(!values.is_empty());
        }
        let given_names: BTreeSet<String> = names
            .as_ref()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let given_values: BTreeSet<String> = values
            .as_ref()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(used_names, given_names, "names of {texts:?}");
        assert_eq!(used_values, given_values, "values of {texts:?}");
    }

    /// Replaces placeholders with the names and values they stand for, for readable assertions.
    fn render(
        text: &str,
        names: &Option<HashMap<String, String>>,
        values: &Option<Attributes>,
    ) -> String {
        let mut out = text.to_owned();
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (placeholder, name) in names.iter().flatten() {
            pairs.push((placeholder.clone(), name.clone()));
        }
        for (placeholder, value) in values.iter().flatten() {
            let shown = match value {
                AttributeValue::S(s) => format!("'{s}'"),
                AttributeValue::N(n) => n.clone(),
                other => format!("{other:?}"),
            };
            pairs.push((placeholder.clone(), shown));
        }
        // Longest placeholders first so `#n1` does not clobber `#n10`.
        pairs.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        for (placeholder, shown) in pairs {
            out = out.replace(&placeholder, &shown);
        }
        out
    }

    fn condition(
        c: &Condition,
    ) -> (
        Option<String>,
        Option<HashMap<String, String>>,
        Option<Attributes>,
    ) {
        let mut expr = Expr::new(NOW);
        let text = condition_expression(c, &mut expr);
        let (names, values) = expr.finish();
        (text, names, values)
    }

    #[test]
    fn item_round_trips_through_attributes() {
        let item = sample();
        let attributes = item_to_attributes(&item);
        assert_eq!(attributes["pk"], AttributeValue::S("USER#1".into()));
        assert_eq!(attributes["sk"], AttributeValue::S("PROFILE".into()));
        assert_eq!(attributes["ttl"], AttributeValue::N((NOW + 60).to_string()));
        assert_eq!(
            attributes["gsi1pk"],
            AttributeValue::S("EMAIL#ada@example.com".into())
        );
        assert_eq!(attributes["gsi1sk"], AttributeValue::S("USER#1".into()));
        assert_eq!(attributes["count"], AttributeValue::N("42".into()));
        assert_eq!(attributes["flag"], AttributeValue::Bool(true));
        assert_eq!(
            attributes["blob"],
            AttributeValue::B(Blob::new(vec![0, 1, 255]))
        );
        assert_eq!(
            attributes["tags"],
            AttributeValue::L(vec![
                AttributeValue::S("a".into()),
                AttributeValue::S("b".into())
            ])
        );
        assert_eq!(attributes["empty"], AttributeValue::L(vec![]));
        assert_eq!(attributes.len(), 5 + item.attrs.len());
        assert_eq!(item_from_attributes(attributes).unwrap(), item);

        let bare = Item::new(Key::new("a", "b"));
        let attributes = item_to_attributes(&bare);
        assert_eq!(attributes.len(), 2);
        assert_eq!(item_from_attributes(attributes).unwrap(), bare);
    }

    #[test]
    fn ill_typed_stored_items_are_corrupt_without_leaking_contents() {
        let good = item_to_attributes(&sample());
        // (what, attribute, new value or `None` to remove it)
        let n = |text: &str| AttributeValue::N(text.into());
        let cases: Vec<(&str, &str, Option<AttributeValue>)> = vec![
            ("missing sk", "sk", None),
            ("numeric pk", "pk", Some(n("1"))),
            (
                "string ttl",
                "ttl",
                Some(AttributeValue::S("SECRET".into())),
            ),
            ("fractional ttl", "ttl", Some(n("1.5"))),
            ("half index key", "gsi1sk", None),
            ("numeric index key", "gsi1pk", Some(n("3"))),
            ("fractional number", "count", Some(n("2.5"))),
            ("huge number", "count", Some(n("99999999999999999999"))),
            (
                "list of numbers",
                "tags",
                Some(AttributeValue::L(vec![n("1")])),
            ),
            ("map", "m", Some(AttributeValue::M(HashMap::new()))),
            ("null", "n", Some(AttributeValue::Null(true))),
            (
                "string set",
                "ss",
                Some(AttributeValue::Ss(vec!["SECRET".into()])),
            ),
        ];
        for (what, name, value) in cases {
            let mut attributes = good.clone();
            match value {
                Some(value) => attributes.insert(name.to_owned(), value),
                None => attributes.remove(name),
            };
            match item_from_attributes(attributes) {
                Err(StoreError::Corrupt(message)) => {
                    assert!(!message.contains("SECRET"), "{what}: {message}");
                    assert!(!message.contains("Ada"), "{what}: {message}");
                }
                other => panic!("{what}: expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn live_item_drops_expired_and_empty() {
        let attributes = item_to_attributes(&sample());
        assert!(live_item(Some(attributes.clone()), NOW).unwrap().is_some());
        assert!(live_item(Some(attributes.clone()), NOW + 59)
            .unwrap()
            .is_some());
        assert!(live_item(Some(attributes.clone()), NOW + 60)
            .unwrap()
            .is_none());
        assert!(live_item(Some(HashMap::new()), NOW).unwrap().is_none());
        assert!(live_item(None, NOW).unwrap().is_none());
    }

    #[test]
    fn conditions_treat_expired_items_as_absent() {
        let (text, names, values) = condition(&Condition::None);
        assert!(text.is_none() && names.is_none() && values.is_none());

        let (text, names, values) = condition(&Condition::NotExists);
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!("(attribute_not_exists(pk) OR ttl <= {NOW})")
        );

        let (text, names, values) = condition(&Condition::Exists);
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!("(attribute_exists(pk) AND (attribute_not_exists(ttl) OR ttl > {NOW}))")
        );

        let (text, names, values) = condition(&Condition::Equals("status".into(), "open".into()));
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!(
                "((attribute_exists(pk) AND (attribute_not_exists(ttl) OR ttl > {NOW})) AND status = 'open')"
            )
        );

        let (text, names, values) = condition(&Condition::Below("count".into(), 5));
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!(
                "((attribute_not_exists(pk) OR ttl <= {NOW}) OR attribute_not_exists(count) OR (attribute_type(count, 'N') AND count < 5))"
            )
        );
    }

    #[test]
    fn all_equal_requires_a_live_item_and_every_value() {
        let (text, names, values) = condition(&Condition::AllEqual(vec![
            ("generation".into(), Value::N(3)),
            ("revoked".into(), Value::Bool(false)),
        ]));
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!(
                "((attribute_exists(pk) AND (attribute_not_exists(ttl) OR ttl > {NOW})) AND generation = 3 AND revoked = Bool(false))"
            )
        );
    }

    #[test]
    fn every_attribute_name_goes_through_a_placeholder() {
        // `name`, `status`, `count` and `ttl` are DynamoDB reserved words.
        let update = Update::default()
            .set("name", "x")
            .set("status", "y")
            .remove("comment")
            .add("count", 1);
        let request =
            UpdateRequest::new(&update, &Condition::Equals("name".into(), "x".into()), NOW);
        let texts = [request.update.as_str(), request.condition.as_str()];
        for text in texts {
            for word in ["name", "status", "count", "comment", "ttl", "pk"] {
                let bare = text
                    .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .any(|token| token == word);
                assert!(!bare, "`{word}` appears unescaped in {text}");
            }
        }
        assert_exact(&texts, &request.names, &request.values);
    }

    #[test]
    fn update_expression_has_set_remove_add_and_guard() {
        let update = Update::default()
            .set("a", "x")
            .set("b", 3_i64)
            .remove("c")
            .add("d", -2)
            .expire_at(NOW + 10)
            .index(Key::new("G", "H"));
        let request = UpdateRequest::new(&update, &Condition::None, NOW);
        let text = request.update.clone();
        assert_exact(
            &[&text, &request.condition],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&text, &request.names, &request.values),
            format!(
                "SET a = 'x', b = 3, ttl = {}, gsi1pk = 'G', gsi1sk = 'H' REMOVE c ADD d -2",
                NOW + 10
            )
        );
        assert_eq!(
            render(&request.condition, &request.names, &request.values),
            format!("(attribute_not_exists(pk) OR attribute_not_exists(ttl) OR ttl > {NOW})")
        );

        let clear = Update {
            expires_at: Some(None),
            ..Update::default()
        };
        let request = UpdateRequest::new(&clear, &Condition::NotExists, NOW);
        let text = request.update.clone();
        assert_exact(
            &[&text, &request.condition],
            &request.names,
            &request.values,
        );
        assert_eq!(render(&text, &request.names, &request.values), "REMOVE ttl");
        assert_eq!(
            render(&request.condition, &request.names, &request.values),
            format!(
                "(attribute_not_exists(pk) OR attribute_not_exists(ttl) OR ttl > {NOW}) AND (attribute_not_exists(pk) OR ttl <= {NOW})"
            )
        );
    }

    #[test]
    fn empty_update_removes_an_impossible_attribute() {
        let request = UpdateRequest::new(&Update::default(), &Condition::None, NOW);
        assert_exact(
            &[&request.update, &request.condition],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&request.update, &request.names, &request.values),
            "REMOVE store-noop"
        );
        assert!(validate::attribute_name(NOOP_ATTRIBUTE).is_err());
        // The current time is one shared value, not one per use.
        assert_eq!(request.values.as_ref().map(HashMap::len), Some(1));
    }

    #[test]
    fn query_expressions_for_table_and_index() {
        let request = QueryRequest::new(&Query::partition("P", 10), NOW).unwrap();
        assert_exact(
            &[&request.key_condition, &request.filter],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&request.key_condition, &request.names, &request.values),
            "pk = 'P'"
        );
        assert_eq!(
            render(&request.filter, &request.names, &request.values),
            format!("(attribute_not_exists(ttl) OR ttl > {NOW})")
        );
        assert!(request.start.is_none());

        let request = QueryRequest::new(&Query::partition("P", 10).prefix("A#"), NOW).unwrap();
        assert_exact(
            &[&request.key_condition, &request.filter],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&request.key_condition, &request.names, &request.values),
            "pk = 'P' AND begins_with(sk, 'A#')"
        );

        let request =
            QueryRequest::new(&Query::partition("G", 10).between("a", "b").on_index(), NOW)
                .unwrap();
        assert_exact(
            &[&request.key_condition, &request.filter],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&request.key_condition, &request.names, &request.values),
            "gsi1pk = 'G' AND gsi1sk BETWEEN 'a' AND 'b'"
        );
    }

    #[test]
    fn cursors_map_to_start_keys_and_back() {
        let cursor = Cursor {
            key: Key::new("P", "S"),
            gsi1: None,
        };
        let query = Query::partition("P", 5).after(Some(cursor.clone()));
        let start = QueryRequest::new(&query, NOW).unwrap().start.unwrap();
        assert_eq!(start, key_attributes(&cursor.key));
        assert_eq!(cursor_from_key(start, Index::Primary).unwrap(), cursor);

        let cursor = Cursor {
            key: Key::new("P", "S"),
            gsi1: Some(Key::new("G", "H")),
        };
        let query = Query::partition("G", 5)
            .on_index()
            .after(Some(cursor.clone()));
        let start = QueryRequest::new(&query, NOW).unwrap().start.unwrap();
        assert_eq!(start.len(), 4);
        assert_eq!(cursor_from_key(start, Index::Gsi1).unwrap(), cursor);
    }

    #[test]
    fn foreign_or_malformed_cursors_are_invalid() {
        let table_cursor = Cursor {
            key: Key::new("P", "S"),
            gsi1: None,
        };
        let cases = [
            Query::partition("OTHER", 5).after(Some(table_cursor.clone())),
            // An index query needs the index key of the cursor.
            Query::partition("P", 5)
                .on_index()
                .after(Some(table_cursor)),
            Query::partition("X", 5).on_index().after(Some(Cursor {
                key: Key::new("P", "S"),
                gsi1: Some(Key::new("G", "H")),
            })),
            Query::partition("P", 5).after(Some(Cursor {
                key: Key::new("P", ""),
                gsi1: None,
            })),
        ];
        for query in cases {
            assert!(
                matches!(QueryRequest::new(&query, NOW), Err(StoreError::Invalid(_))),
                "{query:?}"
            );
        }
        let mut half = key_attributes(&Key::new("P", "S"));
        half.insert(GSI1_PK.into(), AttributeValue::S("G".into()));
        assert!(matches!(
            cursor_from_key(half, Index::Gsi1),
            Err(StoreError::Corrupt(_))
        ));
    }

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

    impl RawStatus for () {
        fn status_code(&self) -> Option<u16> {
            Some(500)
        }
    }

    fn service_error(code: &str, message: &str) -> SdkError<PutItemError, ()> {
        SdkError::service_error(
            PutItemError::generic(ErrorMetadata::builder().code(code).message(message).build()),
            (),
        )
    }

    #[test]
    fn service_errors_are_classified() {
        let classify = |code: &str| classify("portal", "PutItem", &service_error(code, "details"));
        assert!(
            matches!(classify("ValidationException"), StoreError::Invalid(m) if m.contains("details") && m.contains("portal"))
        );
        assert!(matches!(
            classify("TransactionConflictException"),
            StoreError::Conflict
        ));
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "InternalServerError",
            "ResourceNotFoundException",
            "UnrecognizedClientException",
        ] {
            assert!(
                matches!(classify(code), StoreError::Unavailable(m) if m.contains("PutItem") && !m.contains('\n')),
                "{code}"
            );
        }
        let bare =
            SdkError::service_error(PutItemError::generic(ErrorMetadata::builder().build()), ());
        assert!(matches!(
            super::classify("portal", "PutItem", &bare),
            StoreError::Unavailable(m) if m.ends_with("unexpected response (HTTP 500)")
        ));
    }

    #[test]
    fn messages_are_short_single_lines() {
        assert_eq!(short("a\nb\tc "), "a b c");
        let long = "x".repeat(1000);
        assert_eq!(short(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn table_names_follow_dynamodb_rules() {
        for ok in ["abc", "portal-dev_1.x", &"a".repeat(255)] {
            assert!(validate_table_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "ab", "a b c", "tab/le", &"a".repeat(256)] {
            assert!(
                matches!(validate_table_name(bad), Err(StoreError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn schema_check_requires_keys_and_index() {
        let key = |name: &str, key_type: KeyType| key_schema_element(name, key_type).unwrap();
        let index = |projection: ProjectionType| {
            aws_sdk_dynamodb::types::GlobalSecondaryIndexDescription::builder()
                .index_name(GSI1)
                .key_schema(key(GSI1_PK, KeyType::Hash))
                .key_schema(key(GSI1_SK, KeyType::Range))
                .projection(Projection::builder().projection_type(projection).build())
                .build()
        };
        let good = TableDescription::builder()
            .key_schema(key(PK, KeyType::Hash))
            .key_schema(key(SK, KeyType::Range))
            .global_secondary_indexes(index(ProjectionType::All))
            .build();
        assert_eq!(check_schema(&good), Ok(()));
        let no_index = TableDescription::builder()
            .key_schema(key(PK, KeyType::Hash))
            .key_schema(key(SK, KeyType::Range))
            .build();
        assert!(check_schema(&no_index).is_err());
        let keys_only = TableDescription::builder()
            .key_schema(key(PK, KeyType::Hash))
            .key_schema(key(SK, KeyType::Range))
            .global_secondary_indexes(index(ProjectionType::KeysOnly))
            .build();
        assert!(check_schema(&keys_only).is_err());
        let hash_only = TableDescription::builder()
            .key_schema(key(PK, KeyType::Hash))
            .global_secondary_indexes(index(ProjectionType::All))
            .build();
        assert!(check_schema(&hash_only).is_err());
    }
}
