//! The table: connecting to it (checking its schema) and creating it as `template.yaml` declares.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TableDescription, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;

use super::error::{build_error, classify};
use super::names::{GSI1, GSI1_PK, GSI1_SK, PK, SK, TTL};
use super::{dynamo_config, DynamoStore};
use crate::aws::{self, short, Aws, RawStatus};
use crate::store::StoreError;

/// How long `create_table` waits for the table to become ACTIVE.
const CREATE_TABLE_WAIT: Duration = Duration::from_secs(300);

impl DynamoStore {
    /// Builds a client from the standard AWS environment (region, credentials) with an optional
    /// endpoint override (the moto emulator), then makes one cheap call (DescribeTable) so a cold
    /// start opens its connection during init and a wrong table or endpoint fails now with a
    /// one-line [`StoreError::Unavailable`] naming both.
    ///
    /// The client has [`crate::aws`]'s timeouts and retries; the DescribeTable probe uses
    /// [`aws::init_probe_timeouts`], inside Lambda's 10 s init phase.
    pub async fn connect(table: &str, endpoint: Option<&str>) -> Result<Self, StoreError> {
        validate_table_name(table)?;
        let aws = Aws::load(endpoint).await;
        let fail = |reason: String| {
            StoreError::Unavailable(format!(
                "cannot use DynamoDB table `{table}` at {}: {reason}",
                aws.place()
            ))
        };
        aws.require_region().map_err(fail)?;
        let client = Client::from_conf(dynamo_config(&aws));
        let described = client
            .describe_table()
            .table_name(table)
            .customize()
            .config_override(
                aws_sdk_dynamodb::config::Builder::default()
                    .timeout_config(aws::init_probe_timeouts()),
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
}

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

/// Why DescribeTable failed, in a few words.
fn describe_failure<R: RawStatus + Debug + 'static>(
    err: &SdkError<DescribeTableError, R>,
) -> String {
    match err {
        SdkError::ServiceError(service)
            if matches!(
                service.err(),
                DescribeTableError::ResourceNotFoundException(_)
            ) =>
        {
            "the table does not exist".into()
        }
        other => aws::failure(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
