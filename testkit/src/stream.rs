//! DynamoDB Stream batches, as the table's stream hands outbox inserts to the `asap` function:
//! the deployed delivery path, driven by tests on either store.

use serde_json::{json, Value};
use shared::store::{layout, Item, Value as StoreValue};

/// An item as DynamoDB JSON, the way a stream record's `NewImage` carries what the DynamoDB
/// adapter wrote (`pk`, `sk`, `ttl`, attributes at the top level).
///
/// # Panics
/// On binary or list attributes, which no outbox record has.
pub fn image(item: &Item) -> Value {
    let mut image = serde_json::Map::new();
    image.insert("pk".into(), json!({ "S": item.key.pk }));
    image.insert("sk".into(), json!({ "S": item.key.sk }));
    if let Some(ttl) = item.expires_at {
        image.insert("ttl".into(), json!({ "N": ttl.to_string() }));
    }
    for (name, value) in &item.attrs {
        let value = match value {
            StoreValue::S(s) => json!({ "S": s }),
            StoreValue::N(n) => json!({ "N": n.to_string() }),
            StoreValue::Bool(b) => json!({ "BOOL": b }),
            other => panic!("unexpected {other:?}"),
        };
        image.insert(name.clone(), value);
    }
    Value::Object(image)
}

/// One stream record (`INSERT`, `MODIFY` or `REMOVE`) with `new_image` and a sequence number.
pub fn record(sequence: &str, event_name: &str, new_image: Value) -> Value {
    json!({
        "eventID": format!("evt-{sequence}"),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_796_000_000,
            "Keys": { "pk": new_image["pk"], "sk": new_image["sk"] },
            "NewImage": new_image,
            "SequenceNumber": sequence,
            "SizeBytes": 312,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/portal/stream/2026-11-30T00:00:00.000"
    })
}

/// The batch the stream (through the template's filter) delivers for the outbox records among
/// `items`: one `INSERT` per record, numbered from 1 in order.
pub fn outbox_batch(items: &[Item]) -> Value {
    let records: Vec<Value> = items
        .iter()
        .filter(|item| layout::is_outbox_event(&item.key))
        .enumerate()
        .map(|(n, item)| record(&(n + 1).to_string(), "INSERT", image(item)))
        .collect();
    json!({ "Records": records })
}
