//! How long things live, and so how long keys must be known before use and kept after it.

/// Lifetime of access tokens and id_tokens (5 minutes).
pub const SIGNED_TOKEN_TTL_SECS: i64 = 5 * 60;

/// Lifetime of a refresh token (30 days): the longest-lived OAuth value.
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 60 * 60;

/// How far ahead an appointment can be booked at most (a catalog's `horizon_days` is at most 366),
/// plus the day of the appointment: what an ETag or a mailed link tied to an appointment may need.
pub const APPOINTMENT_HORIZON_SECS: i64 = 367 * 24 * 60 * 60;

/// How long API Gateway's JWT authorizer may keep a JWKS it fetched (up to 2 hours, best effort).
pub const JWKS_CACHE_SECS: i64 = 2 * 60 * 60;

/// How old a function instance's copy of its key document may get: the first request after that
/// re-reads it (one storage call per instance every 15 minutes at most), so a warm instance never
/// signs or seals with a key retired for longer than this.
pub const KEYS_MAX_AGE_SECS: i64 = 15 * 60;

/// At most one reload per instance in this many seconds when tokens name keys it does not know
/// (anyone can send a made-up `kid`).
pub const UNKNOWN_KEY_RELOAD_INTERVAL_SECS: u64 = 60;

/// Clock differences between machines that a retention margin absorbs.
pub const CLOCK_SKEW_SECS: i64 = 5 * 60;

/// How long a key is published before anything signs or seals with it: API Gateway's JWT
/// authorizer may cache the JWKS for [`JWKS_CACHE_SECS`], `userinfo` instances serve the copy they
/// loaded for up to [`KEYS_MAX_AGE_SECS`], and HTTP caches keep the document for its `max-age`
/// (5 minutes). The minimum time between two rotations (2 h 20 min).
pub const PUBLICATION_DELAY_SECS: i64 = JWKS_CACHE_SECS + KEYS_MAX_AGE_SECS + 5 * 60;

/// How long a retired signing key stays published: a warm instance may sign with it until it
/// reloads its keys ([`KEYS_MAX_AGE_SECS`]) and the token lives [`SIGNED_TOKEN_TTL_SECS`] after
/// that; clock skew on top. Keys are only dropped by a rotation or `keys sync`, so in practice a
/// retired key stays published until the next rotation (at least [`PUBLICATION_DELAY_SECS`] later).
pub const SIGNING_RETENTION_SECS: i64 = KEYS_MAX_AGE_SECS + SIGNED_TOKEN_TTL_SECS + CLOCK_SKEW_SECS;
