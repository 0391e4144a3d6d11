//! What both benchmark files share: criterion measuring process CPU time, and short settings so
//! `make bench` stays within minutes.

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput};
use portal_bench::process_cpu_time;

/// Criterion measurement of CPU time used by the whole process (all threads), in nanoseconds.
/// Other processes competing for the cores (compiles on a shared machine) do not inflate it.
pub struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        process_cpu_time()
    }
    fn end(&self, started: Duration) -> Duration {
        process_cpu_time().saturating_sub(started)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl CpuFormatter {
    fn unit(typical_ns: f64) -> (f64, &'static str) {
        if typical_ns < 1e3 {
            (1.0, "ns cpu")
        } else if typical_ns < 1e6 {
            (1e3, "µs cpu")
        } else if typical_ns < 1e9 {
            (1e6, "ms cpu")
        } else {
            (1e9, "s cpu")
        }
    }
}

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical_value: f64, values: &mut [f64]) -> &'static str {
        let (divisor, unit) = Self::unit(typical_value);
        values.iter_mut().for_each(|v| *v /= divisor);
        unit
    }

    fn scale_throughputs(
        &self,
        typical_value: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let per_op = match throughput {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => {
                *n as f64
            }
            Throughput::ElementsAndBytes { elements, .. } => *elements as f64,
            Throughput::Bits(n) => *n as f64,
        };
        let _ = typical_value;
        values
            .iter_mut()
            .for_each(|v| *v = per_op * 1e9 / v.max(f64::MIN_POSITIVE));
        "elem/s cpu"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// Short runs (1 s warm-up, 3 s measurement by default, overridable on the command line with
/// `--warm-up-time` / `--measurement-time`), fewer bootstrap resamples, no plots.
pub fn criterion() -> Criterion<CpuTime> {
    Criterion::default()
        .with_measurement(CpuTime)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .nresamples(10_000)
        .without_plots()
}
