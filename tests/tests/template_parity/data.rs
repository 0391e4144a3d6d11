//! Data: the table's schema and protection, and the stream that feeds the ASAP function.

use super::*;

#[test]
fn the_table_has_the_schema_the_dynamodb_adapter_creates_and_is_protected() {
    let doc = template();
    let table = resource(&doc, "Table");
    let yaml = |text: &str| serde_yaml::from_str::<Value>(text).unwrap();
    assert_eq!(table["Type"].as_str(), Some("AWS::DynamoDB::Table"));
    assert_eq!(table["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(table["UpdateReplacePolicy"].as_str(), Some("Retain"));
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    let mut attributes: Vec<(String, String)> = p["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap().to_owned(),
                a["AttributeType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    attributes.sort();
    assert_eq!(
        attributes,
        [("gsi1pk", "S"), ("gsi1sk", "S"), ("pk", "S"), ("sk", "S")]
            .map(|(n, t)| (n.to_owned(), t.to_owned()))
    );
    assert_eq!(
        p["KeySchema"],
        yaml("[{AttributeName: pk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]")
    );
    assert_eq!(
        p["GlobalSecondaryIndexes"],
        yaml(
            "[{IndexName: gsi1, KeySchema: [{AttributeName: gsi1pk, KeyType: HASH}, \
             {AttributeName: gsi1sk, KeyType: RANGE}], Projection: {ProjectionType: ALL}}]"
        )
    );
    assert_eq!(
        p["TimeToLiveSpecification"],
        yaml("{AttributeName: ttl, Enabled: true}")
    );
    assert_eq!(
        p["StreamSpecification"]["StreamViewType"].as_str(),
        Some("NEW_AND_OLD_IMAGES")
    );
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(p["DeletionProtectionEnabled"].as_bool(), Some(true));
    assert_eq!(p["SSESpecification"]["SSEEnabled"].as_bool(), Some(true));
}

#[test]
fn outbox_inserts_feed_asap_with_partial_batch_failures_and_an_encrypted_failure_queue() {
    let doc = template();
    let (id, asap) = function_of(&doc, "asap");
    let streams: Vec<&Value> = asap["Properties"]["Events"]
        .as_mapping()
        .expect("asap events")
        .values()
        .filter(|e| e["Type"].as_str() == Some("DynamoDB"))
        .collect();
    assert_eq!(streams.len(), 1, "{id}: one stream event");
    let s = &streams[0]["Properties"];
    assert_eq!(
        get_att(&s["Stream"]),
        Some(("Table".to_owned(), "StreamArn".to_owned()))
    );
    assert_eq!(
        s["FunctionResponseTypes"],
        serde_yaml::from_str::<Value>("[ReportBatchItemFailures]").unwrap()
    );
    assert_eq!(s["BisectBatchOnFunctionError"].as_bool(), Some(true));
    let retries = s["MaximumRetryAttempts"].as_i64().expect("bounded retries");
    assert!((0..=10).contains(&retries), "{retries}");

    let filters = s["FilterCriteria"]["Filters"]
        .as_sequence()
        .expect("filters");
    assert_eq!(filters.len(), 1);
    let pattern: serde_json::Value =
        serde_json::from_str(filters[0]["Pattern"].as_str().expect("pattern")).unwrap();
    assert_eq!(pattern["eventName"], serde_json::json!(["INSERT"]));
    assert_eq!(
        pattern["dynamodb"]["Keys"]["pk"]["S"],
        serde_json::json!([{ "prefix": shared::store::layout::OUTBOX_PREFIX }])
    );

    let on_failure = &s["DestinationConfig"]["OnFailure"];
    assert_eq!(on_failure["Type"].as_str(), Some("SQS"));
    let (queue_id, attribute) = get_att(&on_failure["Destination"]).expect("!GetAtt queue");
    assert_eq!(attribute, "Arn");
    let queue = resource(&doc, &queue_id);
    assert_eq!(queue["Type"].as_str(), Some("AWS::SQS::Queue"));
    assert_eq!(
        queue["Properties"]["MessageRetentionPeriod"].as_i64(),
        Some(14 * 24 * 3600)
    );
    let encrypted = queue["Properties"]["SqsManagedSseEnabled"].as_bool() == Some(true)
        || !queue["Properties"]["KmsMasterKeyId"].is_null();
    assert!(encrypted, "the failure queue is encrypted");
}
