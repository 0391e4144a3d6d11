//! Mail: the SES identity, the configuration set every message goes out under, and its bounce and
//! complaint events reaching the `asap` function (which records suppressions).

use super::*;

/// The `Resource` list of every `SendMail` statement.
fn send_mail_resources(doc: &Value) -> Vec<Vec<Value>> {
    let mut found = Vec::new();
    for (_, r) in resources(doc) {
        let policies = match r["Type"].as_str() {
            Some("AWS::Serverless::Function") => r["Properties"]["Policies"].clone(),
            Some("AWS::IAM::Role") => Value::Sequence(
                r["Properties"]["Policies"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .map(|p| p["PolicyDocument"].clone())
                    .collect(),
            ),
            _ => continue,
        };
        for policy in policies.as_sequence().into_iter().flatten() {
            for statement in policy["Statement"].as_sequence().into_iter().flatten() {
                if statement["Sid"].as_str() == Some("SendMail") {
                    found.push(
                        statement["Resource"]
                            .as_sequence()
                            .cloned()
                            .unwrap_or_default(),
                    );
                }
            }
        }
    }
    found
}

#[test]
fn the_sender_identity_is_created_from_the_parameters_and_sends_under_the_configuration_set() {
    let doc = template();
    let identity = resource(&doc, "SenderEmailIdentity");
    assert_eq!(identity["Type"].as_str(), Some("AWS::SES::EmailIdentity"));
    assert_eq!(
        identity["Condition"].as_str(),
        Some("CreateSenderIdentityCondition")
    );
    let (name, args) = intrinsic(&identity["Properties"]["EmailIdentity"]).expect("!If");
    assert_eq!(name, "If");
    let args = args.as_sequence().unwrap();
    assert_eq!(args[0].as_str(), Some("HasSenderIdentity"));
    assert_eq!(ref_target(&args[1]).as_deref(), Some("SenderIdentity"));
    assert_eq!(ref_target(&args[2]).as_deref(), Some("SenderEmail"));
    assert_eq!(
        ref_target(&identity["Properties"]["ConfigurationSetAttributes"]["ConfigurationSetName"])
            .as_deref(),
        Some("MailConfigurationSet")
    );
    for parameter in ["SenderEmail", "SenderIdentity", "CreateSenderIdentity"] {
        assert!(!doc["Parameters"][parameter].is_null(), "{parameter}");
    }
}

#[test]
fn bounces_and_complaints_of_the_configuration_set_reach_the_asap_function() {
    let doc = template();
    let set = resource(&doc, "MailConfigurationSet");
    assert_eq!(set["Type"].as_str(), Some("AWS::SES::ConfigurationSet"));
    let reasons: BTreeSet<&str> = set["Properties"]["SuppressionOptions"]["SuppressedReasons"]
        .as_sequence()
        .expect("SES's own suppression as a second line")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(reasons, BTreeSet::from(["BOUNCE", "COMPLAINT"]));

    // The event destination: bounces and complaints, to one SNS topic.
    let destinations: Vec<&Value> = resources(&doc)
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::SES::ConfigurationSetEventDestination"))
        .map(|(_, r)| &r["Properties"])
        .collect();
    assert_eq!(destinations.len(), 1);
    let destination = destinations[0];
    assert_eq!(
        ref_target(&destination["ConfigurationSetName"]).as_deref(),
        Some("MailConfigurationSet")
    );
    let event = &destination["EventDestination"];
    assert_eq!(event["Enabled"].as_bool(), Some(true));
    let types: BTreeSet<&str> = event["MatchingEventTypes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(types, BTreeSet::from(["bounce", "complaint"]));
    let topic = ref_target(&event["SnsDestination"]["TopicARN"]).expect("!Ref the topic");
    assert_eq!(
        resource(&doc, &topic)["Type"].as_str(),
        Some("AWS::SNS::Topic")
    );

    // SES may publish to it (this account only) ...
    let policies: Vec<&Value> = resources(&doc)
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::SNS::TopicPolicy"))
        .map(|(_, r)| &r["Properties"])
        .filter(|p| {
            p["Topics"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|t| ref_target(t).as_deref() == Some(topic.as_str()))
        })
        .collect();
    assert_eq!(policies.len(), 1, "one policy on {topic}");
    let statement = &policies[0]["PolicyDocument"]["Statement"][0];
    assert_eq!(
        statement["Principal"]["Service"].as_str(),
        Some("ses.amazonaws.com")
    );
    assert_eq!(statement["Action"].as_str(), Some("sns:Publish"));
    assert!(!statement["Condition"]["StringEquals"]["AWS:SourceAccount"].is_null());

    // ... and the asap function, which records suppressions, is its only subscriber (SAM's SNS
    // event: the subscription and the permission for SNS to invoke the function).
    let mut subscribers = Vec::new();
    for (id, r) in resources(&doc) {
        for (_, event) in r["Properties"]["Events"].as_mapping().into_iter().flatten() {
            if event["Type"].as_str() == Some("SNS")
                && ref_target(&event["Properties"]["Topic"]).as_deref() == Some(topic.as_str())
            {
                subscribers.push(id.to_owned());
            }
        }
    }
    let (asap_id, _) = function_of(&doc, "asap");
    assert_eq!(subscribers, vec![asap_id]);
    assert!(
        resources(&doc).all(|(_, r)| r["Type"].as_str() != Some("AWS::SNS::Subscription")),
        "no second subscriber beside the SAM event"
    );
}

#[test]
fn every_mail_sender_may_send_under_the_configuration_set() {
    let doc = template();
    let all = send_mail_resources(&doc);
    assert_eq!(all.len(), 3, "asap, booking and authorize send mail");
    for resources in all {
        let on_set = resources.iter().any(|r| {
            sub_text(r)
                .is_some_and(|text| text.ends_with(":configuration-set/${MailConfigurationSet}"))
        });
        assert!(on_set, "{resources:?}");
    }
}
