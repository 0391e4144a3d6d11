//! The `_aws` metadata of the CloudWatch Embedded Metric Format (specification: a JSON log event
//! whose root holds `_aws.Timestamp` and `_aws.CloudWatchMetrics`, a list of directives each naming
//! a namespace, dimension sets and metrics; every dimension's value and every metric's number sit
//! at the root of the same event).

use serde_json::{json, Map, Value};

use super::namespace;

/// Unit of a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A count of events.
    Count,
    /// A duration in milliseconds.
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// Most metrics one directive may name (EMF limit).
pub const MAX_METRICS_PER_DIRECTIVE: usize = 100;

/// One `CloudWatchMetrics` entry: these metrics, aggregated by each of these dimension sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directive {
    /// Dimension sets, each a list of root keys.
    pub dimensions: Vec<Vec<&'static str>>,
    /// Metric names (root keys) and units.
    pub metrics: Vec<(&'static str, Unit)>,
}

impl Directive {
    /// A directive over `dimensions`.
    pub fn new(dimensions: Vec<Vec<&'static str>>) -> Self {
        Self {
            dimensions,
            metrics: Vec::new(),
        }
    }

    /// Adds a metric.
    pub fn metric(mut self, name: &'static str, unit: Unit) -> Self {
        self.metrics.push((name, unit));
        self
    }

    fn to_json(&self) -> Value {
        let metrics: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, unit)| json!({ "Name": name, "Unit": unit.as_str() }))
            .collect();
        json!({
            "Namespace": namespace(),
            "Dimensions": self.dimensions,
            "Metrics": metrics,
        })
    }
}

/// Puts the `_aws` metadata of `directives` (directives without metrics are left out) on `event`,
/// stamped `timestamp_ms` (unix milliseconds).
pub fn attach(event: &mut Map<String, Value>, timestamp_ms: i64, directives: &[Directive]) {
    let directives: Vec<Value> = directives
        .iter()
        .filter(|d| !d.metrics.is_empty())
        .map(Directive::to_json)
        .collect();
    event.insert(
        "_aws".to_owned(),
        json!({ "Timestamp": timestamp_ms, "CloudWatchMetrics": directives }),
    );
}

/// Checks `event` against the EMF rules a log event must meet for CloudWatch to extract its
/// metrics: every dimension is a string at the root, every metric a number at the root, at most
/// [`MAX_METRICS_PER_DIRECTIVE`] metrics and 30 dimensions per set. Returns the problems found.
pub fn problems(event: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let Some(aws) = event.get("_aws") else {
        return vec!["no `_aws` member".to_owned()];
    };
    if !aws.get("Timestamp").is_some_and(Value::is_i64) {
        found.push("`_aws.Timestamp` is not an integer".to_owned());
    }
    let Some(directives) = aws.get("CloudWatchMetrics").and_then(Value::as_array) else {
        found.push("`_aws.CloudWatchMetrics` is not a list".to_owned());
        return found;
    };
    for directive in directives {
        if directive.get("Namespace").and_then(Value::as_str) != Some(namespace()) {
            found.push(format!("directive without namespace {}", namespace()));
        }
        for set in directive["Dimensions"].as_array().into_iter().flatten() {
            let keys = set.as_array().cloned().unwrap_or_default();
            if keys.is_empty() || keys.len() > 30 {
                found.push(format!("dimension set {set} has {} keys", keys.len()));
            }
            for key in keys {
                let key = key.as_str().unwrap_or_default();
                if !event.get(key).is_some_and(Value::is_string) {
                    found.push(format!("dimension `{key}` is not a string at the root"));
                }
            }
        }
        let metrics = directive["Metrics"].as_array().cloned().unwrap_or_default();
        if metrics.is_empty() || metrics.len() > MAX_METRICS_PER_DIRECTIVE {
            found.push(format!("directive has {} metrics", metrics.len()));
        }
        for metric in metrics {
            let name = metric["Name"].as_str().unwrap_or_default();
            if !event.get(name).is_some_and(Value::is_number) {
                found.push(format!("metric `{name}` is not a number at the root"));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metadata_names_the_namespace_dimensions_and_metrics() {
        let mut event = Map::new();
        event.insert("Function".into(), json!("token"));
        event.insert("Requests".into(), json!(1));
        event.insert("Duration".into(), json!(12.5));
        let directive = Directive::new(vec![vec!["Function"]])
            .metric("Requests", Unit::Count)
            .metric("Duration", Unit::Milliseconds);
        attach(
            &mut event,
            1_700_000_000_123,
            &[directive, Directive::default()],
        );
        let event = Value::Object(event);
        assert_eq!(
            event["_aws"],
            json!({
                "Timestamp": 1_700_000_000_123_i64,
                "CloudWatchMetrics": [{
                    "Namespace": "MyPatientPortal",
                    "Dimensions": [["Function"]],
                    "Metrics": [
                        {"Name": "Requests", "Unit": "Count"},
                        {"Name": "Duration", "Unit": "Milliseconds"}
                    ]
                }]
            })
        );
        assert_eq!(problems(&event), Vec::<String>::new());
    }

    #[test]
    fn missing_values_are_reported() {
        let mut event = Map::new();
        event.insert("Function".into(), json!(7));
        let directive =
            Directive::new(vec![vec!["Function", "Route"]]).metric("Requests", Unit::Count);
        attach(&mut event, 1, &[directive]);
        let found = problems(&Value::Object(event));
        assert!(found.iter().any(|p| p.contains("`Function`")), "{found:?}");
        assert!(found.iter().any(|p| p.contains("`Route`")), "{found:?}");
        assert!(found.iter().any(|p| p.contains("`Requests`")), "{found:?}");
        assert_eq!(
            problems(&json!({"level": "INFO"})),
            vec!["no `_aws` member"]
        );
    }
}
