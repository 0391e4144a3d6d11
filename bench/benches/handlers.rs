//! The real function handlers, fed API Gateway v2 events, in process on the SQLite store.
//!
//! Per operation: CPU time (criterion mean of process CPU time: event parsing + handler, every
//! thread, so SQLite work on the blocking pool counts) and storage round trips (the
//! `CountingStore` in front of the store, averaged over every measured iteration; written to
//! `<out>/handlers.json`). Operations that change state get fresh input for every iteration, made
//! outside the measured time (a new code, a new availability, a freshly booked appointment), and
//! every iteration's status is checked, so no iteration measures an error path.

mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, SamplingMode};
use lambda_http::{Body, Response};
use portal_bench::ops::HANDLER_GROUP;
use portal_bench::results::{self, HandlerRecord, HANDLERS_FILE};
use portal_bench::{portal, process_cpu_time};
use serde_json::{json, Value};
use shared::boot::Handler;
use shared::keys::Role;
use shared::store::{now_unix, Condition, Item, Key, Write};
use testkit::api::{book_request, days_ahead, API, PORTAL_SCOPE};
use testkit::catalog::{CATEGORY, INSURANCE, TYPE};
use testkit::events::{self, Event};
use testkit::{oauth, TestContext};
use tokio::runtime::Runtime;

use common::CpuTime;

type Group<'a> = BenchmarkGroup<'a, CpuTime>;

/// Distinct patients the booking benchmarks spread their appointments over.
const PATIENTS: usize = 8;

/// Round trips and statuses seen over the measured iterations of one operation.
struct Tally {
    id: &'static str,
    expected: u16,
    round_trips: u64,
    iterations: u64,
    signs: u32,
}

impl Tally {
    fn new(id: &'static str, expected: u16) -> Self {
        Self {
            id,
            expected,
            round_trips: 0,
            iterations: 0,
            signs: 0,
        }
    }

    /// Counts one iteration; any other status than the expected one stops the benchmark.
    fn record(&mut self, round_trips: u64, response: &Response<Body>) {
        let status = response.status().as_u16();
        assert_eq!(
            status,
            self.expected,
            "{}: an iteration answered {status}: {}",
            self.id,
            String::from_utf8_lossy(response.body().as_ref())
        );
        self.round_trips += round_trips;
        self.iterations += 1;
    }

    fn save(&self) {
        if self.iterations == 0 {
            // Filtered out on the command line: keep what an earlier run recorded.
            return;
        }
        let record = HandlerRecord {
            round_trips: self.round_trips as f64 / self.iterations.max(1) as f64,
            iterations: self.iterations,
            signs: self.signs,
            status: self.expected,
        };
        let path = results::out_dir().join(HANDLERS_FILE);
        if let Err(e) = results::update(&path, self.id, record) {
            eprintln!("warning: cannot record round trips of {}: {e}", self.id);
        }
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Parses the event as the runtime does, then runs the handler: what one invocation costs.
async fn invoke(app: &impl Handler, event: &str) -> Response<Body> {
    let request = events::parse(event).expect("a valid event");
    app.handle(request).await
}

/// Like [`invoke`], through the serve loop's `shared::boot::invoke` as deployed: adds the
/// request's log line (metrics) and its audit trail (the access record of a patient-data request).
async fn serve(app: &impl Handler, event: &str) -> Response<Body> {
    let request = events::parse(event).expect("a valid event");
    shared::boot::invoke(app, "bench", request).await.0
}

fn json_body(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null)
}

/// JWTs in a token response: each one is an RS256 sign.
fn signed_tokens(body: &Value) -> u32 {
    ["access_token", "id_token"]
        .iter()
        .filter(|field| {
            body[**field]
                .as_str()
                .is_some_and(|t| t.split('.').count() == 3)
        })
        .count() as u32
}

/// Times each iteration alone (its input is made first, outside the measured time).
fn bench_each<A: Handler>(
    group: &mut Group<'_>,
    rt: &Runtime,
    portal: &TestContext,
    app: &A,
    tally: &mut Tally,
    mut input: impl FnMut(&Runtime) -> String,
    mut output: impl FnMut(&Response<Body>),
) {
    group.bench_function(tally.id, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let event = input(rt);
                portal.counter.take();
                let response = rt.block_on(async {
                    let started = process_cpu_time();
                    let response = invoke(app, &event).await;
                    total += process_cpu_time().saturating_sub(started);
                    response
                });
                tally.record(portal.counter.take(), &response);
                output(&response);
            }
            total
        })
    });
    tally.save();
}

/// Times the loop as a whole (read-only operations: the same event every time).
fn bench_loop<A: Handler>(
    group: &mut Group<'_>,
    rt: &Runtime,
    portal: &TestContext,
    app: &A,
    tally: &mut Tally,
    event: &str,
) {
    bench_loop_as(group, rt, portal, app, tally, event, false);
}

/// [`bench_loop`], through [`serve`] when `served`.
fn bench_loop_as<A: Handler>(
    group: &mut Group<'_>,
    rt: &Runtime,
    portal: &TestContext,
    app: &A,
    tally: &mut Tally,
    event: &str,
    served: bool,
) {
    group.bench_function(tally.id, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                portal.counter.take();
                let started = process_cpu_time();
                let mut last = None;
                for _ in 0..iters {
                    let response = if served {
                        serve(app, event).await
                    } else {
                        invoke(app, event).await
                    };
                    if response.status().as_u16() != tally.expected {
                        last = Some(response);
                        break;
                    }
                }
                let spent = process_cpu_time().saturating_sub(started);
                let round_trips = portal.counter.take();
                match last {
                    Some(failed) => tally.record(round_trips, &failed),
                    None => {
                        tally.round_trips += round_trips;
                        tally.iterations += iters;
                    }
                }
                spent
            })
        })
    });
    tally.save();
}

struct TokenWorld {
    portal: TestContext,
    app: token_fn::App,
    client: shared::domain::client::Client,
    patient: shared::domain::patient::Patient,
    basic: String,
}

fn token_world(rt: &Runtime) -> TokenWorld {
    let portal = portal();
    let (client, secret, patient) = rt.block_on(async {
        let (client, secret) = portal.client().await;
        (client, secret, portal.patient().await)
    });
    TokenWorld {
        app: token_fn::App::new(portal.function(Role::Token)),
        basic: oauth::basic(client.id.as_str(), &secret),
        portal,
        client,
        patient,
    }
}

impl TokenWorld {
    fn exchange_event(&self) -> String {
        let code = self
            .portal
            .code(&self.client, &self.patient, oauth::APP_SCOPE);
        Event::post("/oauth/token")
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", oauth::REDIRECT),
                ("code_verifier", oauth::VERIFIER),
            ])
            .header("authorization", &self.basic)
            .to_text()
    }

    fn refresh_event(&self, refresh_token: &str) -> String {
        Event::post("/oauth/token")
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ])
            .header("authorization", &self.basic)
            .to_text()
    }
}

fn code_exchange(group: &mut Group<'_>, rt: &Runtime) {
    let world = token_world(rt);
    let mut tally = Tally::new("code_exchange", 200);
    let first = rt.block_on(invoke(&world.app, &world.exchange_event()));
    assert_eq!(first.status(), 200, "{:?}", json_body(&first));
    tally.signs = signed_tokens(&json_body(&first));
    bench_each(
        group,
        rt,
        &world.portal,
        &world.app,
        &mut tally,
        |_| world.exchange_event(),
        |_| {},
    );
}

fn refresh(group: &mut Group<'_>, rt: &Runtime) {
    let world = token_world(rt);
    let mut tally = Tally::new("refresh", 200);
    let exchanged = json_body(&rt.block_on(invoke(&world.app, &world.exchange_event())));
    let mut refresh_token = exchanged["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    let first = rt.block_on(invoke(&world.app, &world.refresh_event(&refresh_token)));
    let body = json_body(&first);
    assert_eq!(first.status(), 200, "{body}");
    tally.signs = signed_tokens(&body);
    refresh_token = body["refresh_token"].as_str().expect("rotated").to_owned();
    // Each refresh presents the token the previous one returned (the rotation chain of one grant).
    let latest = std::cell::RefCell::new(refresh_token);
    bench_each(
        group,
        rt,
        &world.portal,
        &world.app,
        &mut tally,
        |_| world.refresh_event(&latest.borrow()),
        |response| {
            if let Some(token) = json_body(response)["refresh_token"].as_str() {
                *latest.borrow_mut() = token.to_owned();
            }
        },
    );
}

fn userinfo(group: &mut Group<'_>, rt: &Runtime) {
    let portal = portal();
    let patient = rt.block_on(portal.patient());
    let app = userinfo_fn::App::new(portal.function(Role::Userinfo));
    let token = portal.access_token(patient.id.as_str(), "openid email profile");
    let event = Event::get("/oauth/userinfo").bearer(&token).to_text();
    let first = rt.block_on(invoke(&app, &event));
    assert_eq!(first.status(), 200, "{:?}", json_body(&first));
    let mut tally = Tally::new("userinfo", 200);
    bench_loop(group, rt, &portal, &app, &mut tally, &event);
    let mut tally = Tally::new("userinfo_served", 200);
    bench_loop_as(group, rt, &portal, &app, &mut tally, &event, true);
}

/// One appointment read, by the handler alone and as served (with its access record).
fn appointment_read(group: &mut Group<'_>, rt: &Runtime) {
    let (portal, app, bearers, availabilities) = booking_world(rt, None);
    let (id, _) = book(rt, &app, &bearers[0], &availabilities[0]);
    let event = Event::get(&format!("{API}/appointments/{id}"))
        .bearer(&bearers[0])
        .to_text();
    let mut tally = Tally::new("appointment_read", 200);
    bench_loop(group, rt, &portal, &app, &mut tally, &event);
    let mut tally = Tally::new("appointment_read_served", 200);
    bench_loop_as(group, rt, &portal, &app, &mut tally, &event, true);
}

fn bearer_check(group: &mut Group<'_>, rt: &Runtime) {
    let portal = portal();
    let booking = portal.function(Role::Booking);
    let token = portal.access_token("patient-1", PORTAL_SCOPE);
    let request = Event::get(&format!("{API}/appointments"))
        .bearer(&token)
        .request();
    let required = ["profile_read", "appointment_read"];
    assert!(rt
        .block_on(booking.authenticate(&request, &required, false))
        .is_ok());
    let mut tally = Tally::new("bearer_check", 200);
    group.bench_function(tally.id, |b| {
        b.iter_custom(|iters| {
            portal.counter.take();
            let started = process_cpu_time();
            for _ in 0..iters {
                let claims = rt.block_on(booking.authenticate(&request, &required, false));
                assert!(claims.is_ok(), "the bearer check failed: {claims:?}");
            }
            let spent = process_cpu_time().saturating_sub(started);
            tally.round_trips += portal.counter.take();
            tally.iterations += iters;
            spent
        })
    });
    tally.save();
}

/// A booking app on the demo catalog; with `capacity`, type 198 takes that many bookings per slot.
fn booking_world(
    rt: &Runtime,
    capacity: Option<i64>,
) -> (TestContext, booking_fn::App, Vec<String>, Vec<String>) {
    let portal = portal();
    let catalog = rt.block_on(portal.load_demo_catalog(capacity));
    let app = booking_fn::App::new(portal.function(Role::Booking));
    let bearers = (0..PATIENTS)
        .map(|_| {
            let patient = shared::crypto::random_id(22);
            portal.access_token(&patient, PORTAL_SCOPE)
        })
        .collect();
    // From day 2 (outside the 24 h cancellation notice) to the end of the horizon.
    let availabilities = portal.availability_ids(&catalog, 2, 88);
    assert!(availabilities.len() > 500, "{}", availabilities.len());
    (portal, app, bearers, availabilities)
}

fn book_event(bearer: &str, availability: &str) -> String {
    Event::post(&format!("{API}/booking"))
        .bearer(bearer)
        .json(&book_request(availability))
        .to_text()
}

/// Books through the handler and returns the appointment id and its `ETag`.
fn book(rt: &Runtime, app: &booking_fn::App, bearer: &str, availability: &str) -> (String, String) {
    let response = rt.block_on(invoke(app, &book_event(bearer, availability)));
    let body = json_body(&response);
    assert_eq!(response.status(), 201, "{body}");
    let etag = response
        .headers()
        .get("etag")
        .and_then(|tag| tag.to_str().ok())
        .expect("a new booking has an ETag")
        .to_owned();
    (body["id"].as_str().expect("an id").to_owned(), etag)
}

fn availability_search(group: &mut Group<'_>, rt: &Runtime) {
    // The demo catalog as it is (capacity 1), with some slots of the fortnight already taken, so
    // the one query of slot counters returns rows.
    let (portal, app, bearers, availabilities) = booking_world(rt, None);
    for (n, availability) in availabilities.iter().take(60).step_by(3).enumerate() {
        book(rt, &app, &bearers[n % PATIENTS], availability);
    }
    let event = Event::get(&format!(
        "{API}/availabilities?category_id={CATEGORY}&type_id={TYPE}&insurance_id={INSURANCE}&from={}&limit=200",
        days_ahead(2)
    ))
    .bearer(&bearers[0])
    .to_text();
    let first = rt.block_on(invoke(&app, &event));
    let body = json_body(&first);
    assert_eq!(first.status(), 200, "{body}");
    let found = body["data"].as_array().map_or(0, Vec::len);
    assert!(
        found > 100,
        "a fortnight of type 198 has ~170 slots, got {found}"
    );
    println!("availability_search: {found} free slots in the 2-week window");
    let mut tally = Tally::new("availability_search", 200);
    bench_loop(group, rt, &portal, &app, &mut tally, &event);
}

fn booking(group: &mut Group<'_>, rt: &Runtime) {
    let (portal, app, bearers, availabilities) = booking_world(rt, Some(1000));
    let mut tally = Tally::new("booking", 201);
    let mut n = 0usize;
    bench_each(
        group,
        rt,
        &portal,
        &app,
        &mut tally,
        |_| {
            n += 1;
            book_event(
                &bearers[n % PATIENTS],
                &availabilities[n % availabilities.len()],
            )
        },
        |_| {},
    );
}

/// What [`change`] does to a freshly booked appointment.
#[derive(Clone, Copy)]
enum Change {
    /// `PUT` it to the next slot.
    Reschedule,
    /// `DELETE` it.
    Cancel,
}

/// Reschedules or cancels a freshly booked appointment, with the `ETag` its booking answered in
/// `If-Match` (`tagged`: one round trip) or without (the appointment is read first).
fn change(group: &mut Group<'_>, rt: &Runtime, change: Change, tagged: bool) {
    let (portal, app, bearers, availabilities) = booking_world(rt, Some(1000));
    let id = match (change, tagged) {
        (Change::Reschedule, true) => "reschedule",
        (Change::Reschedule, false) => "reschedule_untagged",
        (Change::Cancel, true) => "cancel",
        (Change::Cancel, false) => "cancel_untagged",
    };
    let mut tally = Tally::new(id, 200);
    let mut n = 0usize;
    bench_each(
        group,
        rt,
        &portal,
        &app,
        &mut tally,
        |rt| {
            n += 1;
            let bearer = &bearers[n % PATIENTS];
            let (id, etag) = book(rt, &app, bearer, &availabilities[n % availabilities.len()]);
            let path = format!("{API}/appointments/{id}");
            let event = match change {
                Change::Reschedule => Event::new("PUT", &path).bearer(bearer).json(
                    &json!({ "availability_id": availabilities[(n + 1) % availabilities.len()] }),
                ),
                Change::Cancel => Event::new("DELETE", &path).bearer(bearer),
            };
            let event = if tagged {
                event.header("if-match", &etag)
            } else {
                event
            };
            event.to_text()
        },
        |_| {},
    );
}

/// Reference: one local storage round trip (the shape of the code exchange's: check an item,
/// create another) through the store, blocking-pool hand-off included.
fn store_transaction(group: &mut Group<'_>, rt: &Runtime) {
    let portal = portal();
    let store = portal.context.store.clone();
    let anchor = Key::new("BENCH#anchor", "ITEM");
    rt.block_on(store.put(
        Item::new(anchor.clone()).with("kind", "anchor"),
        Condition::NotExists,
    ))
    .expect("anchor");
    let mut tally = Tally::new("store_transaction", 200);
    group.bench_function(tally.id, |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                portal.counter.take();
                let started = process_cpu_time();
                for _ in 0..iters {
                    let writes = vec![
                        Write::Check {
                            key: anchor.clone(),
                            condition: Condition::Equals("kind".into(), "anchor".into()),
                        },
                        Write::Put {
                            item: Item::new(Key::new(
                                format!("BENCH#{}", shared::crypto::random_id(22)),
                                "ITEM",
                            ))
                            .with("generation", 0)
                            .with("client_id", "bench-client")
                            .expiring_at(now_unix() + 86_400),
                            condition: Condition::NotExists,
                        },
                    ];
                    store.transact(writes).await.expect("transaction");
                }
                let spent = process_cpu_time().saturating_sub(started);
                tally.round_trips += portal.counter.take();
                tally.iterations += iters;
                spent
            })
        })
    });
    tally.save();
}

/// Reference: what the runtime does before a handler runs (event JSON → `Request`).
fn event_parse(group: &mut Group<'_>, rt: &Runtime) {
    let world = token_world(rt);
    let event = world.exchange_event();
    let mut tally = Tally::new("event_parse", 200);
    group.bench_function(tally.id, |b| {
        b.iter_custom(|iters| {
            let started = process_cpu_time();
            for _ in 0..iters {
                std::hint::black_box(events::parse(std::hint::black_box(&event)).expect("event"));
            }
            tally.iterations += iters;
            process_cpu_time().saturating_sub(started)
        })
    });
    tally.save();
}

fn handlers(c: &mut criterion::Criterion<CpuTime>) {
    let rt = runtime();
    let mut group = c.benchmark_group(HANDLER_GROUP);
    // Milliseconds per iteration: equal-sized samples, fewer of them.
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    code_exchange(&mut group, &rt);
    refresh(&mut group, &rt);
    userinfo(&mut group, &rt);
    appointment_read(&mut group, &rt);
    bearer_check(&mut group, &rt);
    availability_search(&mut group, &rt);
    booking(&mut group, &rt);
    change(&mut group, &rt, Change::Reschedule, true);
    change(&mut group, &rt, Change::Cancel, true);
    change(&mut group, &rt, Change::Reschedule, false);
    change(&mut group, &rt, Change::Cancel, false);
    store_transaction(&mut group, &rt);
    event_parse(&mut group, &rt);
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = handlers
}
criterion_main!(benches);
