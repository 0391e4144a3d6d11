//! `template.yaml`'s dashboard, alarms, log groups and tracing agree with what the code writes:
//! every metric they name is one the functions emit (`shared::metrics`), in the namespace the
//! functions are configured with; the alarms an operator needs exist and notify the alarm topic;
//! every log group has a retention and each function its own; metric lines survive every log
//! level; X-Ray is a parameter, off by default.

use portal_tests::template::{resources_of, sub_text};
use serde_json::Value as Json;
use shared::metrics::{Counter, DURATION, REQUESTS};

use super::*;

/// The namespace the template gives the functions (and its dashboard and alarms use).
const NAMESPACE: &str = "MyPatientPortal/${Stage}";

/// Every metric name the code writes.
fn written_metrics() -> BTreeSet<String> {
    Counter::ALL
        .iter()
        .map(|c| c.name().to_owned())
        .chain([REQUESTS.to_owned(), DURATION.to_owned()])
        .collect()
}

/// The dashboard body as JSON, with every `${...}` of its `!Sub` replaced by a placeholder
/// (`${Stage}` kept as written, so namespaces compare with [`NAMESPACE`]).
fn dashboard(doc: &Value) -> Json {
    let (_, dashboard) = resources_of(doc, "AWS::CloudWatch::Dashboard")
        .next()
        .expect("a CloudWatch dashboard");
    let body =
        sub_text(&dashboard["Properties"]["DashboardBody"]).expect("DashboardBody is a !Sub");
    let mut text = String::new();
    let mut rest = body;
    while let Some(at) = rest.find("${") {
        text.push_str(&rest[..at]);
        let end = at + rest[at..].find('}').expect("closed ${");
        let name = &rest[at + 2..end];
        text.push_str(if name == "Stage" { "${Stage}" } else { "X" });
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("DashboardBody is not JSON: {e}\n{text}"))
}

/// `(namespace, metric)` of every metric a dashboard widget shows, SEARCH expressions included
/// (`{namespace,dims} MetricName="X"`); `...` rows repeat the row before.
fn dashboard_metrics(body: &Json) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for widget in body["widgets"].as_array().expect("widgets") {
        let mut previous: Option<(String, String)> = None;
        for row in widget["properties"]["metrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let row = row.as_array().expect("a metrics row is a list");
            if let Some(expression) = row.first().and_then(|e| e["expression"].as_str()) {
                let namespace = expression
                    .split_once("SEARCH('{")
                    .and_then(|(_, rest)| rest.split(',').next())
                    .expect("SEARCH names a namespace");
                let metric = expression
                    .split("MetricName=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .expect("SEARCH names a metric");
                found.push((namespace.to_owned(), metric.to_owned()));
                continue;
            }
            match row.first().and_then(Json::as_str) {
                Some("...") => found.push(previous.clone().expect("`...` after a row")),
                Some(namespace) => {
                    let metric = row[1].as_str().expect("metric name").to_owned();
                    previous = Some((namespace.to_owned(), metric.clone()));
                    found.push((namespace.to_owned(), metric));
                }
                None => panic!("unreadable metrics row {row:?}"),
            }
        }
    }
    found
}

#[test]
fn the_dashboard_shows_every_metric_the_functions_write_and_no_other() {
    let doc = template();
    let shown = dashboard_metrics(&dashboard(&doc));
    let ours: BTreeSet<String> = shown
        .iter()
        .filter(|(namespace, _)| namespace == NAMESPACE)
        .map(|(_, metric)| metric.clone())
        .collect();
    assert_eq!(
        ours,
        written_metrics(),
        "dashboard metrics vs shared::metrics"
    );
    for (namespace, metric) in &shown {
        assert!(
            namespace == NAMESPACE || namespace.starts_with("AWS/"),
            "{namespace} {metric}: neither ours nor AWS's"
        );
    }
    // The AWS metrics the alarms watch are on the dashboard too.
    for (namespace, metric) in [
        ("AWS/ApiGateway", "5xx"),
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    ] {
        assert!(
            shown.contains(&(namespace.to_owned(), metric.to_owned())),
            "{namespace} {metric} is not on the dashboard"
        );
    }
}

#[test]
fn the_dashboard_lists_every_alarm() {
    let doc = template();
    let dashboard_text = {
        let (_, d) = resources_of(&doc, "AWS::CloudWatch::Dashboard")
            .next()
            .unwrap();
        sub_text(&d["Properties"]["DashboardBody"])
            .unwrap()
            .to_owned()
    };
    let observability = [
        "Api5xxAlarm",
        "SignInThrottledAlarm",
        "RefreshReuseAlarm",
        "AsapMailFailuresAlarm",
        "OutboxFailuresAlarm",
        "DynamoDbThrottlingAlarm",
    ];
    for alarm in observability {
        assert!(
            dashboard_text.contains(&format!("${{{alarm}.Arn}}")),
            "{alarm} is not in the dashboard's alarm widget"
        );
    }
}

/// A metric an alarm watches: namespace, name, dimensions as `(name, value)`.
type Watched = (String, String, Vec<(String, String)>);

/// The metrics an alarm watches: its own metric, or each `MetricStat` of its metric math.
fn alarm_metrics(alarm: &Value) -> Vec<Watched> {
    // Intrinsics first: serde_yaml's `as_str` sees through tags.
    let text = |v: &Value| -> String {
        if let Some(target) = ref_target(v) {
            return format!("!Ref {target}");
        }
        if let Some(text) = sub_text(v) {
            return text.to_owned();
        }
        if let Some((name, arg)) = intrinsic(v) {
            return format!("!{name} {arg:?}");
        }
        v.as_str().unwrap_or_default().to_owned()
    };
    let dimensions = |dims: &Value| -> Vec<(String, String)> {
        dims.as_sequence()
            .into_iter()
            .flatten()
            .map(|d| (text(&d["Name"]), text(&d["Value"])))
            .collect()
    };
    let properties = &alarm["Properties"];
    if let Some(metrics) = properties["Metrics"].as_sequence() {
        metrics
            .iter()
            .filter(|m| !m["MetricStat"].is_null())
            .map(|m| {
                let metric = &m["MetricStat"]["Metric"];
                (
                    text(&metric["Namespace"]),
                    text(&metric["MetricName"]),
                    dimensions(&metric["Dimensions"]),
                )
            })
            .collect()
    } else {
        vec![(
            text(&properties["Namespace"]),
            text(&properties["MetricName"]),
            dimensions(&properties["Dimensions"]),
        )]
    }
}

#[test]
fn alarms_on_portal_metrics_name_metrics_and_functions_the_code_has() {
    let doc = template();
    let written = written_metrics();
    let mut checked = 0;
    for (id, alarm) in resources_of(&doc, "AWS::CloudWatch::Alarm") {
        for (namespace, metric, dims) in alarm_metrics(alarm) {
            if namespace != NAMESPACE {
                continue;
            }
            checked += 1;
            assert!(
                written.contains(&metric),
                "{id}: {metric} is not written by the code"
            );
            let function = dims
                .iter()
                .find(|(name, _)| name == "Function")
                .unwrap_or_else(|| panic!("{id}: no Function dimension"));
            assert!(
                BINARIES.contains(&function.1.as_str()),
                "{id}: {function:?}"
            );
        }
    }
    assert!(
        checked >= 3,
        "only {checked} alarms on the portal's metrics"
    );
}

#[test]
fn every_alarm_notifies_the_alarm_topic_when_there_is_one() {
    let doc = template();
    let expected: Value =
        serde_yaml::from_str("!If [HasAlarmEmail, [!Ref AlarmTopic], !Ref AWS::NoValue]").unwrap();
    for (id, alarm) in resources_of(&doc, "AWS::CloudWatch::Alarm") {
        assert_eq!(alarm["Properties"]["AlarmActions"], expected, "{id}");
    }
    let (_, topic) = resources_of(&doc, "AWS::SNS::Topic")
        .next()
        .expect("alarm topic");
    assert_eq!(topic["Condition"].as_str(), Some("HasAlarmEmail"));
    assert!(
        ref_target(&topic["Properties"]["Subscription"][0]["Endpoint"]).as_deref()
            == Some("AlarmEmail")
    );
}

#[test]
fn the_alarms_an_operator_needs_exist() {
    let doc = template();
    let watched: Vec<(String, Vec<Watched>, Value)> = resources_of(&doc, "AWS::CloudWatch::Alarm")
        .map(|(id, a)| (id.to_owned(), alarm_metrics(a), a["Properties"].clone()))
        .collect();
    let find = |namespace: &str, metric: &str| {
        watched
            .iter()
            .find(|(_, metrics, _)| {
                metrics
                    .iter()
                    .any(|(n, m, _)| n == namespace && m == metric)
            })
            .unwrap_or_else(|| panic!("no alarm on {namespace} {metric}"))
    };

    // 5xx as a rate: metric math dividing 5xx by the request count.
    let (id, metrics, properties) = find("AWS/ApiGateway", "5xx");
    assert!(
        metrics.iter().any(|(_, m, _)| m == "Count"),
        "{id} is not a rate of requests"
    );
    let expression = properties["Metrics"]
        .as_sequence()
        .unwrap()
        .iter()
        .find_map(|m| m["Expression"].as_str())
        .unwrap_or_else(|| panic!("{id} has no expression"));
    assert!(
        expression.contains("errors / requests"),
        "{id}: {expression}"
    );

    find(NAMESPACE, Counter::SignInThrottled.name());
    let (_, _, properties) = find(NAMESPACE, Counter::SignInThrottled.name());
    assert_eq!(
        ref_target(&properties["Threshold"]).as_deref(),
        Some("SignInThrottleAlarmThreshold")
    );
    find(NAMESPACE, Counter::RefreshReuseDetected.name());
    find(NAMESPACE, Counter::AsapMailsFailed.name());

    let (id, metrics, _) = find("AWS/SQS", "ApproximateNumberOfMessagesVisible");
    assert!(
        metrics[0]
            .2
            .iter()
            .any(|(_, v)| v.contains("OutboxFailureQueue")),
        "{id} does not watch the outbox failure queue"
    );
    for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] {
        let (id, metrics, _) = find("AWS/DynamoDB", metric);
        assert!(
            metrics.iter().all(|(_, _, dims)| dims
                .iter()
                .any(|(n, v)| n == "TableName" && v == "!Ref Table")),
            "{id} does not watch the portal table"
        );
    }
}

#[test]
fn the_functions_get_the_namespace_the_dashboard_and_alarms_use() {
    let doc = template();
    let variable =
        &doc["Globals"]["Function"]["Environment"]["Variables"]["PORTAL_METRICS_NAMESPACE"];
    assert_eq!(sub_text(variable), Some(NAMESPACE));
    // What the stage parameter allows makes a namespace the functions accept.
    let namespace = NAMESPACE.replace("${Stage}", "prod-eu-1");
    let config = shared::config::Config::from_lookup(|name| {
        (name == "PORTAL_METRICS_NAMESPACE").then(|| namespace.clone())
    })
    .expect("the template's namespace is valid configuration");
    assert_eq!(config.metrics_namespace, namespace);
}

#[test]
fn every_log_group_has_a_retention_and_each_function_its_own() {
    let doc = template();
    let groups: Vec<(&str, &Value)> = resources_of(&doc, "AWS::Logs::LogGroup").collect();
    assert!(
        groups.len() > BINARIES.len(),
        "function and access log groups"
    );
    for (id, group) in &groups {
        assert_eq!(
            ref_target(&group["Properties"]["RetentionInDays"]).as_deref(),
            Some("LogRetentionDays"),
            "{id} keeps logs forever"
        );
    }
    let mut used = BTreeSet::new();
    for (id, function) in resources_of(&doc, "AWS::Serverless::Function") {
        let group = ref_target(&function["Properties"]["LoggingConfig"]["LogGroup"])
            .unwrap_or_else(|| panic!("{id} has no log group of its own"));
        assert!(used.insert(group.clone()), "{group} is shared");
        let (_, resource) = groups
            .iter()
            .find(|(g, _)| *g == group)
            .unwrap_or_else(|| panic!("{id}: {group} is not a log group of the stack"));
        let name = sub_text(&resource["Properties"]["LogGroupName"]).unwrap_or_default();
        let binary = function["Properties"]["CodeUri"]
            .as_str()
            .and_then(|u| u.rsplit('/').next())
            .unwrap_or_default();
        assert!(name.ends_with(&format!("/{binary}")), "{id} logs to {name}");
    }
    assert_eq!(used.len(), BINARIES.len());
    // The API's access log too.
    let api = resources_of(&doc, "AWS::Serverless::HttpApi")
        .next()
        .unwrap()
        .1;
    let destination = &api["Properties"]["AccessLogSettings"]["DestinationArn"];
    let (name, arg) = intrinsic(destination).expect("!GetAtt");
    assert_eq!(name, "GetAtt");
    assert!(format!("{arg:?}").contains("ApiAccessLogGroup"));
}

#[test]
fn metric_lines_survive_every_log_level() {
    let doc = template();
    let levels = doc["Mappings"]["LogLevels"]
        .as_mapping()
        .expect("LogLevels");
    let allowed = doc["Parameters"]["LogLevel"]["AllowedValues"]
        .as_sequence()
        .unwrap();
    assert_eq!(levels.len(), allowed.len());
    for (level, filter) in levels {
        let lambda = filter["Lambda"].as_str().unwrap();
        assert!(
            ["INFO", "DEBUG", "TRACE"].contains(&lambda),
            "LogLevel {level:?} makes Lambda drop the INFO request lines that carry the metrics"
        );
    }
}

#[test]
fn tracing_is_a_parameter_off_by_default() {
    let doc = template();
    let parameter = &doc["Parameters"]["TracingMode"];
    assert_eq!(parameter["Default"].as_str(), Some("Disabled"));
    assert_eq!(
        ref_target(&doc["Globals"]["Function"]["Tracing"]).as_deref(),
        Some("TracingMode")
    );
}
