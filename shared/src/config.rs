//! Configuration from the environment, read once at start-up and validated.
//!
//! Every variable has a local default so `make run` needs none; a bad value stops the function at init
//! with a one-line message that names the variable and what it expected.

use std::path::PathBuf;

use chrono_tz::Tz;
use url::Url;

use crate::telemetry::LogLevel;

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreConfig {
    /// Embedded SQLite database file (local default).
    Sqlite {
        /// Path of the database file.
        path: PathBuf,
    },
    /// DynamoDB single table (deployed).
    Dynamo {
        /// Table name.
        table: String,
    },
}

/// Where mail goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailConfig {
    /// One `.eml` file per message in a folder (local default).
    Outbox {
        /// The folder.
        dir: PathBuf,
    },
    /// Amazon SES.
    Ses {
        /// `PORTAL_SES_CONFIGURATION_SET`: the configuration set every message is sent with (its
        /// event destination reports bounces and complaints); none when unset.
        configuration_set: Option<String>,
    },
}

/// How ASAP notifications are dispatched after a change frees capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsapDispatch {
    /// Right after the commit, in the request that wrote the outbox record (local default: no
    /// stream exists).
    Inline,
    /// By the `asap` function from the table's DynamoDB Stream (deployed default).
    Stream,
}

/// The `PORTAL_CORS_ORIGINS` value that allows no browser origin (the template's default).
pub const CORS_NONE: &str = "none";

/// The validated configuration of a function or of the admin CLI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `PORTAL_STORE`: `sqlite:PATH` or `dynamodb:TABLE`.
    pub store: StoreConfig,
    /// `PORTAL_AWS_ENDPOINT`: endpoint override for AWS services (the moto emulator), if any.
    pub aws_endpoint: Option<String>,
    /// `PORTAL_ISSUER`: the OAuth/OIDC issuer, also the public base URL.
    pub issuer: Url,
    /// `PORTAL_API_AUDIENCE`: `aud` of access tokens; default issuer + `/api/portal/v1`.
    pub api_audience: String,
    /// `PORTAL_DATA_DIR`: local state (SQLite file, signing keys, outbox); default `.data`.
    pub data_dir: PathBuf,
    /// `PORTAL_MAIL`: `outbox:DIR` or `ses`; default `outbox:<data dir>/outbox`.
    pub mail: MailConfig,
    /// `PORTAL_MAIL_FROM`: sender address of notification mail.
    pub mail_from: String,
    /// `PORTAL_CORS_ORIGINS`: comma-separated allowed browser origins, or `none` (what deployed
    /// stacks get by default) for no browser origin at all; unset means loopback origins only
    /// (local runs).
    pub cors_origins: Vec<String>,
    /// Whether any loopback origin is allowed: only when `PORTAL_CORS_ORIGINS` is unset.
    pub cors_loopback: bool,
    /// `PORTAL_ASAP_DISPATCH`: `inline` or `stream`; default inline for SQLite, stream for DynamoDB.
    pub asap_dispatch: AsapDispatch,
    /// `PORTAL_ASAP_FANOUT`: most emails per freed slot (oldest subscriptions first); default 10.
    pub asap_fanout: u32,
    /// `PORTAL_KEYS_SECRET_ARN`: the Secrets Manager secret (ARN or name) holding this function's
    /// own key document (deployed); unset means the local documents in `<data dir>/keys/`.
    pub keys_secret_arn: Option<String>,
    /// `PORTAL_KEYS_SECRETS` (`portal-admin` only): every key secret, as `name=ARN` pairs for
    /// `admin` and each function ([`KEY_DOCUMENTS`]); unset means the local documents.
    pub keys_secrets: Option<Vec<(String, String)>>,
    /// `PORTAL_VIDEO_BASE_URL`: join URL of the video consultation service (https, or http on
    /// loopback); default [`DEFAULT_VIDEO_BASE_URL`].
    pub video_base_url: Url,
    /// `PORTAL_LOG_LEVEL` (else `RUST_LOG`): a level name or a `RUST_LOG` directive list; default
    /// `info`.
    pub log_level: LogLevel,
    /// `PORTAL_METRICS_NAMESPACE`: CloudWatch namespace of the functions' metrics; default
    /// `MyPatientPortal` (the template sets `MyPatientPortal/<Stage>`, one per stack).
    pub metrics_namespace: String,
    /// `PORTAL_AUDIT_RETENTION_DAYS`: how long access records (the audit log of patient-data
    /// access) are kept, in days (1 to [`MAX_AUDIT_RETENTION_DAYS`]); default
    /// [`DEFAULT_AUDIT_RETENTION_DAYS`].
    pub audit_retention_days: u32,
    /// `PORTAL_SELF_REGISTRATION`: `on` (default) lets patients register on
    /// `/account/register`; `off` for institutions that create every account themselves
    /// (`portal-admin patient create`).
    pub self_registration: bool,
    /// `PORTAL_TIME_ZONE`: the IANA time zone the account page shows dates and times in (the
    /// institution's; the booking catalog keeps its own per schedule); default
    /// [`DEFAULT_TIME_ZONE`].
    pub time_zone: Tz,
}

/// Default of [`Config::time_zone`].
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Europe::Berlin;

/// Default of [`Config::audit_retention_days`]: a year.
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 365;
/// Largest accepted [`Config::audit_retention_days`] (ten years).
pub const MAX_AUDIT_RETENTION_DAYS: u32 = 3650;

/// Default of [`Config::asap_fanout`].
pub const DEFAULT_ASAP_FANOUT: u32 = 10;
/// Largest accepted [`Config::asap_fanout`].
pub const MAX_ASAP_FANOUT: u32 = 1000;

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {variable}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// Default local issuer (`make run`).
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:9000";

/// Names the Secrets Manager secret holding a function's key document ([`Config::keys_secret_arn`]).
pub const KEYS_SECRET_ARN_VAR: &str = "PORTAL_KEYS_SECRET_ARN";

/// Names every key secret, for `portal-admin` ([`Config::keys_secrets`]).
pub const KEYS_SECRETS_VAR: &str = "PORTAL_KEYS_SECRETS";

/// The key documents: the operator's and one per function (`shared::keys::Role`).
pub const KEY_DOCUMENTS: [&str; 6] = ["admin", "authorize", "token", "userinfo", "booking", "asap"];

/// Default of [`Config::video_base_url`].
pub const DEFAULT_VIDEO_BASE_URL: &str = "https://video.mypatientportal.example/join";

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (the environment, or a map in tests). Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let data_dir = PathBuf::from(get("PORTAL_DATA_DIR").unwrap_or_else(|| ".data".to_owned()));

        let store = match get("PORTAL_STORE") {
            None => StoreConfig::Sqlite {
                path: data_dir.join("portal.db"),
            },
            Some(value) => parse_store(&value)?,
        };

        let aws_endpoint = match get("PORTAL_AWS_ENDPOINT") {
            None => None,
            Some(value) => {
                let url = Url::parse(&value).map_err(|e| {
                    ConfigError::new(
                        "PORTAL_AWS_ENDPOINT",
                        format!("`{value}` is not a URL ({e})"),
                    )
                })?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(ConfigError::new(
                        "PORTAL_AWS_ENDPOINT",
                        format!("`{value}` must be an http(s) URL"),
                    ));
                }
                Some(value.trim_end_matches('/').to_owned())
            }
        };

        let issuer_text = get("PORTAL_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        let issuer = parse_web_url("PORTAL_ISSUER", &issuer_text)?;

        let api_audience = get("PORTAL_API_AUDIENCE")
            .unwrap_or_else(|| format!("{}/api/portal/v1", issuer_text.trim_end_matches('/')));

        let mail = match get("PORTAL_MAIL") {
            None => MailConfig::Outbox {
                dir: data_dir.join("outbox"),
            },
            Some(value) if value == "ses" => MailConfig::Ses {
                configuration_set: configuration_set(get("PORTAL_SES_CONFIGURATION_SET"))?,
            },
            Some(value) => match value.strip_prefix("outbox:") {
                Some(dir) if !dir.is_empty() => MailConfig::Outbox { dir: dir.into() },
                _ => {
                    return Err(ConfigError::new(
                        "PORTAL_MAIL",
                        format!("expected `outbox:DIR` or `ses`, got `{value}`"),
                    ))
                }
            },
        };

        let mail_from = get("PORTAL_MAIL_FROM")
            .unwrap_or_else(|| "MyPatientPortal <no-reply@mypatientportal.example>".to_owned());
        if !mail_from.contains('@') {
            return Err(ConfigError::new(
                "PORTAL_MAIL_FROM",
                format!("`{mail_from}` is not an email address"),
            ));
        }

        let cors_setting = get("PORTAL_CORS_ORIGINS");
        let cors_loopback = cors_setting.is_none();
        let cors_origins = match cors_setting {
            None => Vec::new(),
            Some(none) if none.trim() == CORS_NONE => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|origin| {
                    let url = Url::parse(origin).map_err(|_| {
                        ConfigError::new(
                            "PORTAL_CORS_ORIGINS",
                            format!("`{origin}` is not an origin like https://app.example"),
                        )
                    })?;
                    Ok(url.origin().ascii_serialization())
                })
                .collect::<Result<_, ConfigError>>()?,
        };

        let asap_dispatch = match get("PORTAL_ASAP_DISPATCH").as_deref() {
            None => match store {
                StoreConfig::Sqlite { .. } => AsapDispatch::Inline,
                StoreConfig::Dynamo { .. } => AsapDispatch::Stream,
            },
            Some("inline") => AsapDispatch::Inline,
            Some("stream") => AsapDispatch::Stream,
            Some(other) => {
                return Err(ConfigError::new(
                    "PORTAL_ASAP_DISPATCH",
                    format!("expected `inline` or `stream`, got `{other}`"),
                ))
            }
        };

        let asap_fanout = match get("PORTAL_ASAP_FANOUT") {
            None => DEFAULT_ASAP_FANOUT,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(n) if (1..=MAX_ASAP_FANOUT).contains(&n) => n,
                _ => {
                    return Err(ConfigError::new(
                        "PORTAL_ASAP_FANOUT",
                        format!("expected an integer from 1 to {MAX_ASAP_FANOUT}, got `{text}`"),
                    ))
                }
            },
        };

        let keys_secret_arn = get(KEYS_SECRET_ARN_VAR)
            .map(|value| parse_secret_arn(KEYS_SECRET_ARN_VAR, value.trim()))
            .transpose()?;
        let keys_secrets = get(KEYS_SECRETS_VAR)
            .map(|value| parse_key_secrets(&value))
            .transpose()?;

        let video_base_url = parse_web_url(
            "PORTAL_VIDEO_BASE_URL",
            get("PORTAL_VIDEO_BASE_URL")
                .as_deref()
                .unwrap_or(DEFAULT_VIDEO_BASE_URL)
                .trim(),
        )?;

        let log_level = match (get("PORTAL_LOG_LEVEL"), get("RUST_LOG")) {
            (Some(level), _) => LogLevel::parse(&level)
                .map_err(|message| ConfigError::new("PORTAL_LOG_LEVEL", message))?,
            (None, Some(level)) => {
                LogLevel::parse(&level).map_err(|message| ConfigError::new("RUST_LOG", message))?
            }
            (None, None) => LogLevel::default(),
        };

        let metrics_namespace = match get("PORTAL_METRICS_NAMESPACE") {
            None => crate::metrics::DEFAULT_NAMESPACE.to_owned(),
            Some(text) => {
                let valid = text.len() <= 255
                    && !text.starts_with("AWS/")
                    && text
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_/#:".contains(c));
                if !valid {
                    return Err(ConfigError::new(
                        "PORTAL_METRICS_NAMESPACE",
                        format!(
                            "expected a CloudWatch namespace (up to 255 of A-Z a-z 0-9 . - _ / # :, \
                             not starting with AWS/), got `{text}`"
                        ),
                    ));
                }
                text
            }
        };

        let audit_retention_days = match get("PORTAL_AUDIT_RETENTION_DAYS") {
            None => DEFAULT_AUDIT_RETENTION_DAYS,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(n) if (1..=MAX_AUDIT_RETENTION_DAYS).contains(&n) => n,
                _ => {
                    return Err(ConfigError::new(
                        "PORTAL_AUDIT_RETENTION_DAYS",
                        format!(
                            "expected a number of days from 1 to {MAX_AUDIT_RETENTION_DAYS}, got `{text}`"
                        ),
                    ))
                }
            },
        };

        let self_registration = match get("PORTAL_SELF_REGISTRATION").as_deref().map(str::trim) {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(ConfigError::new(
                    "PORTAL_SELF_REGISTRATION",
                    format!("expected `on` or `off`, got `{other}`"),
                ))
            }
        };

        let time_zone = match get("PORTAL_TIME_ZONE") {
            None => DEFAULT_TIME_ZONE,
            Some(text) => text.trim().parse::<Tz>().map_err(|_| {
                ConfigError::new(
                    "PORTAL_TIME_ZONE",
                    format!("expected an IANA time zone such as `Europe/Berlin`, got `{text}`"),
                )
            })?,
        };

        Ok(Self {
            store,
            aws_endpoint,
            issuer,
            api_audience,
            data_dir,
            mail,
            mail_from,
            cors_origins,
            cors_loopback,
            asap_dispatch,
            asap_fanout,
            keys_secret_arn,
            keys_secrets,
            video_base_url,
            log_level,
            metrics_namespace,
            audit_retention_days,
            self_registration,
            time_zone,
        })
    }

    /// The issuer exactly as published in discovery and `iss` claims (no trailing slash).
    pub fn issuer_str(&self) -> &str {
        self.issuer.as_str().trim_end_matches('/')
    }
}

fn parse_store(value: &str) -> Result<StoreConfig, ConfigError> {
    let bad = || {
        ConfigError::new(
            "PORTAL_STORE",
            format!("expected `sqlite:PATH` or `dynamodb:TABLE`, got `{value}`"),
        )
    };
    let (kind, rest) = value.split_once(':').ok_or_else(bad)?;
    match kind {
        "sqlite" if !rest.is_empty() => Ok(StoreConfig::Sqlite { path: rest.into() }),
        "dynamodb" => {
            let valid = (3..=255).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
            if valid {
                Ok(StoreConfig::Dynamo {
                    table: rest.to_owned(),
                })
            } else {
                Err(ConfigError::new(
                    "PORTAL_STORE",
                    format!(
                        "`{rest}` is not a valid DynamoDB table name (3-255 of a-z A-Z 0-9 _ - .)"
                    ),
                ))
            }
        }
        _ => Err(bad()),
    }
}

/// An SES configuration set name: 1 to 64 ASCII letters, digits, `_` or `-` (SES's own rule);
/// empty means none.
fn configuration_set(value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(name) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(ConfigError::new(
            "PORTAL_SES_CONFIGURATION_SET",
            format!("`{name}` is not an SES configuration set name (1 to 64 letters, digits, `_` or `-`)"),
        ));
    }
    Ok(Some(name))
}

/// Public URLs (the issuer, the video service) are https without query or fragment; plain http is
/// allowed only on loopback (local runs).
fn parse_web_url(variable: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value)
        .map_err(|e| ConfigError::new(variable, format!("`{value}` is not a URL ({e})")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(ConfigError::new(
                variable,
                format!("`{value}` must use https (http is only allowed on loopback)"),
            ))
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            variable,
            format!("`{value}` must not have a query or fragment"),
        ));
    }
    Ok(url)
}

/// A Secrets Manager secret: an ARN `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`, or
/// a secret name (1-512 of letters, digits and `/_+=.@-`), as `GetSecretValue` accepts.
fn parse_secret_arn(variable: &'static str, value: &str) -> Result<String, ConfigError> {
    let name_ok = |name: &str| {
        (1..=512).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b))
    };
    let valid = match value.strip_prefix("arn:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.splitn(6, ':').collect();
            matches!(
                parts.as_slice(),
                [partition, "secretsmanager", region, account, "secret", name]
                    if !partition.is_empty()
                        && !region.is_empty()
                        && account.len() == 12
                        && account.bytes().all(|b| b.is_ascii_digit())
                        && name_ok(name)
            )
        }
        None => name_ok(value),
    };
    if valid {
        Ok(value.to_owned())
    } else {
        Err(ConfigError::new(
            variable,
            format!(
                "`{value}` is not a Secrets Manager secret ARN \
                 (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) or secret name"
            ),
        ))
    }
}

/// `admin=ARN,authorize=ARN,...`: exactly one secret for each of [`KEY_DOCUMENTS`].
fn parse_key_secrets(value: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (name, arn) = item.split_once('=').ok_or_else(|| {
            ConfigError::new(
                KEYS_SECRETS_VAR,
                format!("`{item}` is not NAME=SECRET (the stack's KeySecrets output)"),
            )
        })?;
        let name = name.trim();
        if !KEY_DOCUMENTS.contains(&name) {
            return Err(ConfigError::new(
                KEYS_SECRETS_VAR,
                format!("`{name}` is not one of {}", KEY_DOCUMENTS.join(", ")),
            ));
        }
        if pairs.iter().any(|(n, _)| n == name) {
            return Err(ConfigError::new(
                KEYS_SECRETS_VAR,
                format!("`{name}` is named twice"),
            ));
        }
        pairs.push((
            name.to_owned(),
            parse_secret_arn(KEYS_SECRETS_VAR, arn.trim())?,
        ));
    }
    let missing: Vec<&str> = KEY_DOCUMENTS
        .iter()
        .copied()
        .filter(|name| pairs.iter().all(|(n, _)| n != name))
        .collect();
    if !missing.is_empty() {
        return Err(ConfigError::new(
            KEYS_SECRETS_VAR,
            format!("no secret for {}", missing.join(", ")),
        ));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn with_nothing_set_everything_is_local() {
        let c = config(&[]).unwrap();
        assert_eq!(
            c.store,
            StoreConfig::Sqlite {
                path: PathBuf::from(".data/portal.db")
            }
        );
        assert_eq!(c.issuer_str(), "http://127.0.0.1:9000");
        assert_eq!(c.api_audience, "http://127.0.0.1:9000/api/portal/v1");
        assert_eq!(
            c.mail,
            MailConfig::Outbox {
                dir: PathBuf::from(".data/outbox")
            }
        );
    }

    #[test]
    fn a_dynamodb_store_names_its_table() {
        let c = config(&[("PORTAL_STORE", "dynamodb:portal-prod")]).unwrap();
        assert_eq!(
            c.store,
            StoreConfig::Dynamo {
                table: "portal-prod".into()
            }
        );
    }

    #[test]
    fn a_bad_store_value_names_the_variable_and_the_expected_forms() {
        for bad in [
            "postgres:x",
            "sqlite:",
            "dynamodb:a",
            "dynamodb:bad name!",
            "nonsense",
        ] {
            let err = config(&[("PORTAL_STORE", bad)]).unwrap_err();
            assert_eq!(err.variable, "PORTAL_STORE", "{bad}");
            let line = err.to_string();
            assert!(
                line.contains("PORTAL_STORE") && !line.contains('\n'),
                "{line}"
            );
        }
    }

    #[test]
    fn an_http_issuer_is_refused_unless_it_is_loopback() {
        assert_eq!(
            config(&[("PORTAL_ISSUER", "http://portal.example")])
                .unwrap_err()
                .variable,
            "PORTAL_ISSUER"
        );
        assert!(config(&[("PORTAL_ISSUER", "http://localhost:9000")]).is_ok());
        assert!(config(&[("PORTAL_ISSUER", "https://portal.example")]).is_ok());
        assert!(config(&[("PORTAL_ISSUER", "https://portal.example/?x=1")]).is_err());
    }

    #[test]
    fn the_api_audience_follows_a_custom_issuer() {
        let c = config(&[("PORTAL_ISSUER", "https://id.example/")]).unwrap();
        assert_eq!(c.issuer_str(), "https://id.example");
        assert_eq!(c.api_audience, "https://id.example/api/portal/v1");
    }

    #[test]
    fn mail_and_endpoint_values_are_checked() {
        assert_eq!(
            config(&[("PORTAL_MAIL", "smtp")]).unwrap_err().variable,
            "PORTAL_MAIL"
        );
        assert_eq!(
            config(&[("PORTAL_MAIL", "ses")]).unwrap().mail,
            MailConfig::Ses {
                configuration_set: None
            }
        );
        assert_eq!(
            config(&[
                ("PORTAL_MAIL", "ses"),
                ("PORTAL_SES_CONFIGURATION_SET", "portal-prod-mail")
            ])
            .unwrap()
            .mail,
            MailConfig::Ses {
                configuration_set: Some("portal-prod-mail".into())
            }
        );
        for bad in ["with space", "a.b", &"x".repeat(65)] {
            let err = config(&[
                ("PORTAL_MAIL", "ses"),
                ("PORTAL_SES_CONFIGURATION_SET", bad),
            ])
            .unwrap_err();
            assert_eq!(err.variable, "PORTAL_SES_CONFIGURATION_SET", "{bad}");
        }
        assert_eq!(
            config(&[("PORTAL_AWS_ENDPOINT", "not a url")])
                .unwrap_err()
                .variable,
            "PORTAL_AWS_ENDPOINT"
        );
        assert_eq!(
            config(&[("PORTAL_CORS_ORIGINS", "https://app.example, nope")])
                .unwrap_err()
                .variable,
            "PORTAL_CORS_ORIGINS"
        );
    }

    #[test]
    fn the_keys_secret_is_an_arn_or_a_name() {
        assert_eq!(config(&[]).unwrap().keys_secret_arn, None);
        for ok in [
            "arn:aws:secretsmanager:eu-central-1:123456789012:secret:portal-keys-AbCdEf",
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b_c+d=e.f@g-h",
            "portal/keys",
        ] {
            let c = config(&[("PORTAL_KEYS_SECRET_ARN", &format!(" {ok} "))]).unwrap();
            assert_eq!(c.keys_secret_arn.as_deref(), Some(ok));
        }
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:secretsmanager:eu-central-1:123:secret:k",
            "arn:aws:secretsmanager:eu-central-1:123456789012:secret:",
            "arn:aws:secretsmanager::123456789012:secret:k",
            "keys with spaces",
            "$(whoami)",
        ] {
            let err = config(&[("PORTAL_KEYS_SECRET_ARN", bad)]).unwrap_err();
            assert_eq!(err.variable, "PORTAL_KEYS_SECRET_ARN", "{bad}");
            assert!(err.to_string().contains("secret ARN"), "{err}");
        }
    }

    #[test]
    fn the_admins_key_secrets_name_every_document_once() {
        assert_eq!(config(&[]).unwrap().keys_secrets, None);
        let arn =
            |name: &str| format!("arn:aws:secretsmanager:eu-central-1:123456789012:secret:{name}");
        let all: Vec<String> = KEY_DOCUMENTS
            .iter()
            .map(|name| format!("{name}={}", arn(name)))
            .collect();
        let c = config(&[(KEYS_SECRETS_VAR, &all.join(", "))]).unwrap();
        let pairs = c.keys_secrets.unwrap();
        assert_eq!(pairs.len(), KEY_DOCUMENTS.len());
        assert_eq!(pairs[2], ("token".to_owned(), arn("token")));
        for (bad, expected) in [
            (all[1..].join(","), "no secret for admin"),
            (format!("{},{}", all.join(","), all[0]), "named twice"),
            (
                format!("{},billing={}", all.join(","), arn("b")),
                "`billing` is not one of",
            ),
            (all.join(",").replace('=', " "), "is not NAME=SECRET"),
            (
                all.join(",").replace("secret:token", "s3:token"),
                "secret ARN",
            ),
        ] {
            let err = config(&[(KEYS_SECRETS_VAR, &bad)]).unwrap_err();
            assert_eq!(err.variable, KEYS_SECRETS_VAR);
            assert!(err.to_string().contains(expected), "{expected}: {err}");
        }
    }

    #[test]
    fn the_video_base_url_is_https_or_loopback_without_query() {
        assert_eq!(
            config(&[]).unwrap().video_base_url.as_str(),
            DEFAULT_VIDEO_BASE_URL
        );
        let local = config(&[("PORTAL_VIDEO_BASE_URL", "http://127.0.0.1:8080/join")]).unwrap();
        assert_eq!(local.video_base_url.as_str(), "http://127.0.0.1:8080/join");
        for bad in [
            "http://video.example/join",
            "https://video.example/join?x=1",
            "https://video.example/join#room",
            "not a url",
        ] {
            let err = config(&[("PORTAL_VIDEO_BASE_URL", bad)]).unwrap_err();
            assert_eq!(err.variable, "PORTAL_VIDEO_BASE_URL", "{bad}");
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn the_log_level_is_checked_and_falls_back_to_rust_log() {
        assert_eq!(config(&[]).unwrap().log_level, LogLevel::default());
        let debug = config(&[("PORTAL_LOG_LEVEL", "debug"), ("RUST_LOG", "trace")]).unwrap();
        assert_eq!(debug.log_level.as_str(), "debug");
        let fallback = config(&[("RUST_LOG", "trace")]).unwrap();
        assert_eq!(fallback.log_level.as_str(), "trace");
        assert_eq!(
            config(&[("PORTAL_LOG_LEVEL", "verbose")])
                .unwrap_err()
                .variable,
            "PORTAL_LOG_LEVEL"
        );
        assert_eq!(
            config(&[("RUST_LOG", "info,h2=loud")])
                .unwrap_err()
                .variable,
            "RUST_LOG"
        );
    }

    #[test]
    fn asap_dispatch_follows_the_store_unless_set() {
        assert_eq!(config(&[]).unwrap().asap_dispatch, AsapDispatch::Inline);
        let dynamo = config(&[("PORTAL_STORE", "dynamodb:portal")]).unwrap();
        assert_eq!(dynamo.asap_dispatch, AsapDispatch::Stream);
        let forced = config(&[
            ("PORTAL_STORE", "dynamodb:portal"),
            ("PORTAL_ASAP_DISPATCH", "inline"),
        ])
        .unwrap();
        assert_eq!(forced.asap_dispatch, AsapDispatch::Inline);
        assert_eq!(
            config(&[("PORTAL_ASAP_DISPATCH", "sqs")])
                .unwrap_err()
                .variable,
            "PORTAL_ASAP_DISPATCH"
        );
        assert_eq!(config(&[]).unwrap().asap_fanout, DEFAULT_ASAP_FANOUT);
        assert_eq!(
            config(&[("PORTAL_ASAP_FANOUT", "3")]).unwrap().asap_fanout,
            3
        );
        for bad in ["0", "-1", "many", "1001"] {
            assert_eq!(
                config(&[("PORTAL_ASAP_FANOUT", bad)]).unwrap_err().variable,
                "PORTAL_ASAP_FANOUT"
            );
        }
    }

    #[test]
    fn audit_retention_defaults_to_a_year_and_is_validated() {
        assert_eq!(config(&[]).unwrap().audit_retention_days, 365);
        assert_eq!(
            config(&[("PORTAL_AUDIT_RETENTION_DAYS", " 30 ")])
                .unwrap()
                .audit_retention_days,
            30
        );
        for bad in ["0", "-5", "a year", "3651", "1.5"] {
            let error = config(&[("PORTAL_AUDIT_RETENTION_DAYS", bad)]).unwrap_err();
            assert_eq!(error.variable, "PORTAL_AUDIT_RETENTION_DAYS", "{bad}");
            assert!(error.to_string().contains(bad), "{error}");
        }
    }

    #[test]
    fn the_time_zone_defaults_to_berlin_and_is_validated() {
        assert_eq!(config(&[]).unwrap().time_zone, chrono_tz::Europe::Berlin);
        assert_eq!(
            config(&[("PORTAL_TIME_ZONE", " Europe/Vienna ")])
                .unwrap()
                .time_zone,
            chrono_tz::Europe::Vienna
        );
        for bad in ["Berlin", "Europe/Atlantis", "+01:00"] {
            let error = config(&[("PORTAL_TIME_ZONE", bad)]).unwrap_err();
            assert_eq!(error.variable, "PORTAL_TIME_ZONE", "{bad}");
            assert!(error.to_string().contains("IANA"), "{error}");
        }
    }

    #[test]
    fn self_registration_is_on_unless_turned_off_and_anything_else_is_refused() {
        assert!(config(&[]).unwrap().self_registration);
        assert!(
            config(&[("PORTAL_SELF_REGISTRATION", "on")])
                .unwrap()
                .self_registration
        );
        assert!(
            !config(&[("PORTAL_SELF_REGISTRATION", "off")])
                .unwrap()
                .self_registration
        );
        let error = config(&[("PORTAL_SELF_REGISTRATION", "no")]).unwrap_err();
        assert_eq!(error.variable, "PORTAL_SELF_REGISTRATION");
    }

    #[test]
    fn the_metrics_namespace_defaults_and_is_validated() {
        assert_eq!(config(&[]).unwrap().metrics_namespace, "MyPatientPortal");
        assert_eq!(
            config(&[("PORTAL_METRICS_NAMESPACE", "MyPatientPortal/prod")])
                .unwrap()
                .metrics_namespace,
            "MyPatientPortal/prod"
        );
        for bad in ["AWS/Lambda", "spaces are out", "ü"] {
            let error = config(&[("PORTAL_METRICS_NAMESPACE", bad)]).unwrap_err();
            assert_eq!(error.variable, "PORTAL_METRICS_NAMESPACE", "{bad}");
        }
    }
}
