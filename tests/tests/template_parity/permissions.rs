//! Permissions: item-level, only the functions that mail hold SES, and only the ASAP function
//! reads the stream.

use super::*;

/// Every IAM statement of the template, with who holds it: inline `Policies` of a function (by
/// binary) or of an `AWS::IAM::Role` (by logical id).
pub(super) fn statements(doc: &Value) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    let mut collect = |holder: &str, statements: &Value| {
        for statement in statements.as_sequence().into_iter().flatten() {
            match intrinsic(statement) {
                // A conditional statement: both branches count.
                Some((name, args)) if name == "If" => {
                    for branch in args.as_sequence().into_iter().flatten().skip(1) {
                        if branch.is_mapping() && ref_target(branch).is_none() {
                            all.push((holder.to_owned(), branch.clone()));
                        }
                    }
                }
                _ => all.push((holder.to_owned(), statement.clone())),
            }
        }
    };
    for (id, r) in resources(doc) {
        match r["Type"].as_str() {
            Some("AWS::Serverless::Function") => {
                for policy in r["Properties"]["Policies"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                {
                    assert!(
                        policy.is_mapping() && !policy["Statement"].is_null(),
                        "{id}: use inline statements, not SAM policy templates or managed policies: {policy:?}"
                    );
                    collect(id, &policy["Statement"]);
                }
            }
            Some("AWS::IAM::Role") => {
                for policy in r["Properties"]["Policies"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                {
                    collect(id, &policy["PolicyDocument"]["Statement"]);
                }
                assert!(
                    r["Properties"]["ManagedPolicyArns"].is_null(),
                    "{id}: no managed policies"
                );
            }
            _ => {}
        }
    }
    all
}

pub(super) fn actions(statement: &Value) -> Vec<String> {
    match &statement["Action"] {
        Value::String(action) => vec![action.clone()],
        Value::Sequence(list) => list
            .iter()
            .map(|a| a.as_str().expect("action").to_owned())
            .collect(),
        other => panic!("Action {other:?}"),
    }
}

#[test]
fn permissions_are_item_level_only_the_mail_senders_can_send_and_only_asap_reads_the_stream() {
    let doc = template();
    let (asap_id, asap) = function_of(&doc, "asap");
    // Booking sends the confirmation mail of an ASAP address named on `POST /booking`.
    let (booking_id, _) = function_of(&doc, "booking");
    // Authorize sends the verification, reset and "password changed" mails of the account pages.
    let (authorize_id, _) = function_of(&doc, "authorize");
    let asap_role = get_att(&asap["Properties"]["Role"]).map(|(role, _)| role);
    let is_asap = |holder: &str| holder == asap_id || Some(holder) == asap_role.as_deref();

    let item_level = [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DescribeTable",
    ];
    let stream = [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    ];
    let mut mail_senders = BTreeSet::new();
    let mut stream_readers = BTreeSet::new();
    let all = statements(&doc);
    assert!(!all.is_empty());
    for (holder, statement) in &all {
        assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{holder}");
        for action in actions(statement) {
            assert!(!action.contains('*'), "{holder}: wildcard action {action}");
            if action == "dynamodb:BatchGetItem" {
                // A batched read is a read: never on partitions the holder could not GetItem.
                assert!(
                    actions(statement).iter().any(|a| a == "dynamodb:GetItem"),
                    "{holder}: BatchGetItem beside GetItem, under the same LeadingKeys"
                );
            }
            if let Some(op) = action.strip_prefix("dynamodb:") {
                assert!(
                    item_level.contains(&action.as_str()) || stream.contains(&action.as_str()),
                    "{holder}: dynamodb:{op} is more than the code needs"
                );
                if stream.contains(&action.as_str()) {
                    stream_readers.insert(holder.clone());
                } else {
                    assert_ne!(
                        statement["Resource"].as_str(),
                        Some("*"),
                        "{holder}: {action} on every table"
                    );
                }
            }
            if action.starts_with("ses:") {
                mail_senders.insert(holder.clone());
                assert_ne!(
                    statement["Resource"].as_str(),
                    Some("*"),
                    "{holder}: {action}"
                );
            }
        }
    }
    assert_eq!(
        mail_senders.len(),
        3,
        "asap, booking and authorize hold ses:* ({mail_senders:?})"
    );
    assert!(
        mail_senders
            .iter()
            .all(|h| is_asap(h) || *h == booking_id || *h == authorize_id),
        "{mail_senders:?}"
    );
    assert_eq!(stream_readers.len(), 1, "{stream_readers:?}");
    assert!(
        stream_readers.iter().all(|h| is_asap(h)),
        "{stream_readers:?}"
    );

    // The read-only function stays read-only, but for the access records (audit log) of what it
    // reads: a put, only under `AUDIT#` partitions.
    let (userinfo_id, _) = function_of(&doc, "userinfo");
    let mut record_puts = 0;
    for (holder, statement) in &all {
        if *holder == userinfo_id {
            for action in actions(statement) {
                assert!(
                    !["dynamodb:UpdateItem", "dynamodb:DeleteItem"].contains(&action.as_str()),
                    "userinfo may not change items ({action})"
                );
                if action == "dynamodb:PutItem" {
                    assert_eq!(actions(statement), ["dynamodb:PutItem"]);
                    let leading =
                        &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
                    assert_eq!(
                        leading,
                        &serde_yaml::from_str::<Value>("[\"AUDIT#*\"]").unwrap(),
                        "userinfo may put access records only"
                    );
                    record_puts += 1;
                }
            }
        }
    }
    assert_eq!(
        record_puts, 1,
        "userinfo stores the access records of its reads"
    );
    assert!(
        shared::store::layout::access_record("p", 0, "u")
            .pk
            .starts_with("AUDIT#"),
        "the template's leading key is the access records' partition prefix"
    );
}

#[test]
fn authorize_touches_and_queries_only_its_own_partitions() {
    use shared::store::layout::{
        ACCOUNT_INDEX_PREFIXES, ACCOUNT_ITEM_PREFIXES, ACCOUNT_QUERY_PREFIXES,
        AUTHORIZE_INDEX_PREFIXES, AUTHORIZE_KEY_PREFIXES,
    };
    let doc = template();
    let (function_id, _) = function_of(&doc, "authorize");
    let stars =
        |prefixes: &[&str]| -> Vec<String> { prefixes.iter().map(|p| format!("{p}*")).collect() };
    // (items?, queries?, index?, prefixes) of every statement about the table.
    let mut seen = Vec::new();
    let mut batched = Vec::new();
    for (holder, statement) in statements(&doc) {
        if holder != function_id {
            continue;
        }
        let actions = actions(&statement);
        assert!(!actions.iter().any(|a| a == "dynamodb:Scan"), "no scans");
        let items = actions
            .iter()
            .any(|a| a.starts_with("dynamodb:") && a.ends_with("Item"));
        let queries = actions.iter().any(|a| a == "dynamodb:Query");
        if !items && !queries {
            continue;
        }
        let index = format!("{:?}", statement["Resource"]).contains("index");
        let listed: Vec<String> = statement["Condition"]["ForAllValues:StringLike"]
            ["dynamodb:LeadingKeys"]
            .as_sequence()
            .unwrap_or_else(|| {
                panic!("authorize: access without dynamodb:LeadingKeys: {statement:?}")
            })
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        if actions.iter().any(|a| a == "dynamodb:BatchGetItem") {
            batched.push(listed.clone());
        }
        seen.push((items, queries, index, listed));
    }
    assert_eq!(
        batched,
        [stars(&AUTHORIZE_KEY_PREFIXES)],
        "authorize batches its sign-in reads (client + session, consent + profile) on its own partitions only"
    );
    seen.sort();
    let mut expected = vec![
        (true, true, false, stars(&AUTHORIZE_KEY_PREFIXES)),
        (false, true, true, stars(&AUTHORIZE_INDEX_PREFIXES)),
        (true, false, false, stars(&ACCOUNT_ITEM_PREFIXES)),
        (false, true, false, stars(&ACCOUNT_QUERY_PREFIXES)),
        (false, true, true, stars(&ACCOUNT_INDEX_PREFIXES)),
    ];
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn token_may_not_query_and_touches_only_its_own_partitions() {
    only_item_access_to("token", &shared::store::layout::TOKEN_KEY_PREFIXES, &[]);
}

#[test]
fn booking_touches_and_queries_only_its_own_partitions() {
    use shared::store::layout::{BOOKING_INDEX_PREFIXES, BOOKING_KEY_PREFIXES};
    only_item_access_to("booking", &BOOKING_KEY_PREFIXES, &BOOKING_INDEX_PREFIXES);
}

#[test]
fn asap_touches_only_its_own_partitions_and_queries_no_index() {
    only_item_access_to("asap", &shared::store::layout::ASAP_KEY_PREFIXES, &[]);
}

#[test]
fn userinfo_reads_only_its_own_partitions() {
    let doc = template();
    let (function_id, _) = function_of(&doc, "userinfo");
    let expected: Vec<String> = shared::store::layout::USERINFO_KEY_PREFIXES
        .iter()
        .map(|p| format!("{p}*"))
        .collect();
    let mut reads = 0;
    for (holder, statement) in statements(&doc) {
        if holder != function_id || !actions(&statement).iter().any(|a| a == "dynamodb:GetItem") {
            continue;
        }
        assert_eq!(
            actions(&statement),
            ["dynamodb:GetItem"],
            "userinfo only reads"
        );
        let listed: Vec<&str> = statement["Condition"]["ForAllValues:StringLike"]
            ["dynamodb:LeadingKeys"]
            .as_sequence()
            .unwrap_or_else(|| panic!("userinfo: reads without dynamodb:LeadingKeys"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(listed, expected, "userinfo: read partitions");
        reads += 1;
    }
    assert_eq!(reads, 1, "userinfo has one read statement");
}

/// Every statement of the function's role granting item actions or queries is limited with
/// `dynamodb:LeadingKeys` to exactly `prefixes` (on the table) or `index_prefixes` (queries of
/// the index, only when there are any); it never scans.
fn only_item_access_to(binary: &str, prefixes: &[&str], index_prefixes: &[&str]) {
    let doc = template();
    let (function_id, function) = function_of(&doc, binary);
    // A function with a role of its own holds that role's statements.
    let role = get_att(&function["Properties"]["Role"]).map(|(role, _)| role);
    let mut prefixes_seen = false;
    let mut index_seen = false;
    for (holder, statement) in statements(&doc) {
        if holder != function_id && Some(&holder) != role.as_ref() {
            continue;
        }
        let actions = actions(&statement);
        assert!(
            !actions.iter().any(|a| a == "dynamodb:Scan"),
            "{binary} never scans: {actions:?}"
        );
        let resources = format!("{:?}", statement["Resource"]);
        if resources.contains("index") {
            assert!(
                !index_prefixes.is_empty(),
                "{binary}: no index: {resources}"
            );
            assert_eq!(
                actions,
                ["dynamodb:Query"],
                "{binary}: the index is for queries"
            );
            let leading =
                &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            let expected: Vec<String> = index_prefixes.iter().map(|p| format!("{p}*")).collect();
            let listed: Vec<&str> = leading
                .as_sequence()
                .unwrap_or_else(|| panic!("{binary}: index query without LeadingKeys"))
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(listed, expected, "{binary}: index partitions");
            index_seen = true;
            continue;
        }
        let item_actions = actions
            .iter()
            .any(|a| a.starts_with("dynamodb:") && a.ends_with("Item"));
        if item_actions {
            let leading =
                &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
            let listed: Vec<&str> = leading
                .as_sequence()
                .unwrap_or_else(|| {
                    panic!("{binary}: item access without dynamodb:LeadingKeys: {statement:?}")
                })
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            let expected: Vec<String> = prefixes.iter().map(|p| format!("{p}*")).collect();
            assert_eq!(listed, expected, "{binary}");
            prefixes_seen = true;
        }
        if actions.iter().any(|a| a == "dynamodb:Query") {
            assert!(
                item_actions,
                "{binary}: queries only beside its LeadingKeys-limited item access"
            );
        }
    }
    assert!(prefixes_seen, "{binary} has an item statement");
    assert_eq!(
        index_seen,
        !index_prefixes.is_empty(),
        "{binary}: index statement"
    );
}
