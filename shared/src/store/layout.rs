//! The data model: every item family of the single table, and the one place its keys are built.
//!
//! Every other module gets its keys, key ranges and key checks from the constructors here, so the
//! layout can be read (and changed) in this one file. Ids come in as text because the store is the
//! bottom layer and knows no domain types: callers pass validated ids (`PatientId::as_str`, …).
//! Instants in sort keys are unix seconds as 12 zero-padded digits, so text order is time order.
//!
//! | Item | pk | sk | Main attributes | Written by | Read by | Expires |
//! |---|---|---|---|---|---|---|
//! | client | `CLIENT#{client_id}` | `CLIENT` | `name`, `kind`, `secret_hash`, `redirect_uris`, `post_logout_redirect_uris`, `allowed_scopes`, `created_at` | portal-admin | authorize, token (client check inside its transactions) | never |
//! | patient profile | `PATIENT#{patient_id}` | `PROFILE` | `email`, `email_verified`, `first_name`, `last_name`, `birth_date`, `phone`, `locale`, `created_at`; index `gsi1`: `PATIENTS` / `{email, lowercased}#{patient_id}` | portal-admin; authorize (registration, verification, profile, email change, language, deletion) | authorize (id token claims, account page), userinfo, asap (account address, mail language), portal-admin (`patient list`/`show`) | 7 days after registration while unverified (so an address someone else registered frees itself), never once verified |
//! | email index | `EMAIL#{email, ASCII lowercased}` | `EMAIL` | `patient_id`, `password_hash`, `email`, `email_verified` | portal-admin, authorize (registration, verification, reset, password and email change, deletion), with the profile in one transaction | authorize (login: one read) | as its profile |
//! | browser session | `SESSION#{sha256(session id)}` | `SESSION` | `patient_id`, `auth_time`, `amr`, `expires` | authorize (login, logout, sign out everywhere, reset, deletion) | authorize | at `expires` (12 h) |
//! | session list entry | `PATIENT#{patient_id}` | `SESSION#{sha256(session id)}` | `expires` | authorize, with its session in one transaction | authorize (ending every session of a patient: one query of the partition) | as its session |
//! | authenticator app (TOTP) | `PATIENT#{patient_id}` | `MFA#TOTP` | `secret` (base32, 160 bits), `created_at` | authorize (enrolment, with the recovery codes in one transaction; removal) | authorize (second-factor page, account page) | never; with the account |
//! | last accepted TOTP step | `PATIENT#{patient_id}` | `MFA#TOTP_STEP` | `step` | authorize (every accepted code: a write guarded by `step` below the new one) | the same guard | 3 steps (90 s) after the step |
//! | recovery code | `PATIENT#{patient_id}` | `MFA#RECOVERY#{sha256(code)}` | `created_at` | authorize (enrolment; a use deletes it, guarded by its existence) | authorize (account page: how many are left) | never; with the TOTP |
//! | passkey | `PATIENT#{patient_id}` | `MFA#PASSKEY#{sha256(credential id)}` | `name`, `credential` (webauthn-rs's passkey as JSON: credential id, public key, counter, flags), `counter`, `backup_eligible`, `backed_up`, `created_at`, `last_used_at` | authorize (added on the account page, guarded by its absence; every sign-in with it sets `counter`, guarded by the stored one still being the one the sign-in checked; removal) | authorize (passkey sign-in: one read by the assertion's user handle and credential id; account page) | never; with the account |
//! | passkey ceremony | `WEBAUTHN#{sha256(ceremony id)}` | `CEREMONY` | `kind` (`register`, `sign_in`), `state` (webauthn-rs's challenge state as JSON), `binding` (sha256 of the form's CSRF token), `patient_id` (registration) | authorize (the passkey pages, when they offer a challenge) | authorize (the answer: a delete guarded by its existence, so a challenge is answered once) | after 5 minutes |
//! | consent | `CONSENT#{patient_id}` | `CLIENT#{client_id}` | `scope_{name}` = true per allowed scope, `updated_at`; after "remove access" no scopes, `revoked_at` and `revoked_at_ms` (milliseconds: an app removed and approved again within a second works) | authorize (consent page, account page) | authorize, token (`revoked_at_ms`, or `revoked_at` for tokens sealed without milliseconds, guards code exchange and refresh) | never; 31 days after the account is deleted |
//! | login attempts per account | `THROTTLE#ACCOUNT#{sha256(account)}` | `WINDOW#{n}` | `attempts` | authorize (login) | authorize | at the window's end (15 min) |
//! | login attempts per account and address | `THROTTLE#PAIR#{sha256(account)}#{address bucket}` | `WINDOW#{n}` | `attempts` | authorize (login) | authorize | at the window's end |
//! | login attempts per address | `THROTTLE#IP#{IPv4, IPv6 /64, or hash}` | `WINDOW#{n}` | `attempts` | authorize | authorize | at the window's end |
//! | account action counter | `LIMIT#{action}#{IP bucket, or sha256(address or patient id)}` | `WINDOW#{n}` | `count` | authorize (registration, verification mail, reset mail, email change) | authorize (the conditional add is the check) | at the window's end (1 h) |
//! | grant (refresh-token family) | `GRANT#{grant_id}` | `GRANT` | `client_id`, `patient_id`, `scopes`, `generation`, `revoked`, `auth_time`, `created_at`, `expires`, `rotated_at`; index `gsi1`: `GRANTS#{patient_id}` / `{client_id}#{grant_id}` | token (code exchange, refresh, revocation), authorize (replayed code; account page: remove access, deletion) | token (introspection), authorize (connected apps) | at `expires` |
//! | revoked access token | `REVOKED#{jti}` | `JTI` | `revoked_at` | token (revocation) | token (introspection) | when the token would have |
//! | catalog | `CATALOG` | `CURRENT` | `json`, `loaded_at`, `version` | portal-admin (catalog load) | booking, asap (cached per instance) | never |
//! | slot counter | `SLOTS#{type_id}` | `{start}` | `taken` | booking (book, reschedule, cancel) | booking (search), asap (notifier) | a week after the slot ends |
//! | appointment | `PATIENT#{patient_id}` | `APPT#{appointment_id}` | the booked snapshot (type, category, insurance, start, end, time zone, …), `status`, `revision`, ASAP fields; index `gsi1`: `APPTS#{patient_id}` / `{start}#{appointment_id}` | booking, asap (subscription fields) | booking, asap | never |
//! | booking limit | `PATIENT#{patient_id}` | `LIMIT#{type_id}` | `active` (count), `a_{appointment_id}` = start per counted upcoming appointment | booking (book, reschedule, cancel: in their transactions) | booking (a failed booking's condition returns it) | a year after its last write (past every entry) |
//! | idempotency record | `IDEMP#{patient_id}#{client_id}#{sha256(Idempotency-Key)}` | `IDEMP` | `body_hash`, `appointment_id` | booking (with the booking, one transaction) | booking (replay) | after 24 h |
//! | ASAP subscription | `ASAP#{type_id}` | `{start}#{appointment_id}` | `patient_id`, `appointment_id`, `subscription_id`, `since`, `insurance_id`, `starts_at`, `email` | booking and asap, with the appointment in one transaction | asap (notifier: one range query) | when the appointment starts |
//! | outbox record | `OUTBOX#{event_id}` | `EVENT` | `kind` (`slot_freed`, `capacity_added`), `type_id`, `starts_at`, `ends_at`, `freed_by`, `created_at`, `dispatched_at` | booking (reschedule, cancel), portal-admin (catalog load), in the change's transaction; asap (`dispatched_at`, once every email of the event is out) | asap (the table's stream, filtered on this prefix in `template.yaml`; inline locally) | after 7 days |
//! | ASAP delivery | `ASAPMAIL#{event_id}` | `APPT#{appointment_id}` | `status` (`sending`, `sent`, `no_recipient`, `rate_limited`, `suppressed`), `claimed_at`, `attempt` (the claiming attempt's random mark), `finished_at` | asap (claim, then mark) | asap | after the 15 min claim lease, or 30 days once final |
//! | mail rate counter per address | `MAILTO#{sha256(address, ASCII lowercased)}` | `CONFIRM#{day}` or `ASAP#{day}` | `sent` | booking, asap (in the transaction that claims a mail, guarded by the day's limit) | the same guard | 2 days after the day |
//! | "this wasn't me" block | `MAILTO#{sha256(address)}` | `NOT_ME` | `at` | asap (confirmation page) | booking, asap (guard of confirmation mails) | after 30 days |
//! | mail suppression | `MAILTO#{sha256(address)}` | `SUPPRESSED` | `reason` (`bounce`, `complaint`), `at` | asap (SES bounce and complaint notifications, through SNS) | booking, asap (guard of confirmation mails and notifications) | never |
//! | ASAP mail counter per subscription | `ASAPSUB#{subscription_id}` | `DAY#{day}` | `sent` | asap (with the delivery claim, guarded by the limit) | the same guard | 2 days after the day |
//! | access record (audit) | `AUDIT#{patient_id}` | `{at, unix ms, 13 digits}#{random id}` | `at`, `client_id`, `patient_id`, `route`, `resource`, `status_class`, `error`, `request_id` | booking and asap changes (in the change's transaction); reads and refusals of userinfo, booking, asap (one put before the answer) | portal-admin audit; `AuditLog::recent_access` (the account page) | after `PORTAL_AUDIT_RETENTION_DAYS` (365) |
//!
//! A patient's appointments and session list share the `PATIENT#{patient_id}` partition with their
//! profile, so another patient's appointment id is simply absent and deleting an account is one
//! (paginated) query of that partition. Queries on the `gsi1` index (eventually consistent when
//! deployed) serve lists for people only: a patient's appointments, their connected apps, and the
//! operators' patient list; what must not miss a moment-old item (ending every session, deleting
//! an account) queries table partitions instead.
//!
//! Access records sort by the millisecond (not the second, like every other instant here) so a
//! patient's record list reads in the order the requests were answered; the random suffix keeps
//! two records of the same millisecond apart.
//!
//! `docs/architecture.md` shows this table to readers of the repository; a test keeps its rows the
//! same as these.

use super::{Cursor, Key, Query};
use crate::crypto::sha256_b64url;

/// Partition prefix of outbox records: the stream's event filter in `template.yaml` passes only
/// inserts whose `pk` starts with it.
pub const OUTBOX_PREFIX: &str = "OUTBOX#";

/// Partition-key prefixes of every item the `authorize` function reads or writes (clients, patient
/// profiles and their email index, sessions, consents, login throttles, account action limits,
/// grants, which a password reset may revoke, and passkey ceremonies). Its IAM role is limited to them with
/// `dynamodb:LeadingKeys`; the template parity test checks the two agree.
pub const AUTHORIZE_KEY_PREFIXES: [&str; 9] = [
    "CLIENT#",
    "PATIENT#",
    "EMAIL#",
    "SESSION#",
    "CONSENT#",
    "THROTTLE#",
    "LIMIT#",
    "GRANT#",
    "WEBAUTHN#",
];

/// `gsi1` partition prefixes the `authorize` function queries: a patient's grants.
pub const AUTHORIZE_INDEX_PREFIXES: [&str; 1] = ["GRANTS#"];

/// Partition-key prefixes of the further items the account page (in `authorize`) changes when it
/// deletes an account and cancels its appointments: slot counters, ASAP subscriptions, the outbox
/// record of the freed slot, and the catalog it reads. Its IAM role grants item access to them
/// beside [`AUTHORIZE_KEY_PREFIXES`]; the template parity test checks the two agree.
pub const ACCOUNT_ITEM_PREFIXES: [&str; 4] = ["SLOTS#", "ASAP#", "OUTBOX#", "CATALOG"];

/// Partition-key prefixes the account page (in `authorize`) queries on the table beside
/// [`AUTHORIZE_KEY_PREFIXES`]: the patient's access records ("recent access by apps").
pub const ACCOUNT_QUERY_PREFIXES: [&str; 1] = ["AUDIT#"];

/// `gsi1` partition prefixes the account page queries beside [`AUTHORIZE_INDEX_PREFIXES`]: the
/// patient's appointments (cancelled when the account is deleted).
pub const ACCOUNT_INDEX_PREFIXES: [&str; 1] = ["APPTS#"];

/// Partition-key prefixes of every item the `token` function reads or writes (clients, grants, revoked
/// access tokens, and the consents its code exchange and refresh transactions check): its IAM role
/// is limited to them with `dynamodb:LeadingKeys`. The template parity test checks the template
/// against this list, and a token handler test checks every partition a full token life (exchange,
/// refresh, reuse, introspection, revocation) touches against it.
pub const TOKEN_KEY_PREFIXES: [&str; 4] = ["CLIENT#", "GRANT#", "REVOKED#", "CONSENT#"];

/// Partition-key prefixes of every item the `booking` function reads, writes or queries: the
/// catalog, slot counters, the patient partition (appointments, booking limits), idempotency
/// records, ASAP subscriptions, outbox records, mail counters and blocks, access records, and the
/// client a confirmation mail names. Its IAM role is limited to them with `dynamodb:LeadingKeys`;
/// the template parity test checks the two agree, and a booking handler test that every partition
/// a booking life touches is among them.
pub const BOOKING_KEY_PREFIXES: [&str; 9] = [
    "CATALOG", "SLOTS#", "PATIENT#", "IDEMP#", "ASAP#", "OUTBOX#", "MAILTO#", "AUDIT#", "CLIENT#",
];

/// `gsi1` partition prefixes the `booking` function queries: a patient's appointments.
pub const BOOKING_INDEX_PREFIXES: [&str; 1] = ["APPTS#"];

/// Partition-key prefixes of every item the `asap` function reads, writes or queries (the list's
/// endpoints, its confirmation and unsubscribe pages, the notifier): the catalog, slot counters,
/// the patient partition (profile, appointments), subscriptions, outbox records, deliveries, mail
/// counters and blocks, per-subscription counters, access records, and the client a confirmation
/// mail names. It queries no index. Its IAM role is limited to them with `dynamodb:LeadingKeys`;
/// the template parity test checks the two agree.
pub const ASAP_KEY_PREFIXES: [&str; 10] = [
    "CATALOG",
    "SLOTS#",
    "PATIENT#",
    "ASAP#",
    "OUTBOX#",
    "ASAPMAIL#",
    "ASAPSUB#",
    "MAILTO#",
    "AUDIT#",
    "CLIENT#",
];

/// Partition-key prefixes the `userinfo` function reads (patient profiles; it puts nothing but
/// access records under `AUDIT#`). Its IAM role's reads are limited to them with
/// `dynamodb:LeadingKeys`; the template parity test checks the two agree.
pub const USERINFO_KEY_PREFIXES: [&str; 1] = ["PATIENT#"];

/// Highest sort key an instant-ordered family can hold (above every `{start}#{id}`).
const END_OF_TIME: &str = "999999999999~";

/// An instant as a sort key: 12 zero-padded digits (negative instants count as 0).
fn instant(unix: i64) -> String {
    format!("{:012}", unix.max(0))
}

/// A registered OAuth client.
pub fn client(client_id: &str) -> Key {
    Key::new(format!("CLIENT#{client_id}"), "CLIENT")
}

/// A patient's profile.
pub fn patient_profile(patient_id: &str) -> Key {
    Key::new(format!("PATIENT#{patient_id}"), "PROFILE")
}

/// The email index entry of an address, by its lookup form (`Email::lookup_key`).
pub fn email_index(lookup_key: &str) -> Key {
    Key::new(format!("EMAIL#{lookup_key}"), "EMAIL")
}

/// A browser session, by the raw session id from its cookie: only the id's hash is ever stored.
pub fn session(raw_session_id: &str) -> Key {
    session_by_public_id(&session_public_id(raw_session_id))
}

/// The public id of a browser session (the id_token's `sid`): the SHA-256 of the raw id, which
/// proves nothing to whoever learns it (it cannot be turned back into the cookie).
pub fn session_public_id(raw_session_id: &str) -> String {
    sha256_b64url(raw_session_id.as_bytes())
}

/// A browser session, by its public id (logout by an id_token's `sid`).
pub fn session_by_public_id(public_id: &str) -> Key {
    Key::new(format!("SESSION#{public_id}"), "SESSION")
}

const SESSION_ENTRY_PREFIX: &str = "SESSION#";

/// The entry of a session in its patient's session list, by the session's public id.
pub fn session_entry(patient_id: &str, public_id: &str) -> Key {
    Key::new(
        format!("PATIENT#{patient_id}"),
        format!("{SESSION_ENTRY_PREFIX}{public_id}"),
    )
}

/// A patient's session list (table partition: strongly consistent).
pub fn session_entries(patient_id: &str, limit: u32) -> Query {
    Query::partition(format!("PATIENT#{patient_id}"), limit).prefix(SESSION_ENTRY_PREFIX)
}

/// The session hash a session list entry names (`None` for any other key).
pub fn session_public_id_of_entry(key: &Key) -> Option<&str> {
    key.sk
        .strip_prefix(SESSION_ENTRY_PREFIX)
        .filter(|hash| !hash.is_empty())
}

const TOTP_SK: &str = "MFA#TOTP";
const TOTP_STEP_SK: &str = "MFA#TOTP_STEP";
const RECOVERY_PREFIX: &str = "MFA#RECOVERY#";

/// A patient's authenticator app (TOTP): its secret, once confirmed.
pub fn totp(patient_id: &str) -> Key {
    Key::new(format!("PATIENT#{patient_id}"), TOTP_SK)
}

/// The last TOTP time step a patient's code was accepted for: raised with a conditional write so
/// each step is accepted once.
pub fn totp_step(patient_id: &str) -> Key {
    Key::new(format!("PATIENT#{patient_id}"), TOTP_STEP_SK)
}

/// One unused recovery code of a patient, by the SHA-256 of the code.
pub fn recovery_code(patient_id: &str, code_hash: &str) -> Key {
    Key::new(
        format!("PATIENT#{patient_id}"),
        format!("{RECOVERY_PREFIX}{code_hash}"),
    )
}

/// A patient's unused recovery codes (table partition: strongly consistent).
pub fn recovery_codes(patient_id: &str, limit: u32) -> Query {
    Query::partition(format!("PATIENT#{patient_id}"), limit).prefix(RECOVERY_PREFIX)
}

const PASSKEY_PREFIX: &str = "MFA#PASSKEY#";

/// One passkey of a patient, by the SHA-256 of its credential id (credential ids may be up to
/// 1023 bytes, more than a sort key should carry).
pub fn passkey(patient_id: &str, credential_hash: &str) -> Key {
    Key::new(
        format!("PATIENT#{patient_id}"),
        format!("{PASSKEY_PREFIX}{credential_hash}"),
    )
}

/// A patient's passkeys (table partition: strongly consistent).
pub fn passkeys(patient_id: &str, limit: u32) -> Query {
    Query::partition(format!("PATIENT#{patient_id}"), limit).prefix(PASSKEY_PREFIX)
}

/// The challenge state of a passkey ceremony (registration or sign-in) between the page that
/// offers the challenge and the answer, by the SHA-256 of its random id.
pub fn ceremony(ceremony_id: &str) -> Key {
    Key::new(
        format!("WEBAUTHN#{}", sha256_b64url(ceremony_id.as_bytes())),
        "CEREMONY",
    )
}

/// Every item of a patient's partition: profile, appointments, session list (account deletion).
pub fn patient_partition(patient_id: &str, limit: u32) -> Query {
    Query::partition(format!("PATIENT#{patient_id}"), limit)
}

const PATIENTS_INDEX: &str = "PATIENTS";

/// The `gsi1` key of a patient profile: every patient in one index partition, by address.
pub fn patient_by_email(lookup_key: &str, patient_id: &str) -> Key {
    Key::new(PATIENTS_INDEX, format!("{lookup_key}#{patient_id}"))
}

/// Every patient, by address (on `gsi1`; for operators).
pub fn patients_by_email(limit: u32) -> Query {
    Query::partition(PATIENTS_INDEX, limit).on_index()
}

/// What a patient allowed a client.
pub fn consent(patient_id: &str, client_id: &str) -> Key {
    Key::new(
        consents_partition(patient_id),
        format!("CLIENT#{client_id}"),
    )
}

fn consents_partition(patient_id: &str) -> String {
    format!("CONSENT#{patient_id}")
}

/// Every consent of a patient (table partition).
pub fn consents_of(patient_id: &str, limit: u32) -> Query {
    Query::partition(consents_partition(patient_id), limit).prefix("CLIENT#")
}

/// The client id a consent's key names (`None` for any other key).
pub fn consent_client(key: &Key) -> Option<&str> {
    key.sk.strip_prefix("CLIENT#").filter(|id| !id.is_empty())
}

/// The counter of one account action (`action`: `register-ip`, `reset-address`, …) for one
/// subject in window `n`. `subject` is an IP bucket or already hashed.
pub fn action_counter(action: &str, subject: &str, window: i64) -> Key {
    Key::new(
        format!("LIMIT#{action}#{subject}"),
        format!("WINDOW#{window}"),
    )
}

/// Password checks of an account in window `n`; the account is hashed so no address appears in keys.
pub fn account_failures(account: &str, window: i64) -> Key {
    Key::new(
        format!("THROTTLE#ACCOUNT#{}", sha256_b64url(account.as_bytes())),
        format!("WINDOW#{window}"),
    )
}

/// Password checks of an account from one client address bucket in window `n` (the tight limit).
pub fn pair_attempts(account: &str, bucket: &str, window: i64) -> Key {
    Key::new(
        format!(
            "THROTTLE#PAIR#{}#{bucket}",
            sha256_b64url(account.as_bytes())
        ),
        format!("WINDOW#{window}"),
    )
}

/// Password checks from a client address bucket in window `n`.
pub fn address_failures(bucket: &str, window: i64) -> Key {
    Key::new(format!("THROTTLE#IP#{bucket}"), format!("WINDOW#{window}"))
}

/// A grant (refresh-token family).
pub fn grant(grant_id: &str) -> Key {
    Key::new(format!("GRANT#{grant_id}"), "GRANT")
}

fn grants_index_partition(patient_id: &str) -> String {
    format!("GRANTS#{patient_id}")
}

/// The `gsi1` key of a grant: a patient's grants, by client.
pub fn grant_by_patient(patient_id: &str, client_id: &str, grant_id: &str) -> Key {
    Key::new(
        grants_index_partition(patient_id),
        format!("{client_id}#{grant_id}"),
    )
}

/// A patient's grants (on `gsi1`), all of them or, with `client_id`, that client's.
pub fn grants_of(patient_id: &str, client_id: Option<&str>, limit: u32) -> Query {
    let query = Query::partition(grants_index_partition(patient_id), limit).on_index();
    match client_id {
        Some(client_id) => query.prefix(format!("{client_id}#")),
        None => query,
    }
}

/// A revoked access token, by its `jti`.
pub fn revoked_access_token(jti: &str) -> Key {
    Key::new(format!("REVOKED#{jti}"), "JTI")
}

/// The current catalog.
pub fn catalog() -> Key {
    Key::new("CATALOG", "CURRENT")
}

/// The counter of taken places of one slot of a type.
pub fn slot_counter(type_id: i64, start: i64) -> Key {
    Key::new(slot_counters_partition(type_id), instant(start))
}

fn slot_counters_partition(type_id: i64) -> String {
    format!("SLOTS#{type_id}")
}

/// The slot counters of a type whose slot starts in `[from, to)`, in start order (`to > from`).
pub fn slot_counters(type_id: i64, from: i64, to: i64, limit: u32) -> Query {
    Query::partition(slot_counters_partition(type_id), limit)
        .between(instant(from), instant(to - 1))
}

/// The slot start a slot counter's key names.
pub fn slot_counter_start(key: &Key) -> Option<i64> {
    key.sk.parse().ok()
}

/// A patient's appointment.
pub fn appointment(patient_id: &str, appointment_id: &str) -> Key {
    Key::new(
        format!("PATIENT#{patient_id}"),
        format!("APPT#{appointment_id}"),
    )
}

fn appointments_index_partition(patient_id: &str) -> String {
    format!("APPTS#{patient_id}")
}

/// The `gsi1` key of an appointment: the patient's appointments ordered by start.
pub fn appointment_by_start(patient_id: &str, starts_at: i64, appointment_id: &str) -> Key {
    Key::new(
        appointments_index_partition(patient_id),
        format!("{}#{appointment_id}", instant(starts_at)),
    )
}

/// The patient's appointments, latest start first (on `gsi1`).
pub fn appointments_latest_first(patient_id: &str, limit: u32) -> Query {
    Query::partition(appointments_index_partition(patient_id), limit)
        .on_index()
        .descending()
}

/// Whether `cursor` can only have come from a page of [`appointments_latest_first`] of this
/// patient (a cursor is client input: one pointing anywhere else is refused).
pub fn is_appointment_cursor_of(cursor: &Cursor, patient_id: &str) -> bool {
    cursor.key.pk == format!("PATIENT#{patient_id}")
        && cursor.key.sk.starts_with("APPT#")
        && cursor
            .gsi1
            .as_ref()
            .is_some_and(|k| k.pk == appointments_index_partition(patient_id))
}

/// The counter of a patient's upcoming appointments of a type (the booking limit).
pub fn booking_limit(patient_id: &str, type_id: i64) -> Key {
    Key::new(format!("PATIENT#{patient_id}"), format!("LIMIT#{type_id}"))
}

/// The idempotency record of an `Idempotency-Key` one client sent for one patient (the key is
/// hashed: it is client text). Scoped to both, so two apps of a patient never share a key.
pub fn idempotency(patient_id: &str, client_id: &str, idempotency_key: &str) -> Key {
    Key::new(
        format!(
            "IDEMP#{patient_id}#{client_id}#{}",
            sha256_b64url(idempotency_key.as_bytes())
        ),
        "IDEMP",
    )
}

fn subscriptions_partition(type_id: i64) -> String {
    format!("ASAP#{type_id}")
}

/// The ASAP subscription index entry of an appointment of a type, at its current start.
pub fn subscription(type_id: i64, starts_at: i64, appointment_id: &str) -> Key {
    Key::new(
        subscriptions_partition(type_id),
        format!("{}#{appointment_id}", instant(starts_at)),
    )
}

/// The subscriptions of a type whose appointment starts after `instant`, earliest start first.
pub fn subscriptions_starting_after(type_id: i64, after: i64, limit: u32) -> Query {
    Query::partition(subscriptions_partition(type_id), limit)
        .between(instant(after.saturating_add(1)), END_OF_TIME)
}

/// An outbox record.
pub fn outbox_event(event_id: &str) -> Key {
    Key::new(format!("{OUTBOX_PREFIX}{event_id}"), "EVENT")
}

/// Whether the key is in the outbox family (what the stream filter passes).
pub fn is_outbox_event(key: &Key) -> bool {
    key.pk.starts_with(OUTBOX_PREFIX)
}

/// The event id of an outbox record's key (`None` for any other key).
pub fn outbox_event_id(key: &Key) -> Option<&str> {
    key.pk
        .strip_prefix(OUTBOX_PREFIX)
        .filter(|id| !id.is_empty())
}

/// The partition of everything kept about one mail address (hashed: addresses are personal
/// data, and case does not make another mailbox).
fn mail_to(address: &str) -> String {
    format!(
        "MAILTO#{}",
        sha256_b64url(address.to_ascii_lowercase().as_bytes())
    )
}

/// How many ASAP confirmation mails went to `address` on `day` (days since the epoch, UTC).
pub fn confirmation_mails(address: &str, day: i64) -> Key {
    Key::new(mail_to(address), format!("CONFIRM#{day}"))
}

/// How many ASAP notifications went to `address` on `day`.
pub fn notification_mails(address: &str, day: i64) -> Key {
    Key::new(mail_to(address), format!("ASAP#{day}"))
}

/// The owner of `address` said "this wasn't me": no confirmation mails for a while.
pub fn not_me(address: &str) -> Key {
    Key::new(mail_to(address), "NOT_ME")
}

/// `address` bounced permanently or its owner complained (SES): nothing more is mailed to it.
pub fn suppressed(address: &str) -> Key {
    Key::new(mail_to(address), "SUPPRESSED")
}

/// How many ASAP notifications one subscription caused on `day`.
pub fn subscription_mails(subscription_id: &str, day: i64) -> Key {
    Key::new(format!("ASAPSUB#{subscription_id}"), format!("DAY#{day}"))
}

/// The delivery record of one outbox event's email about one subscribed appointment.
pub fn delivery(event_id: &str, appointment_id: &str) -> Key {
    Key::new(
        format!("ASAPMAIL#{event_id}"),
        format!("APPT#{appointment_id}"),
    )
}

fn access_records_partition(patient_id: &str) -> String {
    format!("AUDIT#{patient_id}")
}

/// An access record (audit) of a patient, at `at_ms` (unix milliseconds), told apart from
/// others of the same millisecond by `unique` (a random id).
pub fn access_record(patient_id: &str, at_ms: i64, unique: &str) -> Key {
    Key::new(
        access_records_partition(patient_id),
        format!("{:013}#{unique}", at_ms.max(0)),
    )
}

/// A patient's access records from `since_ms` (unix milliseconds) on, newest first.
pub fn access_records_since(patient_id: &str, since_ms: i64, limit: u32) -> Query {
    Query::partition(access_records_partition(patient_id), limit)
        .between(format!("{:013}", since_ms.max(0)), "9999999999999~")
        .descending()
}

/// Which item family a key belongs to, with the ids its key names: the reading side of the
/// constructors above, for tools that walk a whole table (the invariant checks of the soak and
/// fault tests). Only the families those tools need are told apart; every other key is
/// [`Family::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family<'k> {
    /// [`catalog`].
    Catalog,
    /// [`slot_counter`]: the type and the slot start.
    SlotCounter {
        /// Appointment type.
        type_id: i64,
        /// Slot start, unix seconds.
        start: i64,
    },
    /// [`appointment`]: the patient and the appointment.
    Appointment {
        /// The patient id.
        patient_id: &'k str,
        /// The appointment id.
        appointment_id: &'k str,
    },
    /// [`booking_limit`]: the patient and the type.
    BookingLimit {
        /// The patient id.
        patient_id: &'k str,
        /// Appointment type.
        type_id: i64,
    },
    /// [`idempotency`].
    Idempotency,
    /// [`subscription`]: the type, the appointment's start and the appointment.
    Subscription {
        /// Appointment type.
        type_id: i64,
        /// The appointment's start, unix seconds.
        start: i64,
        /// The appointment id.
        appointment_id: &'k str,
    },
    /// [`outbox_event`].
    OutboxEvent {
        /// The event id.
        event_id: &'k str,
    },
    /// [`delivery`].
    Delivery {
        /// The outbox event.
        event_id: &'k str,
        /// The subscribed appointment.
        appointment_id: &'k str,
    },
    /// [`grant`].
    Grant {
        /// The grant id.
        grant_id: &'k str,
    },
    /// Any other item.
    Other,
}

/// The family of the item at `key` (see [`Family`]).
pub fn family(key: &Key) -> Family<'_> {
    let (pk, sk) = (key.pk.as_str(), key.sk.as_str());
    if key == &catalog() {
        Family::Catalog
    } else if let Some(type_id) = pk.strip_prefix("SLOTS#").and_then(|t| t.parse().ok()) {
        match sk.parse() {
            Ok(start) => Family::SlotCounter { type_id, start },
            Err(_) => Family::Other,
        }
    } else if let (Some(patient_id), Some(appointment_id)) =
        (pk.strip_prefix("PATIENT#"), sk.strip_prefix("APPT#"))
    {
        Family::Appointment {
            patient_id,
            appointment_id,
        }
    } else if let (Some(patient_id), Some(type_id)) = (
        pk.strip_prefix("PATIENT#"),
        sk.strip_prefix("LIMIT#").and_then(|t| t.parse().ok()),
    ) {
        Family::BookingLimit {
            patient_id,
            type_id,
        }
    } else if pk.starts_with("IDEMP#") && sk == "IDEMP" {
        Family::Idempotency
    } else if let Some(type_id) = pk.strip_prefix("ASAP#").and_then(|t| t.parse().ok()) {
        match sk
            .split_once('#')
            .and_then(|(start, id)| Some((start.parse().ok()?, id)))
        {
            Some((start, appointment_id)) => Family::Subscription {
                type_id,
                start,
                appointment_id,
            },
            None => Family::Other,
        }
    } else if let (Some(event_id), "EVENT") = (outbox_event_id(key), sk) {
        Family::OutboxEvent { event_id }
    } else if let (Some(event_id), Some(appointment_id)) =
        (pk.strip_prefix("ASAPMAIL#"), sk.strip_prefix("APPT#"))
    {
        Family::Delivery {
            event_id,
            appointment_id,
        }
    } else if let (Some(grant_id), "GRANT") = (pk.strip_prefix("GRANT#"), sk) {
        Family::Grant { grant_id }
    } else {
        Family::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_authorize_function_uses_has_one_of_its_prefixes() {
        let keys = [
            client("c"),
            patient_profile("p"),
            email_index("a@example.org"),
            session("raw"),
            session_by_public_id("public"),
            consent("p", "c"),
            account_failures("a@example.org", 1),
            address_failures("10.0.0.1", 1),
            pair_attempts("a@example.org", "10.0.0.1", 1),
            session_entry("p", "public"),
            action_counter("register-ip", "10.0.0.1", 1),
            grant("g"),
            passkey("p", "h"),
            ceremony("c"),
        ];
        for key in keys {
            assert!(
                AUTHORIZE_KEY_PREFIXES.iter().any(|p| key.pk.starts_with(p)),
                "{key:?}"
            );
        }
        assert!(!AUTHORIZE_KEY_PREFIXES
            .iter()
            .any(|p| revoked_access_token("j").pk.starts_with(p)));
        let grants = grants_of("p", None, 10);
        assert!(AUTHORIZE_INDEX_PREFIXES
            .iter()
            .any(|p| grants.pk.starts_with(p)));
    }

    #[test]
    fn every_key_the_token_function_uses_has_one_of_its_prefixes() {
        for key in [
            client("c"),
            grant("g"),
            revoked_access_token("j"),
            consent("p", "c"),
        ] {
            assert!(
                TOKEN_KEY_PREFIXES.iter().any(|p| key.pk.starts_with(p)),
                "{key:?}"
            );
        }
        for key in [patient_profile("p"), session("raw"), email_index("e")] {
            assert!(
                !TOKEN_KEY_PREFIXES.iter().any(|p| key.pk.starts_with(p)),
                "{key:?}"
            );
        }
    }

    use crate::store::{Index, SortKeyRange};

    #[test]
    fn keys_have_the_documented_shapes() {
        let cases = [
            (client("c1"), "CLIENT#c1", "CLIENT"),
            (patient_profile("p1"), "PATIENT#p1", "PROFILE"),
            (
                email_index("anna@example.org"),
                "EMAIL#anna@example.org",
                "EMAIL",
            ),
            (consent("p1", "c1"), "CONSENT#p1", "CLIENT#c1"),
            (
                address_failures("10.0.0.1", 7),
                "THROTTLE#IP#10.0.0.1",
                "WINDOW#7",
            ),
            (grant("g1"), "GRANT#g1", "GRANT"),
            (grant_by_patient("p1", "c1", "g1"), "GRANTS#p1", "c1#g1"),
            (session_entry("p1", "h1"), "PATIENT#p1", "SESSION#h1"),
            (session_by_public_id("h1"), "SESSION#h1", "SESSION"),
            (
                patient_by_email("anna@example.org", "p1"),
                "PATIENTS",
                "anna@example.org#p1",
            ),
            (
                action_counter("register-ip", "10.0.0.1", 3),
                "LIMIT#register-ip#10.0.0.1",
                "WINDOW#3",
            ),
            (revoked_access_token("j1"), "REVOKED#j1", "JTI"),
            (catalog(), "CATALOG", "CURRENT"),
            (
                slot_counter(198, 1_800_000_000),
                "SLOTS#198",
                "001800000000",
            ),
            (slot_counter(198, -5), "SLOTS#198", "000000000000"),
            (appointment("p1", "a1"), "PATIENT#p1", "APPT#a1"),
            (booking_limit("p1", 198), "PATIENT#p1", "LIMIT#198"),
            (
                appointment_by_start("p1", 42, "a1"),
                "APPTS#p1",
                "000000000042#a1",
            ),
            (subscription(198, 42, "a1"), "ASAP#198", "000000000042#a1"),
            (outbox_event("e1"), "OUTBOX#e1", "EVENT"),
            (delivery("e1", "a1"), "ASAPMAIL#e1", "APPT#a1"),
            (
                access_record("p1", 1_700_000_000_123, "r1"),
                "AUDIT#p1",
                "1700000000123#r1",
            ),
            (access_record("p1", 5, "r1"), "AUDIT#p1", "0000000000005#r1"),
        ];
        for (key, pk, sk) in cases {
            assert_eq!((key.pk.as_str(), key.sk.as_str()), (pk, sk));
        }
    }

    #[test]
    fn secrets_and_client_text_are_hashed_into_keys() {
        let key = session("raw-session-id");
        assert_eq!(key.sk, "SESSION");
        assert_eq!(
            key.pk,
            format!("SESSION#{}", sha256_b64url(b"raw-session-id"))
        );
        let key = account_failures("anna@example.org", 3);
        assert!(!key.pk.contains("anna"));
        assert_eq!(key.sk, "WINDOW#3");
        let key = not_me("Anna@Example.org");
        assert_eq!(key.pk, not_me("anna@example.org").pk);
        assert!(!key.pk.contains("anna"));
        assert_eq!(confirmation_mails("a@b.c", 3).sk, "CONFIRM#3");
        assert_eq!(notification_mails("a@b.c", 3).pk, not_me("A@B.C").pk);
        assert_eq!(notification_mails("a@b.c", 3).sk, "ASAP#3");
        assert_eq!(
            suppressed("A@B.C"),
            Key::new(not_me("a@b.c").pk, "SUPPRESSED")
        );
        assert_eq!(subscription_mails("s1", 4), Key::new("ASAPSUB#s1", "DAY#4"));
        let key = idempotency("p1", "c1", "my key");
        assert_eq!(key.pk, format!("IDEMP#p1#c1#{}", sha256_b64url(b"my key")));
        assert_eq!(key.sk, "IDEMP");
    }

    #[test]
    fn list_queries_name_their_partition_and_keys_name_their_parts_back() {
        let entries = session_entries("p1", 25);
        assert_eq!(entries.pk, "PATIENT#p1");
        assert_eq!(entries.range, SortKeyRange::Prefix("SESSION#".into()));
        assert_eq!(entries.index, Index::Primary, "strongly consistent");
        assert_eq!(
            session_public_id_of_entry(&session_entry("p1", "h1")),
            Some("h1")
        );
        assert_eq!(session_public_id_of_entry(&patient_profile("p1")), None);
        assert_eq!(
            session("raw").pk,
            format!("SESSION#{}", session_public_id("raw"))
        );
        let grants = grants_of("p1", Some("c1"), 10);
        assert_eq!(
            (grants.pk.as_str(), grants.index),
            ("GRANTS#p1", Index::Gsi1)
        );
        assert_eq!(grants.range, SortKeyRange::Prefix("c1#".into()));
        assert_eq!(grants_of("p1", None, 10).range, SortKeyRange::All);
        let consents = consents_of("p1", 10);
        assert_eq!(consents.pk, consent("p1", "c1").pk);
        assert_eq!(consent_client(&consent("p1", "c1")), Some("c1"));
        assert_eq!(consent_client(&patient_profile("p1")), None);
        assert_eq!(patients_by_email(5).index, Index::Gsi1);
        assert_eq!(patient_partition("p1", 5).range, SortKeyRange::All);
    }

    #[test]
    fn range_queries_cover_exactly_their_instants() {
        let query = slot_counters(198, 100, 200, 50);
        assert_eq!(query.pk, "SLOTS#198");
        assert_eq!(query.limit, 50);
        assert_eq!(
            query.range,
            SortKeyRange::Between(instant(100), instant(199))
        );
        assert_eq!(slot_counter_start(&slot_counter(198, 150)), Some(150));

        let query = subscriptions_starting_after(198, 100, 10);
        let SortKeyRange::Between(low, high) = &query.range else {
            panic!("a range");
        };
        let at = |start| subscription(198, start, "a1").sk;
        assert!(at(100) < *low && *low <= at(101));
        assert!(at(999_999_999_999) <= *high);

        let query = access_records_since("p1", 1_000, 10);
        assert!(query.descending);
        let SortKeyRange::Between(low, high) = &query.range else {
            panic!("a range");
        };
        let at = |ms| access_record("p1", ms, "zzzzzzzz").sk;
        assert!(at(999) < *low && *low <= access_record("p1", 1_000, "0").sk);
        assert!(at(9_999_999_999_999) <= *high);
        assert_eq!(query.pk, access_record("p1", 0, "x").pk);

        let query = appointments_latest_first("p1", 20);
        assert_eq!(query.index, Index::Gsi1);
        assert!(query.descending);
        assert_eq!(query.pk, appointment_by_start("p1", 0, "a1").pk);
    }

    #[test]
    fn only_a_patients_own_appointment_cursors_are_theirs() {
        let cursor = |key: Key, gsi1: Option<Key>| Cursor { key, gsi1 };
        let own = cursor(
            appointment("p1", "a1"),
            Some(appointment_by_start("p1", 5, "a1")),
        );
        assert!(is_appointment_cursor_of(&own, "p1"));
        assert!(!is_appointment_cursor_of(&own, "p2"));
        let profile = cursor(
            patient_profile("p1"),
            Some(appointment_by_start("p1", 5, "a1")),
        );
        assert!(!is_appointment_cursor_of(&profile, "p1"));
        let foreign_index = cursor(
            appointment("p1", "a1"),
            Some(appointment_by_start("p2", 5, "a1")),
        );
        assert!(!is_appointment_cursor_of(&foreign_index, "p1"));
        assert!(!is_appointment_cursor_of(
            &cursor(appointment("p1", "a1"), None),
            "p1"
        ));
    }

    /// The table rows of a Markdown text (`prefix` stripped from each line first).
    fn table_rows<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
        text.lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .filter(|line| line.starts_with('|'))
            .collect()
    }

    #[test]
    fn the_architecture_page_shows_this_data_model() {
        let here = include_str!("layout.rs");
        let page = include_str!("../../../docs/architecture.md");
        let ours = table_rows(here, "//! ");
        assert!(ours.len() > 10, "the data model table is gone: {ours:?}");
        let section = page
            .split("## The single table")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("docs/architecture.md has a section `## The single table`");
        assert_eq!(
            table_rows(section, ""),
            ours,
            "docs/architecture.md's item table differs from shared/src/store/layout.rs's"
        );
    }

    #[test]
    fn every_constructed_key_is_recognised_as_its_family() {
        assert_eq!(family(&catalog()), Family::Catalog);
        assert_eq!(
            family(&slot_counter(198, 1_800_000_000)),
            Family::SlotCounter {
                type_id: 198,
                start: 1_800_000_000
            }
        );
        assert_eq!(
            family(&appointment("p1", "a1")),
            Family::Appointment {
                patient_id: "p1",
                appointment_id: "a1"
            }
        );
        assert_eq!(family(&idempotency("p1", "c1", "k#1")), Family::Idempotency);
        assert_eq!(
            family(&subscription(198, 42, "a1")),
            Family::Subscription {
                type_id: 198,
                start: 42,
                appointment_id: "a1"
            }
        );
        assert_eq!(
            family(&outbox_event("e1")),
            Family::OutboxEvent { event_id: "e1" }
        );
        assert_eq!(
            family(&delivery("e1", "a1")),
            Family::Delivery {
                event_id: "e1",
                appointment_id: "a1"
            }
        );
        assert_eq!(
            family(&booking_limit("p1", 198)),
            Family::BookingLimit {
                patient_id: "p1",
                type_id: 198
            }
        );
        assert_eq!(family(&grant("g1")), Family::Grant { grant_id: "g1" });
        for other in [
            patient_profile("p1"),
            client("c1"),
            session("s"),
            Key::new("SLOTS#x", "1"),
            Key::new("ASAP#198", "nonsense"),
        ] {
            assert_eq!(family(&other), Family::Other, "{other}");
        }
    }

    #[test]
    fn outbox_keys_are_recognised_by_their_prefix() {
        let key = outbox_event("e1");
        assert!(is_outbox_event(&key));
        assert_eq!(outbox_event_id(&key), Some("e1"));
        assert_eq!(outbox_event_id(&outbox_event("")), None);
        assert!(!is_outbox_event(&patient_profile("p1")));
        assert_eq!(outbox_event_id(&patient_profile("p1")), None);
    }
}
