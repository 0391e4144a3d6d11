//! The signing floor, measured in the same run: `openssl speed` on one core.

use tokio::process::Command;

use crate::BenchError;

/// One sign with `algorithm` (`rsa2048`, `ecdsap256`), µs, from `openssl speed -seconds 2`.
pub async fn openssl_sign_us(algorithm: &str) -> Result<f64, BenchError> {
    let output = Command::new("openssl")
        .args(["speed", "-seconds", "2", algorithm])
        .output()
        .await
        .map_err(|e| BenchError::new(format!("openssl speed {algorithm}: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_sign_us(&text, algorithm).ok_or_else(|| {
        BenchError::new(format!(
            "no sign/s figure in `openssl speed {algorithm}`: {text}"
        ))
    })
}

/// The `sign/s` column of `openssl speed`'s summary line for `algorithm`, as µs per sign.
fn parse_sign_us(text: &str, algorithm: &str) -> Option<f64> {
    let marker = match algorithm {
        "rsa2048" => "2048 bits",
        "ecdsap256" => "(nistp256)",
        _ => return None,
    };
    // "rsa 2048 bits 0.000401s 0.000012s 2493.7 83112.2" /
    // "256 bits ecdsa (nistp256)   0.0000s   0.0001s  45230.1  14503.9"
    let line = text
        .lines()
        .find(|line| line.contains(marker) && line.trim_end().ends_with(char::is_numeric))?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter(|word| !word.ends_with('s'))
        .filter_map(|word| word.parse().ok())
        .collect();
    let signs_per_second = numbers.get(numbers.len().checked_sub(2)?)?;
    (*signs_per_second > 0.0).then(|| 1e6 / signs_per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_column_of_openssl_3_output_is_read() {
        let rsa = "version: 3.0.17\n                   sign    verify    sign/s verify/s\nrsa 2048 bits 0.000400s 0.000012s   2500.0  83112.2\n";
        assert_eq!(parse_sign_us(rsa, "rsa2048"), Some(400.0));
        let ec = "                              sign    verify    sign/s verify/s\n 256 bits ecdsa (nistp256)   0.0000s   0.0001s  40000.0  14503.9\n";
        assert_eq!(parse_sign_us(ec, "ecdsap256"), Some(25.0));
        assert_eq!(
            parse_sign_us("Doing 2048 bits private rsa sign ops", "rsa2048"),
            None
        );
        assert_eq!(parse_sign_us(rsa, "dsa"), None);
    }
}
