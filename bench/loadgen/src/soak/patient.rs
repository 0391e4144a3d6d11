//! One patient of the soak: signed in once through the pages, then a random action after another,
//! each checked against the answers the API documents for it.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};
use testkit::api::{book_request, days_ahead, API};
use testkit::invariants::GrantSeen;

use super::SoakError;
use crate::http::{Answer, EmulatorFault, Stats};
use crate::oauth::{Account, App, Driver, FlowError, Tokens};

/// Sends of one request when the emulator fails it (a client resends what got no answer).
const SENDS: u32 = 3;

/// Share of OAuth flows that end with two racing refreshes of one refresh token.
const RACING_REFRESHES: f64 = 0.2;

/// How many of the first free slots a booking picks from: few, so patients contest them.
const CONTESTED: usize = 3;

/// One patient with its app session, appointments and what it saw.
pub struct Patient {
    driver: Driver,
    rng: StdRng,
    tokens: Option<Tokens>,
    /// Booked appointments: id and latest `ETag` (`None` once outdated).
    appointments: Vec<(String, Option<String>)>,
    keys: u64,
    /// What this patient saw of its refresh-token families.
    pub grants: BTreeMap<String, GrantSeen>,
    /// Answers the API does not document for what was sent.
    pub surprises: Vec<String>,
    /// Actions done.
    pub actions: u64,
}

impl Patient {
    /// A patient driving `app` at `base_url`, counting into `stats`, choosing with `seed`.
    pub fn new(
        base_url: &str,
        app: App,
        account: Account,
        stats: Arc<Stats>,
        seed: u64,
    ) -> Result<Self, SoakError> {
        Ok(Self {
            driver: Driver::new(base_url, app, account, stats).map_err(SoakError::Setup)?,
            rng: StdRng::seed_from_u64(seed),
            tokens: None,
            appointments: Vec::new(),
            keys: 0,
            grants: BTreeMap::new(),
            surprises: Vec::new(),
            actions: 0,
        })
    }

    /// Signs in through the login and consent pages and exchanges the code.
    pub async fn sign_in(&mut self) -> Result<(), SoakError> {
        let code = self
            .driver
            .sign_in()
            .await
            .map_err(|e| SoakError::SignIn(e.to_string()))?;
        let tokens = self
            .driver
            .exchange(&code)
            .await
            .map_err(|e| SoakError::SignIn(e.to_string()))?;
        self.grants.entry(tokens.grant_id.clone()).or_default();
        self.tokens = Some(tokens);
        Ok(())
    }

    /// One random action.
    pub async fn act(&mut self) {
        self.actions += 1;
        if self.tokens.is_none() {
            return self.flow().await;
        }
        let mine = (!self.appointments.is_empty())
            .then(|| self.rng.random_range(0..self.appointments.len()));
        match (self.rng.random_range(0..13), mine) {
            (0..=2, _) => self.flow().await,
            (3..=4, _) => {
                self.search().await;
            }
            (5..=7, _) | (_, None) => self.book().await,
            (8..=9, Some(at)) => self.reschedule(at).await,
            (10, Some(at)) => self.cancel(at).await,
            (11, Some(at)) => self.race(at).await,
            (_, Some(at)) => self.toggle_asap(at).await,
        }
    }

    /// The OAuth flow with the live session: authorize → token (code) → userinfo → refresh.
    async fn flow(&mut self) {
        let code = match self.driver.authorize().await {
            Ok(code) => code,
            Err(e) => return self.flow_failed(e),
        };
        let tokens = match self.driver.exchange(&code).await {
            Ok(tokens) => tokens,
            Err(e) => return self.flow_failed(e),
        };
        let grant = tokens.grant_id.clone();
        self.grants.entry(grant.clone()).or_default();
        if let Err(e) = self.driver.userinfo(&tokens.access_token).await {
            self.flow_failed(e);
        }
        let refresh = tokens.refresh_token.clone().unwrap_or_default();
        if self.rng.random_bool(RACING_REFRESHES) {
            return self.racing_refresh(tokens, &refresh).await;
        }
        match self.driver.refresh(&refresh).await {
            Ok(refreshed) => {
                self.grants.entry(grant).or_default().refreshed += 1;
                self.tokens = Some(refreshed);
            }
            Err(FlowError::Emulator(_)) => {
                // Whether the family moved on is unknown: its refresh token is not used again.
                self.grants.entry(grant).or_default().unknown += 1;
                self.tokens = Some(Tokens {
                    refresh_token: None,
                    ..tokens
                });
            }
            Err(e) => self.flow_failed(e),
        }
    }

    /// Two refreshes with the same token at once (a client that does not serialise them): one
    /// wins, the other is a reuse, which revokes the whole family (RFC 9700 §4.14.2). Two
    /// successes would leave two live generations.
    async fn racing_refresh(&mut self, tokens: Tokens, refresh: &str) {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
        const STEP: &str = "token: racing refresh";
        let tokens_grant = tokens.grant_id.clone();
        let (first, second) = tokio::join!(
            self.driver.token(STEP, &form),
            self.driver.token(STEP, &form)
        );
        let mut seen = GrantSeen::default();
        let winner = match (first, second) {
            (Ok(winner), Err(FlowError::Refused { status: 400, .. }))
            | (Err(FlowError::Refused { status: 400, .. }), Ok(winner)) => {
                seen.refreshed += 1;
                seen.revoked = true;
                winner
            }
            (Ok(winner), Ok(_)) => {
                seen.refreshed += 2;
                self.surprise(format!(
                    "{STEP}: both refreshes of one refresh token succeeded (grant {})",
                    tokens.grant_id
                ));
                winner
            }
            (first, second) => {
                // An emulator fault: whether that request moved the family on is unknown.
                for outcome in [first, second] {
                    match outcome {
                        Ok(_) => seen.refreshed += 1,
                        Err(FlowError::Emulator(_)) => seen.unknown += 1,
                        Err(refused) => self.flow_failed(refused),
                    }
                }
                tokens
            }
        };
        let family = self.grants.entry(tokens_grant).or_default();
        family.refreshed += seen.refreshed;
        family.unknown += seen.unknown;
        family.revoked |= seen.revoked;
        // The family is revoked (or unknown): its access token still works until it expires.
        self.tokens = Some(Tokens {
            refresh_token: None,
            ..winner
        });
    }

    fn flow_failed(&mut self, error: FlowError) {
        if let FlowError::Refused { .. } = error {
            self.surprise(error.to_string());
        }
    }

    /// The first free availabilities of the demo type (200).
    async fn search(&mut self) -> Vec<Value> {
        let path = format!(
            "/availabilities?category_id=53&type_id=198&insurance_id=136&from={}&limit=5",
            days_ahead(3)
        );
        match self.api("search", Method::GET, &path, None, None).await {
            Some(answer) if answer.status == 200 => answer.json()["data"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
            Some(answer) => {
                self.unexpected("search", &answer);
                Vec::new()
            }
            None => Vec::new(),
        }
    }

    /// Books one of the first free slots, which the other patients contest: 201, or 409 when it
    /// was taken meanwhile or the patient holds as many as the type allows.
    async fn book(&mut self) {
        let free = self.search().await;
        if free.is_empty() {
            return;
        }
        let slot = &free[self.rng.random_range(0..free.len().min(CONTESTED))];
        let mut request = book_request(slot["id"].as_str().unwrap_or_default());
        request["asap_list_opt_in"] = json!(self.rng.random_bool(0.5));
        self.keys += 1;
        let key = format!("soak-{}", self.keys);
        let Some(answer) = self
            .api(
                "book",
                Method::POST,
                "/booking",
                Some(request),
                Some(("idempotency-key", &key)),
            )
            .await
        else {
            return;
        };
        match (answer.status, answer.error_code().as_str()) {
            (201, _) => {
                let id = answer.json()["id"].as_str().unwrap_or_default().to_owned();
                let tag = answer.header("etag").map(str::to_owned);
                self.appointments.push((id, tag));
            }
            (409, "slot_unavailable" | "booking_limit_reached") => {}
            _ => self.unexpected("book", &answer),
        }
    }

    /// Moves an appointment to the first of its alternatives, with `If-Match`.
    async fn reschedule(&mut self, at: usize) {
        let Some(tag) = self.tag(at).await else {
            return;
        };
        let id = self.appointments[at].0.clone();
        let path = format!(
            "/appointments/{id}/availabilities?limit=5&from={}",
            days_ahead(3)
        );
        let Some(answer) = self
            .api("reschedule: alternatives", Method::GET, &path, None, None)
            .await
        else {
            return;
        };
        if answer.status != 200 {
            return self.unexpected("reschedule: alternatives", &answer);
        }
        let Some(target) = answer.json()["data"].get(0).cloned() else {
            return;
        };
        let body = json!({ "availability_id": target["id"] });
        let path = format!("/appointments/{id}");
        let Some(answer) = self
            .api(
                "reschedule",
                Method::PUT,
                &path,
                Some(body),
                Some(("if-match", &tag)),
            )
            .await
        else {
            return;
        };
        match answer.status {
            200 if answer.json()["starts_at"] == target["starts_at"] => {
                self.appointments[at].1 = answer.header("etag").map(str::to_owned);
            }
            409 => {}
            412 => self.appointments[at].1 = None,
            _ => self.unexpected("reschedule", &answer),
        }
    }

    /// Cancels an appointment with `If-Match`.
    async fn cancel(&mut self, at: usize) {
        let Some(tag) = self.tag(at).await else {
            return;
        };
        let path = format!("/appointments/{}", self.appointments[at].0);
        let Some(answer) = self
            .api(
                "cancel",
                Method::DELETE,
                &path,
                None,
                Some(("if-match", &tag)),
            )
            .await
        else {
            return;
        };
        match (answer.status, answer.error_code().as_str()) {
            (200, _) | (409, "already_cancelled") => {
                self.appointments.remove(at);
            }
            (409, _) => {}
            (412, _) => self.appointments[at].1 = None,
            _ => self.unexpected("cancel", &answer),
        }
    }

    /// A reschedule and a cancellation of one appointment at once, with the same `If-Match` (two
    /// devices of the patient): exactly one applies, the other is refused (412, or 409).
    async fn race(&mut self, at: usize) {
        let Some(tag) = self.tag(at).await else {
            return;
        };
        let id = self.appointments[at].0.clone();
        let path = format!(
            "/appointments/{id}/availabilities?limit=5&from={}",
            days_ahead(3)
        );
        let Some(alternatives) = self
            .api("race: alternatives", Method::GET, &path, None, None)
            .await
        else {
            return;
        };
        let Some(target) = alternatives.json()["data"].get(0).cloned() else {
            return;
        };
        let path = format!("/appointments/{id}");
        let body = json!({ "availability_id": target["id"] });
        let condition = Some(("if-match", tag.as_str()));
        let (moved, cancelled) = tokio::join!(
            self.api(
                "race: reschedule",
                Method::PUT,
                &path,
                Some(body),
                condition
            ),
            self.api("race: cancel", Method::DELETE, &path, None, condition)
        );
        let (Some(moved), Some(cancelled)) = (moved, cancelled) else {
            self.appointments[at].1 = None;
            return;
        };
        let refused = |answer: &Answer| matches!(answer.status, 409 | 412);
        match (moved.status, cancelled.status) {
            (200, _) if refused(&cancelled) => {
                self.appointments[at].1 = moved.header("etag").map(str::to_owned);
            }
            (_, 200) if refused(&moved) => {
                self.appointments.remove(at);
            }
            _ => {
                self.surprise(format!(
                    "race: reschedule {} and cancel {} of one revision: {} / {}",
                    moved.status,
                    cancelled.status,
                    moved.body.chars().take(200).collect::<String>(),
                    cancelled.body.chars().take(200).collect::<String>()
                ));
                self.appointments[at].1 = None;
            }
        }
    }

    /// Joins or leaves the ASAP list of an appointment.
    async fn toggle_asap(&mut self, at: usize) {
        let path = format!("/appointments/{}/asap_list", self.appointments[at].0);
        let (step, method, body) = if self.rng.random_bool(0.5) {
            ("asap: join", Method::POST, Some(json!({})))
        } else {
            ("asap: leave", Method::DELETE, None)
        };
        let Some(answer) = self.api(step, method, &path, body, None).await else {
            return;
        };
        match answer.status {
            200 => self.appointments[at].1 = answer.header("etag").map(str::to_owned),
            409 => self.appointments[at].1 = None,
            _ => self.unexpected(step, &answer),
        }
    }

    /// The appointment's `ETag`, read again when the one held is outdated.
    async fn tag(&mut self, at: usize) -> Option<String> {
        if let Some(tag) = self.appointments[at].1.clone() {
            return Some(tag);
        }
        let path = format!("/appointments/{}", self.appointments[at].0);
        let answer = self
            .api("appointment", Method::GET, &path, None, None)
            .await?;
        if answer.status != 200 {
            self.unexpected("appointment", &answer);
            return None;
        }
        if answer.json()["status"] == "cancelled" {
            self.appointments.remove(at);
            return None;
        }
        let tag = answer.header("etag").map(str::to_owned);
        self.appointments[at].1 = tag.clone();
        tag
    }

    /// A resource API call with the current access token, sent again (as it was) while the
    /// emulator fails it; `None` when it never got through.
    async fn api(
        &self,
        step: &'static str,
        method: Method,
        path: &str,
        body: Option<Value>,
        header: Option<(&str, &str)>,
    ) -> Option<Answer> {
        let token = self.tokens.as_ref()?.access_token.clone();
        let backend = self.driver.backend();
        let url = self.driver.url(&format!("{API}{path}"));
        for _ in 0..SENDS {
            let mut request = backend
                .client()
                .request(method.clone(), &url)
                .bearer_auth(&token);
            if let Some(body) = &body {
                request = request.json(body);
            }
            if let Some((name, value)) = header {
                request = request.header(name, value);
            }
            match backend.send(step, request).await {
                Ok(answer) => return Some(answer),
                Err(EmulatorFault { .. }) => continue,
            }
        }
        None
    }

    fn unexpected(&mut self, step: &str, answer: &Answer) {
        let body: String = answer.body.chars().take(300).collect();
        self.surprise(format!("{step}: {} {body}", answer.status));
    }

    fn surprise(&mut self, what: String) {
        if self.surprises.len() < 10 {
            self.surprises.push(what);
        }
    }
}
