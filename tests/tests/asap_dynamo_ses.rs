//! The ASAP notifier as deployed: DynamoDB (moto) holds the outbox record the cancel transaction
//! wrote, the stream batch carries it to the `asap` function, and the email goes out through SES
//! (moto). A send SES refuses is retried by the stream and then sent exactly once.

use std::sync::Arc;

use asap_fn::App as AsapApp;
use aws_sdk_dynamodb::types::AttributeValue;
use booking_fn::App as BookingApp;
use serde_json::{json, Value};
use shared::boot::EventHandler as _;
use shared::config::AsapDispatch;
use shared::i18n::Locale;
use shared::keys::Role;
use testkit::api::{body, book_request, call, days_ahead, ok, ApiPatient};
use testkit::{catalog, TestContext};

fn ses_client(endpoint: &str) -> aws_sdk_ses::Client {
    let config = aws_sdk_ses::Config::builder()
        .behavior_version(aws_sdk_ses::config::BehaviorVersion::latest())
        .region(aws_sdk_ses::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ses::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "portal-tests",
        ))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_ses::Client::from_conf(config)
}

/// Raw messages moto's SES accepted for `recipient`.
async fn sent_to(endpoint: &str, recipient: &str) -> Vec<String> {
    let data: Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut found = Vec::new();
    for kind in ["RawMessage", "Message"] {
        for message in data["ses"][kind].as_array().into_iter().flatten() {
            let text = message.to_string();
            if text.contains(recipient) {
                found.push(message["raw_data"].as_str().unwrap_or(&text).to_owned());
            }
        }
    }
    found
}

/// An item the SDK returned, as the DynamoDB JSON a stream record's `NewImage` carries.
fn image(item: &std::collections::HashMap<String, AttributeValue>) -> Value {
    let mut image = serde_json::Map::new();
    for (name, value) in item {
        let value = match value {
            AttributeValue::S(s) => json!({ "S": s }),
            AttributeValue::N(n) => json!({ "N": n }),
            AttributeValue::Bool(b) => json!({ "BOOL": b }),
            other => panic!("unexpected attribute {name}: {other:?}"),
        };
        image.insert(name.clone(), value);
    }
    Value::Object(image)
}

#[tokio::test]
async fn a_freed_slot_reaches_ses_through_the_stream_exactly_once_after_a_refused_send() {
    let endpoint = portal_tests::moto_endpoint();
    let adapter = portal_tests::dynamo_adapter("asap").await;
    let table = adapter.table().to_owned();
    let client = adapter.client().clone();
    let unique = shared::crypto::random_id(12).to_lowercase();
    let sender = format!("asap-{unique}@portal.example");
    let recipient = format!("late-{unique}@example.org");
    let ctx = TestContext::with_env(&[
        ("PORTAL_STORE", &format!("dynamodb:{table}")),
        ("PORTAL_AWS_ENDPOINT", &endpoint),
        ("PORTAL_MAIL", "ses"),
        ("PORTAL_MAIL_FROM", &format!("MyPatientPortal <{sender}>")),
    ]);
    assert_eq!(
        ctx.context.config.asap_dispatch,
        AsapDispatch::Stream,
        "DynamoDB defaults to the stream"
    );
    let store: shared::store::SharedStore = Arc::new(adapter);
    let context = ctx.with_store(store.clone());
    catalog::load_demo(&context.store).await;
    let booking = BookingApp::new(ctx.function_over(Role::Booking, store.clone()));
    let asap = AsapApp::new(ctx.function_over(Role::Asap, store));

    let (early, late) = (ApiPatient::new(&context), ApiPatient::new(&context));
    let from = days_ahead(3);
    let page = ok(
        &booking,
        early.get(&format!(
            "/availabilities?category_id=53&type_id=198&insurance_id=136&from={from}"
        )),
    )
    .await;
    let free = page["data"].as_array().unwrap();
    let mut ids = Vec::new();
    for (patient, slot, asap) in [(&early, &free[0], false), (&late, &free[5], true)] {
        let mut request = book_request(slot["id"].as_str().unwrap());
        if asap {
            request["asap_list_opt_in"] = json!(true);
            request["email"] = json!(recipient);
        }
        let response = call(&booking, patient.post("/booking", &request)).await;
        assert_eq!(response.status(), 201, "{}", body(&response));
        ids.push(body(&response)["id"].as_str().unwrap().to_owned());
    }
    ok(&booking, early.delete(&format!("/appointments/{}", ids[0]))).await;
    assert!(
        sent_to(&endpoint, &recipient).await.is_empty(),
        "stream mode sends nothing inline"
    );

    // The outbox record the cancel transaction wrote, as the table's stream delivers it.
    let scan = client
        .scan()
        .table_name(&table)
        .filter_expression("begins_with(pk, :p)")
        .expression_attribute_values(":p", AttributeValue::S("OUTBOX#".into()))
        .send()
        .await
        .unwrap();
    let records: Vec<Value> = scan
        .items()
        .iter()
        .enumerate()
        .map(|(i, item)| {
            json!({
                "eventID": format!("e{i}"),
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": { "pk": image(item)["pk"], "sk": image(item)["sk"] },
                    "NewImage": image(item),
                    "SequenceNumber": format!("{}", 1000 + i),
                    "StreamViewType": "NEW_AND_OLD_IMAGES"
                }
            })
        })
        .collect();
    assert_eq!(records.len(), 1, "one freed slot, one outbox record");
    let batch = json!({ "Records": records });

    // The sender is not verified yet: SES refuses, the record is reported failed, nothing sent.
    let result = asap.handle_event(batch.clone()).await.unwrap();
    assert_eq!(
        result,
        json!({ "batchItemFailures": [{ "itemIdentifier": "1000" }] })
    );
    assert!(sent_to(&endpoint, &recipient).await.is_empty());

    // Verified now: the retry sends it; a further redelivery sends nothing.
    ses_client(&endpoint)
        .verify_email_identity()
        .email_address(&sender)
        .send()
        .await
        .unwrap();
    let result = asap.handle_event(batch.clone()).await.unwrap();
    assert_eq!(result, json!({ "batchItemFailures": [] }));
    let result = asap.handle_event(batch).await.unwrap();
    assert_eq!(result, json!({ "batchItemFailures": [] }));
    let sent = sent_to(&endpoint, &recipient).await;
    assert_eq!(sent.len(), 1, "exactly one email: {sent:?}");
    let mail = sent[0].replace("=\r\n", "");
    assert!(
        mail.contains("List-Unsubscribe: <http://127.0.0.1:9000/asap/unsubscribe?token="),
        "{mail}"
    );
    let offered = catalog::spoken_start(&free[0], Locale::ENGLISH);
    assert!(mail.contains(&offered), "{offered} in {mail}");
}
