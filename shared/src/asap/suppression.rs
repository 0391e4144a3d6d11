//! Addresses that bounced or complained receive nothing further.
//!
//! Deployed, every message goes out under the stack's SES configuration set, whose event
//! destination publishes bounces and complaints to an SNS topic the `asap` function is subscribed
//! to. [`handle_notifications`] records each permanently bounced or complaining recipient as a
//! suppression item ([`layout::suppressed`], keyed by the address's hash: no address is stored in
//! clear), and every mail sender checks that item inside the transaction that already claims the
//! mail ([`super::limits`]), so the check costs no extra round trip. Transient bounces (a full
//! mailbox, a greylisting server) suppress nothing: SES itself retries those.
//!
//! Both forms SES uses are read: event publishing (`eventType`) and identity notifications
//! (`notificationType`). Other events (deliveries, sends) and messages that are not SES events are
//! acknowledged and ignored, since retrying them could not help; a store failure fails the
//! invocation, so Lambda retries the asynchronous SNS delivery.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::store::{layout, Condition, Item, SharedStore, StoreError};

/// Why an address is suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The receiving server said the address does not exist (a permanent bounce).
    Bounce,
    /// The recipient marked a message as spam.
    Complaint,
}

impl Reason {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Bounce => "bounce",
            Reason::Complaint => "complaint",
        }
    }
}

/// Whether a Lambda event is an SNS delivery (rather than an HTTP request or a stream batch).
pub fn is_sns_event(event: &Value) -> bool {
    event
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .and_then(|record| record.get("EventSource"))
        .and_then(Value::as_str)
        == Some("aws:sns")
}

#[derive(Deserialize)]
struct Batch {
    #[serde(rename = "Records")]
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "Sns")]
    sns: Sns,
}

#[derive(Deserialize)]
struct Sns {
    #[serde(rename = "Message")]
    message: String,
}

/// An SES bounce or complaint notification (the fields used here).
#[derive(Deserialize)]
struct SesEvent {
    #[serde(rename = "eventType", alias = "notificationType", default)]
    kind: String,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
}

#[derive(Deserialize)]
struct Bounce {
    #[serde(rename = "bounceType", default)]
    bounce_type: String,
    #[serde(rename = "bouncedRecipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Complaint {
    #[serde(rename = "complainedRecipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Deserialize)]
struct Recipient {
    #[serde(rename = "emailAddress")]
    address: String,
}

/// The recipients an SES notification asks to suppress, and why.
fn suppressions(message: &str) -> Vec<(String, Reason)> {
    let Ok(event) = serde_json::from_str::<SesEvent>(message) else {
        return Vec::new();
    };
    let (recipients, reason) = match (event.kind.as_str(), event.bounce, event.complaint) {
        ("Bounce", Some(bounce), _) if bounce.bounce_type == "Permanent" => {
            (bounce.recipients, Reason::Bounce)
        }
        ("Complaint", _, Some(complaint)) => (complaint.recipients, Reason::Complaint),
        _ => return Vec::new(),
    };
    recipients
        .into_iter()
        .map(|r| bare_address(&r.address))
        .filter(|address| !address.is_empty())
        .map(|address| (address, reason))
        .collect()
}

/// The address inside `Name <address>` (SES reports recipients as they were addressed).
fn bare_address(text: &str) -> String {
    let text = text.trim();
    match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => text[open + 1..close].trim().to_owned(),
        _ => text.to_owned(),
    }
}

/// The suppression record of `address`.
pub fn record(address: &str, reason: Reason, now: i64) -> Item {
    Item::new(layout::suppressed(address))
        .with("reason", reason.as_str())
        .with("at", now)
}

/// Handles one SNS delivery of SES notifications: records every permanently bounced or
/// complaining recipient (one write each; a repeated notification writes the same record again).
/// Returns `{"suppressed": n}`.
pub async fn handle_notifications(
    store: &SharedStore,
    event: Value,
    now: i64,
) -> Result<Value, StoreError> {
    let batch: Batch = match serde_json::from_value(event) {
        Ok(batch) => batch,
        Err(error) => {
            tracing::warn!(%error, "an SNS event without SES notifications was ignored");
            return Ok(json!({ "suppressed": 0 }));
        }
    };
    let mut suppressed = 0;
    for record in batch.records {
        let found = suppressions(&record.sns.message);
        for (address, reason) in found {
            store
                .put(self::record(&address, reason, now), Condition::None)
                .await?;
            suppressed += 1;
            // The address itself is personal data: only the reason is logged.
            tracing::info!(reason = reason.as_str(), "mail address suppressed");
        }
    }
    Ok(json!({ "suppressed": suppressed }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounce(kind: &str, address: &str) -> String {
        json!({
            "eventType": "Bounce",
            "bounce": {
                "bounceType": kind,
                "bouncedRecipients": [{ "emailAddress": address, "status": "5.1.1" }]
            },
            "mail": { "destination": [address] }
        })
        .to_string()
    }

    #[test]
    fn permanent_bounces_and_complaints_suppress_and_nothing_else_does() {
        assert_eq!(
            suppressions(&bounce("Permanent", "Anna <anna@example.org>")),
            vec![("anna@example.org".to_owned(), Reason::Bounce)]
        );
        assert!(suppressions(&bounce("Transient", "anna@example.org")).is_empty());
        let complaint = json!({
            "notificationType": "Complaint",
            "complaint": { "complainedRecipients": [{ "emailAddress": "b@example.org" }] }
        });
        assert_eq!(
            suppressions(&complaint.to_string()),
            vec![("b@example.org".to_owned(), Reason::Complaint)]
        );
        let delivery = json!({ "eventType": "Delivery", "delivery": {} });
        assert!(suppressions(&delivery.to_string()).is_empty());
        assert!(suppressions("not json").is_empty());
    }

    #[test]
    fn only_sns_deliveries_are_claimed() {
        assert!(is_sns_event(
            &json!({ "Records": [{ "EventSource": "aws:sns", "Sns": {} }] })
        ));
        assert!(!is_sns_event(
            &json!({ "Records": [{ "eventSource": "aws:dynamodb" }] })
        ));
        assert!(!is_sns_event(&json!({ "version": "2.0" })));
    }
}
