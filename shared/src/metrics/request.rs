//! The one log line of an invocation: what was asked (function, route), how it ended (status,
//! duration), the request id, and the invocation's metrics in EMF.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::emf::{self, Directive, Unit};
use super::{Counter, Recorder, DURATION, REQUESTS};

/// `2xx`, `3xx`, `4xx` or `5xx`.
pub fn status_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

/// The summary line of one invocation (and, rarely, more lines: see [`RequestLog::lines`]).
#[derive(Clone, Debug)]
pub struct RequestLog {
    fields: Map<String, Value>,
    extra: Vec<Value>,
}

impl RequestLog {
    /// The line of a request to `function` that matched `route` (`METHOD /path/{param}`, never
    /// the raw path: ids stay out of metrics), answered `status` after `elapsed`, with the counts
    /// its flows recorded. `now_ms`: unix milliseconds.
    pub fn new(
        function: &str,
        route: &str,
        status: u16,
        elapsed: Duration,
        counts: &Recorder,
        now_ms: i64,
    ) -> Self {
        Self::build(
            "request",
            function,
            route,
            status_class(status),
            Some(status),
            elapsed,
            counts,
            now_ms,
        )
    }

    /// The line of a non-HTTP invocation (the `asap` function's stream batches): `outcome` takes
    /// the place of the status class (`ok` or `failed`).
    pub fn event(
        function: &str,
        source: &str,
        ok: bool,
        elapsed: Duration,
        counts: &Recorder,
        now_ms: i64,
    ) -> Self {
        let outcome = if ok { "ok" } else { "failed" };
        Self::build(
            "event", function, source, outcome, None, elapsed, counts, now_ms,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        message: &str,
        function: &str,
        route: &str,
        class: &str,
        status: Option<u16>,
        elapsed: Duration,
        counts: &Recorder,
        now_ms: i64,
    ) -> Self {
        let mut fields = Map::new();
        // Lambda's log-level filter reads `level`; the template keeps INFO lines for every level.
        fields.insert("level".into(), json!("INFO"));
        fields.insert("message".into(), json!(message));
        fields.insert("Function".into(), json!(function));
        fields.insert("Route".into(), json!(route));
        fields.insert("StatusClass".into(), json!(class));
        if let Some(status) = status {
            fields.insert("status".into(), json!(status));
        }
        fields.insert(REQUESTS.into(), json!(1));
        let millis = (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
        fields.insert(DURATION.into(), json!(millis));

        let mut directives = vec![Directive::new(vec![
            vec!["Function"],
            vec!["Function", "Route", "StatusClass"],
        ])
        .metric(REQUESTS, Unit::Count)
        .metric(DURATION, Unit::Milliseconds)];
        let mut plain = Directive::new(vec![vec!["Function"]]);
        let mut extra = Vec::new();
        for (counter, value, n) in counts.counts() {
            match (counter.dimension(), value) {
                (Some(dimension), Some(value)) if !fields.contains_key(dimension) => {
                    fields.insert(dimension.into(), json!(value));
                    fields.insert(counter.name().into(), json!(n));
                    directives.push(
                        Directive::new(vec![vec!["Function", dimension]])
                            .metric(counter.name(), Unit::Count),
                    );
                }
                // A second value of the same dimension cannot share the line: its own event.
                (Some(dimension), Some(value)) => {
                    extra.push(split_event(function, counter, dimension, value, n, now_ms))
                }
                _ => {
                    fields.insert(counter.name().into(), json!(n));
                    plain = plain.metric(counter.name(), Unit::Count);
                }
            }
        }
        directives.push(plain);
        emf::attach(&mut fields, now_ms, &directives);
        Self { fields, extra }
    }

    /// Adds the Lambda request id (and the X-Ray trace id when tracing is on).
    pub fn with_ids(mut self, request_id: Option<&str>, trace_id: Option<&str>) -> Self {
        if let Some(id) = request_id.filter(|id| !id.is_empty()) {
            self.fields.insert("requestId".into(), json!(id));
        }
        if let Some(id) = trace_id.filter(|id| !id.is_empty()) {
            self.fields.insert("traceId".into(), json!(id));
        }
        self
    }

    /// Adds a field to the line (another per-request record, such as an audit entry). Names
    /// already used by the line are refused, so nothing can overwrite a metric or a dimension.
    pub fn insert(&mut self, name: &str, value: Value) -> bool {
        if self.fields.contains_key(name) {
            return false;
        }
        self.fields.insert(name.to_owned(), value);
        true
    }

    /// The line's fields.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Every line to print: the summary, then one line per extra value of a split counter (a
    /// request that failed on two kinds of store error, say).
    pub fn lines(&self) -> Vec<String> {
        std::iter::once(Value::Object(self.fields.clone()))
            .chain(self.extra.iter().cloned())
            .map(|v| v.to_string())
            .collect()
    }

    /// Prints [`RequestLog::lines`] to standard output, where Lambda collects logs.
    pub fn print(&self) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        for line in self.lines() {
            // A full pipe must not fail the request: the line is lost, the answer is not.
            let _ = writeln!(out, "{line}");
        }
    }
}

fn split_event(
    function: &str,
    counter: Counter,
    dimension: &'static str,
    value: &'static str,
    n: u64,
    now_ms: i64,
) -> Value {
    let mut fields = Map::new();
    fields.insert("level".into(), json!("INFO"));
    fields.insert("message".into(), json!("metrics"));
    fields.insert("Function".into(), json!(function));
    fields.insert(dimension.into(), json!(value));
    fields.insert(counter.name().into(), json!(n));
    let directive =
        Directive::new(vec![vec!["Function", dimension]]).metric(counter.name(), Unit::Count);
    emf::attach(&mut fields, now_ms, &[directive]);
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(log: &RequestLog) -> Vec<Value> {
        log.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_plain_request_carries_requests_and_duration_by_route_and_status_class() {
        let log = RequestLog::new(
            "booking",
            "GET /api/portal/v1/appointments/{id}",
            404,
            Duration::from_micros(12_345),
            &Recorder::default(),
            1_700_000_000_000,
        )
        .with_ids(Some("req-1"), None);
        let lines = parsed(&log);
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(emf::problems(line), Vec::<String>::new());
        assert_eq!(line["Function"], "booking");
        assert_eq!(line["Route"], "GET /api/portal/v1/appointments/{id}");
        assert_eq!(line["StatusClass"], "4xx");
        assert_eq!(line["status"], 404);
        assert_eq!(line["Requests"], 1);
        assert_eq!(line["Duration"], 12.345);
        assert_eq!(line["requestId"], "req-1");
        assert_eq!(line["level"], "INFO");
        let directives = line["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1, "no empty counter directive");
        assert_eq!(
            directives[0]["Dimensions"],
            json!([["Function"], ["Function", "Route", "StatusClass"]])
        );
    }

    #[test]
    fn counters_become_metrics_and_split_counters_their_dimension() {
        let mut counts = Recorder::default();
        counts.add(Counter::TokensIssued, Some("authorization_code"), 1);
        counts.add(Counter::RefreshReuseDetected, None, 1);
        counts.add(Counter::StoreErrors, Some("unavailable"), 2);
        counts.add(Counter::StoreErrors, Some("corrupt"), 1);
        let log = RequestLog::new(
            "token",
            "POST /oauth/token",
            200,
            Duration::ZERO,
            &counts,
            5,
        );
        let lines = parsed(&log);
        assert_eq!(lines.len(), 2, "{lines:?}");
        for line in &lines {
            assert_eq!(emf::problems(line), Vec::<String>::new(), "{line}");
        }
        let main = &lines[0];
        assert_eq!(main["TokensIssued"], 1);
        assert_eq!(main["Grant"], "authorization_code");
        assert_eq!(main["RefreshReuseDetected"], 1);
        // BTreeMap order: "corrupt" < "unavailable", so corrupt shares the line.
        assert_eq!(main["Kind"], "corrupt");
        assert_eq!(main["StoreErrors"], 1);
        assert_eq!(lines[1]["Kind"], "unavailable");
        assert_eq!(lines[1]["StoreErrors"], 2);
        assert_eq!(lines[1]["Function"], "token");
        let metrics: Vec<&str> = main["_aws"]["CloudWatchMetrics"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["Metrics"].as_array().unwrap())
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert_eq!(
            metrics,
            [
                "Requests",
                "Duration",
                "TokensIssued",
                "StoreErrors",
                "RefreshReuseDetected"
            ]
        );
    }

    #[test]
    fn inserted_fields_never_overwrite_the_line() {
        let mut log = RequestLog::new(
            "asap",
            "GET /asap/unsubscribe",
            200,
            Duration::ZERO,
            &Recorder::default(),
            1,
        );
        assert!(log.insert("audit", json!({"route": "x"})));
        assert!(!log.insert("Requests", json!(99)));
        assert_eq!(log.fields()["Requests"], 1);
        assert_eq!(log.fields()["audit"]["route"], "x");
    }

    #[test]
    fn stream_invocations_report_their_outcome() {
        let mut counts = Recorder::default();
        counts.add(Counter::AsapMailsSent, None, 2);
        let log = RequestLog::event("asap", "stream", false, Duration::ZERO, &counts, 1);
        let line = &parsed(&log)[0];
        assert_eq!(emf::problems(line), Vec::<String>::new());
        assert_eq!(line["StatusClass"], "failed");
        assert_eq!(line["AsapMailsSent"], 2);
        assert!(line.get("status").is_none());
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(201), "2xx");
        assert_eq!(status_class(303), "3xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(101), "other");
    }
}
