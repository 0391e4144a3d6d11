//! The DynamoDB Stream batch the deployed `asap` function receives (event source mapping with a
//! filter on outbox inserts and `ReportBatchItemFailures`).
//!
//! Every record is dispatched; the sequence numbers of the records that failed go back in
//! `batchItemFailures`, so Lambda retries from the first failed one (records after it come again
//! too, and their delivery records make that send nothing twice). A record that is not an outbox
//! insert (the filter should never pass one) is acknowledged and ignored; an outbox record that
//! cannot be read is reported as failed so it ends in the on-failure queue instead of vanishing.

use serde::Deserialize;
use serde_json::{json, Value};

use super::notifier::Notifier;
use crate::booking::outbox::OutboxEvent;
use crate::store::dynamo::item_from_stream_image;
use crate::store::layout;

/// Whether a Lambda event is a DynamoDB Stream batch (rather than an HTTP request).
pub fn is_stream_event(event: &Value) -> bool {
    event
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .and_then(|record| record.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:dynamodb")
}

#[derive(Deserialize)]
struct Batch {
    #[serde(rename = "Records")]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    #[serde(default)]
    dynamodb: Change,
}

#[derive(Deserialize, Default)]
struct Change {
    #[serde(rename = "NewImage")]
    new_image: Option<Value>,
    #[serde(rename = "SequenceNumber")]
    sequence_number: Option<String>,
}

/// The batch is not a DynamoDB Stream event at all, or a failed record has no sequence number
/// to report (then the whole batch must be retried).
#[derive(Debug, thiserror::Error)]
#[error("not a usable DynamoDB Stream batch: {0}")]
pub struct BatchError(pub String);

/// Handles one batch; returns the `{"batchItemFailures": [...]}` response.
pub async fn handle_batch(
    notifier: &Notifier,
    event: Value,
    now: i64,
) -> Result<Value, BatchError> {
    let batch: Batch = serde_json::from_value(event).map_err(|e| BatchError(e.to_string()))?;
    let mut failures = Vec::new();
    for record in batch.records {
        if record.event_name != "INSERT" {
            continue;
        }
        let Some(image) = record.dynamodb.new_image.as_ref() else {
            continue;
        };
        let outcome = match item_from_stream_image(image) {
            Ok(item) if !layout::is_outbox_event(&item.key) => continue,
            Ok(item) => match OutboxEvent::from_item(&item) {
                Ok(event) => notifier
                    .dispatch(&event, now)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = outcome {
            let Some(sequence) = record.dynamodb.sequence_number else {
                return Err(BatchError(format!(
                    "a record failed ({error}) and has no SequenceNumber"
                )));
            };
            tracing::warn!(%error, sequence = %sequence, "asap stream record failed; it will be retried");
            failures.push(json!({ "itemIdentifier": sequence }));
        }
    }
    Ok(json!({ "batchItemFailures": failures }))
}
