//! What is measured and what it is measured against: one list the benchmarks and the report share,
//! so a row of the table and the criterion id behind it cannot drift apart.

/// Criterion group of the handler benchmarks.
pub const HANDLER_GROUP: &str = "handlers";
/// Criterion group of the signing benchmarks.
pub const SIGNING_GROUP: &str = "signing";

/// One handler operation of the table.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    /// Criterion benchmark id (inside [`HANDLER_GROUP`]) and key in `handlers.json`.
    pub id: &'static str,
    /// What the table calls it.
    pub label: &'static str,
    /// Storage round trips the design allows (README "Storage round trips").
    pub round_trips: u64,
    /// CPU per operation allowed, in microseconds (see [`CPU_TARGET_RATIONALE`]); for token
    /// operations on top of their RS256 signs (measured by the signing benchmark on the same machine).
    pub cpu_us: f64,
    /// A reference measurement that explains the others (no target).
    pub reference: bool,
}

/// Why the CPU targets are what they are (printed under the table).
pub const CPU_TARGET_RATIONALE: &str =
    "CPU targets: token operations 0.5 ms on top of their RS256 \
signs (the floor, measured above on this machine), booking writes and userinfo 0.5 ms, a 2-week \
search (~150 sealed ids) 1 ms, the bearer check 50 µs. A 256 MB Lambda gets about 1/7 of a vCPU, \
so 1 ms of CPU here is roughly 7 ms there.";

/// Every handler operation, in table order.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        id: "code_exchange",
        label: "code exchange (authorization_code + PKCE)",
        round_trips: 1,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "refresh",
        label: "refresh (rotation)",
        round_trips: 1,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "userinfo",
        label: "userinfo",
        round_trips: 1,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "userinfo_served",
        label: "userinfo as served (boot::invoke: + log line, + access record put)",
        round_trips: 2,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "appointment_read",
        label: "appointment read (GET /appointments/{id})",
        round_trips: 1,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "appointment_read_served",
        label: "appointment read as served (+ log line, + access record put)",
        round_trips: 2,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "bearer_check",
        label: "resource request auth (bearer check)",
        round_trips: 0,
        cpu_us: 50.0,
        reference: false,
    },
    Operation {
        id: "availability_search",
        label: "availability search (2 weeks, type 198)",
        round_trips: 1,
        cpu_us: 1000.0,
        reference: false,
    },
    Operation {
        id: "booking",
        label: "booking",
        round_trips: 1,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "reschedule",
        label: "reschedule (If-Match: the appointment's ETag)",
        round_trips: 1,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "cancel",
        label: "cancel (If-Match: the appointment's ETag)",
        round_trips: 1,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "reschedule_untagged",
        label: "reschedule without If-Match (reads the appointment first)",
        round_trips: 2,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "cancel_untagged",
        label: "cancel without If-Match (reads the appointment first)",
        round_trips: 2,
        cpu_us: 500.0,
        reference: false,
    },
    Operation {
        id: "store_transaction",
        label: "reference: one SQLite transaction (check + put) through the store",
        round_trips: 1,
        cpu_us: 0.0,
        reference: true,
    },
    Operation {
        id: "event_parse",
        label: "reference: parse a token request event (lambda_http)",
        round_trips: 0,
        cpu_us: 0.0,
        reference: true,
    },
];

/// One signing algorithm of the signing table. Every row signs and verifies a complete compact JWS
/// (header and claims JSON, base64url, signature) of the same access-token claims.
#[derive(Clone, Copy, Debug)]
pub struct SigningAlgorithm {
    /// What the table calls it.
    pub label: &'static str,
    /// Criterion id of its sign benchmark (inside [`SIGNING_GROUP`]).
    pub sign_id: &'static str,
    /// Criterion id of its verify benchmark.
    pub verify_id: &'static str,
    /// How it signs and verifies.
    pub how: &'static str,
}

/// The signing comparison, in table order.
pub const SIGNING: &[SigningAlgorithm] = &[
    SigningAlgorithm {
        label: "RS256 (ours)",
        sign_id: "rs256_sign",
        verify_id: "rs256_verify",
        how: "KeySet::sign_jwt (aws-lc-rs RsaKeyPair parsed once); shared::jwt::verify (jsonwebtoken decode, key parsed once)",
    },
    SigningAlgorithm {
        label: "RS256 via jsonwebtoken",
        sign_id: "rs256_jsonwebtoken_sign",
        verify_id: "rs256_raw_verify",
        how: "jsonwebtoken::encode (re-parses the key every call); verify: raw aws-lc-rs, like the rows below",
    },
    SigningAlgorithm {
        label: "ES256 (P-256)",
        sign_id: "es256_sign",
        verify_id: "es256_verify",
        how: "aws-lc-rs EcdsaKeyPair, ECDSA_P256_SHA256_FIXED; raw aws-lc-rs verify",
    },
    SigningAlgorithm {
        label: "EdDSA (Ed25519)",
        sign_id: "eddsa_sign",
        verify_id: "eddsa_verify",
        how: "aws-lc-rs Ed25519KeyPair; raw aws-lc-rs verify",
    },
];

/// Signing-group benchmark of parsing the token function's key document once per cold start.
pub const KEYSET_PARSE_ID: &str = "keyset_parse";

/// Signing-group benchmark: seal and open one availability id with AES-256-GCM-SIV (ours).
pub const SEAL_GCM_SIV_ID: &str = "seal_open_gcm_siv";

/// Signing-group benchmark: the same with plain AES-256-GCM, for comparison.
pub const SEAL_GCM_ID: &str = "seal_open_gcm";

/// The signing benchmark that is our signing floor (one RS256 sign of an access token).
pub const RS256_SIGN_ID: &str = "rs256_sign";

/// Cold-start target: init time in milliseconds (no network: SQLite store, local keys).
pub const INIT_TARGET_MS: f64 = 20.0;
/// Cold-start target: init at most this many times the [`MINIMAL_FUNCTION`]'s, in the same run.
pub const INIT_TARGET_RATIO: f64 = 3.0;
/// Cold-start target: peak RSS per function after its invocations.
pub const RSS_TARGET_KB: u64 = 16 * 1024;

/// The functions, as their binaries are named.
pub const FUNCTIONS: &[&str] = &["authorize", "token", "userinfo", "booking", "asap"];

/// The smallest `lambda_http` function (`bench/minimal`), built with the same profile: the
/// reference of [`INIT_TARGET_RATIO`]. The cold-start harness measures it like a function.
pub const MINIMAL_FUNCTION: &str = "minimal";
