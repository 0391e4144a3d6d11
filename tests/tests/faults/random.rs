//! A quarter of all store calls failing at random — throttled, timed out, or committed with the
//! answer lost — while patients book contested slots, reschedule, cancel and join or leave the
//! ASAP list, resending what was answered 503 the way the API tells them to (same
//! `Idempotency-Key`, same `If-Match`). Every answer is one the API documents, every failure a 503
//! with `Retry-After`, and once the store recovers the table holds together: counters, indexes,
//! outbox, mail. (The stream delivers the outbox once the store is back: the dispatch itself meets
//! every kind of fault at every one of its calls in `asap_mail.rs`.)

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use shared::store::faults::{Fault, Op};
use testkit::api::{body, book_request, ApiPatient};

use super::stack::{context, until_served, Adapter, Dispatch, Stack};

/// Fraction of store calls that fail.
const FAULT_RATE: f64 = 0.25;

/// Rounds of one action per patient.
const ROUNDS: usize = 12;

/// One patient's view: their appointments and the latest `ETag` of each.
struct Client {
    patient: ApiPatient,
    appointments: Vec<(String, Option<String>)>,
    keys: u32,
}

fn etag_of(response: &lambda_http::Response<lambda_http::Body>) -> Option<String> {
    response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn random_faults(adapter: Adapter, seed: u64) {
    let ctx = context(Dispatch::Stream);
    let s = Stack::new(&ctx, adapter).await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(Client {
            patient: s.patient().await,
            appointments: Vec::new(),
            keys: 0,
        });
    }
    let mut rng = StdRng::seed_from_u64(seed);
    s.faults.random(seed, FAULT_RATE, &Fault::ALL, Op::ALL);
    let mut served = 0;
    for _ in 0..ROUNDS {
        for client in clients.iter_mut() {
            served += act(&s, client, &mut rng).await as usize;
        }
    }
    let injected = s.faults.injected();
    s.faults.heal();
    assert!(
        s.run_stream(5).await,
        "the stream gets through once the store is back"
    );
    assert!(
        injected.lost_answers > 3 && injected.throttled > 3 && injected.timed_out > 3,
        "{injected:?}"
    );
    assert!(served > ROUNDS, "most actions were served: {served}");
    s.assert_consistent(&[]).await;
}

/// One random action of one patient, sent until it is not answered 503 (or given up); whether it
/// was served.
async fn act(s: &Stack, client: &mut Client, rng: &mut StdRng) -> bool {
    let patient = &client.patient;
    let choice = rng.random_range(0..10);
    let mine =
        (!client.appointments.is_empty()).then(|| rng.random_range(0..client.appointments.len()));
    match (choice, mine) {
        // Book one of the first free slots (contested by the others).
        (0..=3, _) | (_, None) => {
            let (search, _) = until_served(&s.booking, &search(patient), 6).await;
            if search.status() != 200 {
                return false;
            }
            let free = body(&search)["data"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let Some(slot) = free.get(rng.random_range(0..3.min(free.len().max(1)))) else {
                return false;
            };
            let mut request = book_request(slot["id"].as_str().unwrap());
            request["asap_list_opt_in"] = json!(rng.random_bool(0.5));
            client.keys += 1;
            let event = patient
                .post("/booking", &request)
                .header("idempotency-key", &format!("key-{}", client.keys));
            let (answer, _) = until_served(&s.booking, &event, 6).await;
            match answer.status().as_u16() {
                201 => {
                    let id = body(&answer)["id"].as_str().unwrap().to_owned();
                    client.appointments.push((id, etag_of(&answer)));
                }
                // A contested slot taken meanwhile, or the patient's own limit of upcoming
                // appointments of the type reached.
                409 => assert!(
                    ["slot_unavailable", "booking_limit_reached"]
                        .contains(&body(&answer)["error"].as_str().unwrap_or_default()),
                    "{}",
                    body(&answer)
                ),
                503 => return false,
                other => panic!("booking answered {other}: {}", body(&answer)),
            }
        }
        // Reschedule to one of its own alternatives.
        (4..=5, Some(at)) => {
            let (id, tag) = client.appointments[at].clone();
            let Some(tag) = tag else {
                return refresh_tag(s, client, at).await;
            };
            let (alternatives, _) = until_served(
                &s.booking,
                &patient.get(&format!(
                    "/appointments/{id}/availabilities?limit=5&from={}",
                    testkit::api::days_ahead(3)
                )),
                6,
            )
            .await;
            let free = match alternatives.status().as_u16() {
                200 => body(&alternatives)["data"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
                _ => return false,
            };
            let Some(target) = free.first() else {
                return false;
            };
            let event = patient
                .put(
                    &format!("/appointments/{id}"),
                    &json!({ "availability_id": target["id"] }),
                )
                .header("if-match", &tag);
            let (answer, _) = until_served(&s.booking, &event, 6).await;
            match answer.status().as_u16() {
                200 => {
                    assert_eq!(body(&answer)["starts_at"], target["starts_at"]);
                    client.appointments[at].1 = etag_of(&answer);
                }
                409 => assert_eq!(body(&answer)["error"], "slot_unavailable"),
                412 => client.appointments[at].1 = None,
                503 => return false,
                other => panic!("reschedule answered {other}: {}", body(&answer)),
            }
        }
        // Cancel.
        (6..=7, Some(at)) => {
            let (id, tag) = client.appointments[at].clone();
            let Some(tag) = tag else {
                return refresh_tag(s, client, at).await;
            };
            let event = patient
                .delete(&format!("/appointments/{id}"))
                .header("if-match", &tag);
            let (answer, _) = until_served(&s.booking, &event, 6).await;
            match answer.status().as_u16() {
                200 => {
                    client.appointments.remove(at);
                }
                409 => {
                    assert_eq!(body(&answer)["error"], "already_cancelled");
                    client.appointments.remove(at);
                }
                412 => client.appointments[at].1 = None,
                503 => return false,
                other => panic!("cancel answered {other}: {}", body(&answer)),
            }
        }
        // Join or leave the ASAP list.
        (_, Some(at)) => {
            let id = client.appointments[at].0.clone();
            let path = format!("/appointments/{id}/asap_list");
            let event = if rng.random_bool(0.5) {
                patient.post(&path, &json!({}))
            } else {
                patient.delete(&path)
            };
            let (answer, _) = until_served(&s.asap, &event, 6).await;
            match answer.status().as_u16() {
                200 => client.appointments[at].1 = etag_of(&answer),
                409 => assert!(
                    ["appointment_changed", "already_cancelled"]
                        .contains(&body(&answer)["error"].as_str().unwrap()),
                    "{}",
                    body(&answer)
                ),
                503 => return false,
                other => panic!("ASAP list answered {other}: {}", body(&answer)),
            }
        }
    }
    true
}

/// Reads the appointment again for its current `ETag` (after a 412 or a lost answer).
async fn refresh_tag(s: &Stack, client: &mut Client, at: usize) -> bool {
    let id = client.appointments[at].0.clone();
    let (answer, _) = until_served(
        &s.booking,
        &client.patient.get(&format!("/appointments/{id}")),
        6,
    )
    .await;
    if answer.status() != 200 {
        return false;
    }
    let appointment: Value = body(&answer);
    if appointment["status"] == "cancelled" {
        client.appointments.remove(at);
    } else {
        client.appointments[at].1 = etag_of(&answer);
    }
    true
}

fn search(patient: &ApiPatient) -> testkit::Event {
    patient.get(&format!(
        "/availabilities?category_id=53&type_id=198&insurance_id=136&from={}&limit=5",
        testkit::api::days_ahead(3)
    ))
}

#[tokio::test]
async fn sqlite_a_quarter_of_all_store_calls_failing_leaves_only_503s_and_a_consistent_table() {
    for seed in [1, 2] {
        random_faults(Adapter::Sqlite, seed).await;
    }
}

#[tokio::test]
async fn dynamo_a_quarter_of_all_store_calls_failing_leaves_only_503s_and_a_consistent_table() {
    random_faults(Adapter::Dynamo, 3).await;
}
