//! SES bounce and complaint notifications as the `asap` function receives them: an SNS delivery
//! (the Lambda SNS event) whose `Message` is the JSON SES publishes through a configuration set's
//! event destination (shapes from the SES developer guide, "Contents of event data that Amazon
//! SES publishes to Amazon SNS").

use serde_json::{json, Value};

/// What SES reports about a recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feedback {
    /// A permanent (hard) bounce: the mailbox does not exist.
    HardBounce,
    /// A transient (soft) bounce: the mailbox is full.
    SoftBounce,
    /// The recipient marked the message as spam.
    Complaint,
    /// The message was delivered.
    Delivery,
}

/// The SES event JSON for `recipient`, sent from `sender` under `configuration_set`.
pub fn ses_event(
    feedback: Feedback,
    sender: &str,
    recipient: &str,
    configuration_set: &str,
) -> Value {
    let mail = json!({
        "timestamp": "2026-12-06T10:00:00.000Z",
        "source": sender,
        "sourceArn": format!("arn:aws:ses:us-east-1:123456789012:identity/{sender}"),
        "sendingAccountId": "123456789012",
        "messageId": "0100019a8b2c3d4e-5f6a7b8c-1d2e-3f4a-5b6c-7d8e9f0a1b2c-000000",
        "destination": [recipient],
        "headersTruncated": false,
        "headers": [
            { "name": "From", "value": sender },
            { "name": "To", "value": format!("<{recipient}>") },
            { "name": "Subject", "value": "An earlier appointment is free" }
        ],
        "commonHeaders": {
            "from": [sender],
            "to": [format!("<{recipient}>")],
            "messageId": "0100019a8b2c3d4e-5f6a7b8c-1d2e-3f4a-5b6c-7d8e9f0a1b2c-000000",
            "subject": "An earlier appointment is free"
        },
        "tags": {
            "ses:configuration-set": [configuration_set],
            "ses:source-ip": ["203.0.113.10"],
            "ses:from-domain": [sender.rsplit('@').next().unwrap_or_default()],
            "ses:caller-identity": ["asap"]
        }
    });
    match feedback {
        Feedback::HardBounce | Feedback::SoftBounce => {
            let (kind, sub, status, code) = if feedback == Feedback::HardBounce {
                (
                    "Permanent",
                    "General",
                    "5.1.1",
                    "smtp; 550 5.1.1 user unknown",
                )
            } else {
                (
                    "Transient",
                    "MailboxFull",
                    "4.2.2",
                    "smtp; 452 4.2.2 mailbox full",
                )
            };
            json!({
                "eventType": "Bounce",
                "bounce": {
                    "feedbackId": "0100019a8b2c3d4e-aaaa-bbbb-cccc-dddddddddddd-000000",
                    "bounceType": kind,
                    "bounceSubType": sub,
                    "bouncedRecipients": [{
                        "emailAddress": recipient,
                        "action": "failed",
                        "status": status,
                        "diagnosticCode": code
                    }],
                    "timestamp": "2026-12-06T10:00:01.000Z",
                    "reportingMTA": "dsn; e226-55.smtp-out.us-east-1.amazonses.com"
                },
                "mail": mail
            })
        }
        Feedback::Complaint => json!({
            "eventType": "Complaint",
            "complaint": {
                "feedbackId": "0100019a8b2c3d4e-eeee-ffff-0000-111111111111-000000",
                "complaintSubType": null,
                "complainedRecipients": [{ "emailAddress": recipient }],
                "timestamp": "2026-12-06T10:05:00.000Z",
                "userAgent": "Mozilla/5.0",
                "complaintFeedbackType": "abuse",
                "arrivalDate": "2026-12-06T10:04:59.000Z"
            },
            "mail": mail
        }),
        Feedback::Delivery => json!({
            "eventType": "Delivery",
            "delivery": {
                "timestamp": "2026-12-06T10:00:01.000Z",
                "processingTimeMillis": 546,
                "recipients": [recipient],
                "smtpResponse": "250 ok",
                "reportingMTA": "e226-55.smtp-out.us-east-1.amazonses.com"
            },
            "mail": mail
        }),
    }
}

/// The Lambda event of one SNS delivery carrying `message` (any JSON, sent as its text).
pub fn sns_event(message: &Value) -> Value {
    let topic = "arn:aws:sns:us-east-1:123456789012:portal-prod-MailFeedbackTopic-1ABC";
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": format!("{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"),
            "Sns": {
                "Type": "Notification",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": topic,
                "Subject": null,
                "Message": message.to_string(),
                "Timestamp": "2026-12-06T10:00:02.000Z",
                "SignatureVersion": "1",
                "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
                "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
                "UnsubscribeUrl": format!("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55"),
                "MessageAttributes": {}
            }
        }]
    })
}

/// The SNS delivery of one SES notification about `recipient`.
pub fn notification(feedback: Feedback, sender: &str, recipient: &str) -> Value {
    sns_event(&ses_event(feedback, sender, recipient, "portal-prod-mail"))
}
