//! Cold starts of every function's release binary against a local Lambda Runtime API stand-in.
//!
//! For each function: binary size; init time = spawn → first `GET /runtime/invocation/next`
//! (median of several cold starts; nothing on the network: SQLite store and keys in a local
//! folder); peak RSS (`VmHWM`) after init and after serving 1,000 invocations of a representative
//! request. Results go to `<out>/coldstart.json` (see `portal_bench::results`).
//!
//! ```text
//! coldstart --bin-dir $CARGO_TARGET_DIR/release [--profile release] [--cold-starts 7]
//!           [--invocations 1000] [--functions token,booking] [--env NAME=VALUE]...
//!           [--wrapper "strace -f -tt -o trace"]
//! ```
//!
//! `--env` adds a variable to the functions' environment (e.g. `TOKIO_WORKER_THREADS=1`).
//! `--wrapper` starts each binary under another program (to see where init time goes; times and
//! RSS are then the wrapper's, and it gets SIGTERM first so it can write out what it recorded).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use portal_bench::ops::{FUNCTIONS, INIT_TARGET_MS, MINIMAL_FUNCTION, RSS_TARGET_KB};
use portal_bench::process::{peak_rss_kb, schedstat_cpu_ms, Launch};
use portal_bench::results::{self, ColdStartRecord, COLDSTART_FILE};
use portal_bench::runtime_stub::{RuntimeStub, Scenario};
use portal_bench::{portal, BenchError};
use shared::boot::Handler as _;
use testkit::api::{book_request, days_ahead, API, PORTAL_SCOPE};
use testkit::catalog::{CATEGORY, INSURANCE, TYPE};
use testkit::{oauth, Event, TestContext, ISSUER};
use tokio::process::Child;

struct Args {
    bin_dir: PathBuf,
    profile: String,
    cold_starts: usize,
    invocations: u64,
    functions: Vec<String>,
    wrapper: Vec<String>,
    env: Vec<(String, String)>,
}

fn parse_args() -> Result<Args, BenchError> {
    let mut args = Args {
        bin_dir: PathBuf::new(),
        profile: "release".to_owned(),
        cold_starts: 7,
        invocations: 1000,
        functions: FUNCTIONS
            .iter()
            .chain([&MINIMAL_FUNCTION])
            .map(|f| (*f).to_owned())
            .collect(),
        wrapper: Vec::new(),
        env: Vec::new(),
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || {
            given
                .next()
                .ok_or_else(|| BenchError::new(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--bin-dir" => args.bin_dir = PathBuf::from(value()?),
            "--profile" => args.profile = value()?,
            "--cold-starts" => {
                args.cold_starts = value()?
                    .parse()
                    .map_err(BenchError::from_display("--cold-starts"))?
            }
            "--invocations" => {
                args.invocations = value()?
                    .parse()
                    .map_err(BenchError::from_display("--invocations"))?
            }
            "--wrapper" => {
                args.wrapper = value()?.split_whitespace().map(str::to_owned).collect();
            }
            "--env" => {
                let pair = value()?;
                let (name, val) = pair
                    .split_once('=')
                    .ok_or_else(|| BenchError::new(format!("--env expects NAME=VALUE, got `{pair}`")))?;
                args.env.push((name.to_owned(), val.to_owned()));
            }
            "--functions" => {
                args.functions = value()?.split(',').map(str::to_owned).collect();
            }
            other => {
                return Err(BenchError::new(format!(
                "unknown argument `{other}` (expected --bin-dir, --profile, --cold-starts, --invocations, --functions, --wrapper, --env)"
            )))
            }
        }
    }
    if args.bin_dir.as_os_str().is_empty() {
        return Err(BenchError::new(
            "--bin-dir is required (e.g. $CARGO_TARGET_DIR/release)",
        ));
    }
    if args.cold_starts < 2 {
        return Err(BenchError::new(
            "--cold-starts must be at least 2 (one run serves, the others measure init alone)",
        ));
    }
    Ok(args)
}

/// The seeded store every function starts on, and what the requests need.
struct World {
    portal: TestContext,
    client: shared::domain::client::Client,
    secret: String,
    patient: shared::domain::patient::Patient,
    appointment: String,
}

async fn seed() -> Result<World, BenchError> {
    let portal = portal();
    let (client, secret) = portal.client().await;
    let patient = portal.patient().await;
    let catalog = portal.load_demo_catalog(None).await;
    // One appointment (for the `asap` request), booked through the real booking handler.
    let ids = portal.availability_ids(&catalog, 3, 17);
    let availability = ids
        .last()
        .ok_or_else(|| BenchError::new("no bookable slot in the demo catalog"))?;
    let token = portal.access_token(patient.id.as_str(), PORTAL_SCOPE);
    let request = Event::post(&format!("{API}/booking"))
        .bearer(&token)
        .json(&book_request(availability))
        .request();
    let response = booking_fn::App::new(portal.function(shared::keys::Role::Booking))
        .handle(request)
        .await;
    let body: serde_json::Value =
        serde_json::from_slice(response.body().as_ref()).unwrap_or_default();
    if response.status() != 201 {
        return Err(BenchError::new(format!(
            "seeding an appointment answered {}: {body}",
            response.status()
        )));
    }
    let appointment = body["id"].as_str().unwrap_or_default().to_owned();
    Ok(World {
        portal,
        client,
        secret,
        patient,
        appointment,
    })
}

/// The same request every time.
struct Repeat {
    event: String,
    left: u64,
}

impl Scenario for Repeat {
    fn next_event(&mut self) -> Option<String> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        Some(self.event.clone())
    }
    fn on_response(&mut self, _status: u16, _headers: &serde_json::Value, _body: &[u8]) {}
}

/// A sign-in as a browser starts it: the authorization request (a 303 to the login page), then
/// the login page itself, alternately.
struct SignIn {
    authorize: String,
    login: Option<String>,
    left: u64,
}

impl Scenario for SignIn {
    fn next_event(&mut self) -> Option<String> {
        if self.left == 0 {
            return None;
        }
        let event = match self.login.take() {
            Some(location) => Event::get(&location),
            None => Event::get(&self.authorize),
        };
        self.left -= 1;
        Some(event.to_text())
    }
    fn on_response(&mut self, _status: u16, headers: &serde_json::Value, _body: &[u8]) {
        // The login page's address, as a path (the issuer is this local portal).
        self.login = headers["location"]
            .as_str()
            .map(|location| location.trim_start_matches(ISSUER).to_owned())
            .filter(|path| path.starts_with("/oauth/login"));
    }
}

/// A code exchange, then refreshes, each with the refresh token the previous one returned.
struct TokenChain {
    code: Option<String>,
    basic: String,
    refresh_token: String,
    left: u64,
}

impl Scenario for TokenChain {
    fn next_event(&mut self) -> Option<String> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let form: Vec<(&str, &str)> = match &self.code {
            Some(code) => vec![
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", oauth::REDIRECT),
                ("code_verifier", oauth::VERIFIER),
            ],
            None => vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &self.refresh_token),
            ],
        };
        let event = Event::post("/oauth/token")
            .form(&form)
            .header("authorization", &self.basic);
        self.code = None;
        Some(event.to_text())
    }
    fn on_response(&mut self, _status: u16, _headers: &serde_json::Value, body: &[u8]) {
        let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        if let Some(token) = value["refresh_token"].as_str() {
            self.refresh_token = token.to_owned();
        }
    }
}

/// The representative request of a function, and a description of it.
fn scenario(
    world: &World,
    function: &str,
    invocations: u64,
) -> Result<(Box<dyn Scenario>, String), BenchError> {
    let portal = &world.portal;
    let patient = world.patient.id.as_str();
    let repeat = |event: Event| -> Box<dyn Scenario> {
        Box::new(Repeat {
            event: event.to_text(),
            left: invocations,
        })
    };
    Ok(match function {
        "authorize" => {
            (
                Box::new(SignIn {
                    authorize: oauth::authorize_path(
                        world.client.id.as_str(),
                        oauth::REDIRECT,
                        "openid email appointment_read",
                        &[],
                    ),
                    login: None,
                    left: invocations,
                }),
                "GET /oauth/authorize (303), then the login page it names (200), alternately"
                    .to_owned(),
            )
        }
        "token" => (
            Box::new(TokenChain {
                code: Some(portal.code(&world.client, &world.patient, oauth::APP_SCOPE)),
                basic: oauth::basic(world.client.id.as_str(), &world.secret),
                refresh_token: String::new(),
                left: invocations,
            }),
            "POST /oauth/token: one code exchange, then refresh after refresh".to_owned(),
        ),
        "userinfo" => (
            repeat(Event::get("/oauth/userinfo").bearer(&portal.access_token(patient, "openid email"))),
            "GET /oauth/userinfo with a valid access token".to_owned(),
        ),
        "booking" => (
            repeat(
                Event::get(&format!(
                    "{API}/availabilities?category_id={CATEGORY}&type_id={TYPE}&insurance_id={INSURANCE}&from={}&limit=200",
                    days_ahead(3)
                ))
                .bearer(&portal.access_token(patient, PORTAL_SCOPE)),
            ),
            "GET availabilities, 2 weeks of type 198 (~170 slots)".to_owned(),
        ),
        "asap" => (
            repeat(
                Event::get(&format!(
                    "{API}/appointments/{}/earlier_availability",
                    world.appointment
                ))
                .bearer(&portal.access_token(patient, PORTAL_SCOPE)),
            ),
            "GET earlier_availability of a booked appointment".to_owned(),
        ),
        MINIMAL_FUNCTION => (
            repeat(Event::get("/")),
            "GET / (the reference: answers 200 ok)".to_owned(),
        ),
        other => return Err(BenchError::new(format!("no scenario for function `{other}`"))),
    })
}

fn spawn(
    args: &Args,
    binary: &Path,
    function: &str,
    world: &World,
    runtime_api: &str,
    log: &Path,
) -> Result<Child, BenchError> {
    let mut env = vec![
        (
            "PORTAL_STORE".to_owned(),
            format!("sqlite:{}", world.portal.database().display()),
        ),
        (
            "PORTAL_DATA_DIR".to_owned(),
            world.portal.data_dir().display().to_string(),
        ),
        ("PORTAL_ISSUER".to_owned(), ISSUER.to_owned()),
    ];
    env.extend(args.env.iter().cloned());
    Launch {
        binary,
        function,
        runtime_api,
        env: &env,
        wrapper: &args.wrapper,
        log,
    }
    .spawn()
}

fn pid_of(child: &Child) -> Result<u32, BenchError> {
    child
        .id()
        .ok_or_else(|| BenchError::new("the function already exited"))
}

struct Run {
    init_ms: f64,
    init_cpu_ms: Option<f64>,
    cpu_ms: f64,
    rss_after_init_kb: Option<u64>,
    serve: Option<(f64, u64, std::collections::BTreeMap<u16, u64>)>,
    peak_rss_kb: u64,
}

/// One cold start; with `serve`, it then serves that many invocations of the function's request.
async fn run_once(
    args: &Args,
    binary: &Path,
    function: &str,
    world: &World,
    serve: Option<u64>,
    log: &Path,
) -> Result<Run, BenchError> {
    let (scenario, _) = scenario(world, function, serve.unwrap_or(0))?;
    let mut stub = RuntimeStub::start(function, scenario).await?;
    let started = Instant::now();
    let mut child = spawn(args, binary, function, world, &stub.address(), log)?;
    let waited = tokio::select! {
        exit = child.wait() => Err(BenchError::new(format!(
            "{function} exited ({}) before asking for an event; see {}",
            exit.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
            log.display()
        ))),
        progress = stub.wait_until(Duration::from_secs(20), |p| p.first_next.is_some()) => progress,
    };
    let first_next = waited?
        .first_next
        .ok_or_else(|| BenchError::new("no first `next`"))?;
    let init_ms = first_next.duration_since(started).as_secs_f64() * 1000.0;
    let mut run = Run {
        init_ms,
        init_cpu_ms: None,
        cpu_ms: 0.0,
        rss_after_init_kb: None,
        serve: None,
        peak_rss_kb: 0,
    };
    match serve {
        None => {
            // `next` is being held: the process is idle, exactly at the end of its init.
            run.rss_after_init_kb = Some(peak_rss_kb(pid_of(&child)?)?);
            run.init_cpu_ms = Some(schedstat_cpu_ms(pid_of(&child)?)?);
            run.peak_rss_kb = run.rss_after_init_kb.unwrap_or_default();
        }
        Some(invocations) => {
            let waited = tokio::select! {
                exit = child.wait() => Err(BenchError::new(format!(
                    "{function} exited ({}) while serving; see {}",
                    exit.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
                    log.display()
                ))),
                progress = stub.wait_until(Duration::from_secs(300), |p| p.responses >= invocations) => progress,
            };
            let progress = waited?;
            let serve_ms = first_next.elapsed().as_secs_f64() * 1000.0;
            run.peak_rss_kb = peak_rss_kb(pid_of(&child)?)?;
            run.cpu_ms = schedstat_cpu_ms(pid_of(&child)?)?;
            run.serve = Some((serve_ms, progress.responses, progress.statuses));
        }
    }
    if !args.wrapper.is_empty() {
        // A wrapper (perf, strace) gets SIGTERM first, so it can write out what it recorded.
        if let Some(pid) = child.id().and_then(|pid| i32::try_from(pid).ok()) {
            // SAFETY: plain kill(2) on the process this harness started and still owns.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        }
    }
    child
        .kill()
        .await
        .map_err(BenchError::from_display("stopping the function"))?;
    Ok(run)
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

async fn measure(
    args: &Args,
    world: &World,
    function: &str,
) -> Result<ColdStartRecord, BenchError> {
    let binary = args.bin_dir.join(function);
    let size_bytes = std::fs::metadata(&binary)
        .map_err(|e| {
            BenchError::new(format!(
                "{}: {e} (build it: cargo build --profile {} --bins -p {function})",
                binary.display(),
                args.profile
            ))
        })?
        .len();
    let logs = results::out_dir().join("coldstart-logs");
    std::fs::create_dir_all(&logs).map_err(BenchError::from_display("creating the log folder"))?;
    let mut record = ColdStartRecord {
        binary: binary.display().to_string(),
        profile: args.profile.clone(),
        size_bytes,
        invocations: args.invocations,
        ..ColdStartRecord::default()
    };
    record.request = scenario(world, function, 0)?.1;
    let mut serving_cpu_ms = 0.0;
    for attempt in 0..args.cold_starts {
        let serving = attempt + 1 == args.cold_starts;
        let log = logs.join(format!("{function}-{attempt}.log"));
        let run = run_once(
            args,
            &binary,
            function,
            world,
            serving.then_some(args.invocations),
            &log,
        )
        .await?;
        record.init_ms.push(run.init_ms);
        record.init_cpu_ms.extend(run.init_cpu_ms);
        if let Some(rss) = run.rss_after_init_kb {
            record.rss_after_init_kb = record.rss_after_init_kb.max(rss);
        }
        if let Some((serve_ms, _, statuses)) = run.serve {
            record.serve_ms = serve_ms;
            record.statuses = statuses;
            record.peak_rss_kb = run.peak_rss_kb;
            serving_cpu_ms = run.cpu_ms;
        }
    }
    record.init_median_ms = median(&record.init_ms);
    record.init_cpu_median_ms = median(&record.init_cpu_ms);
    record.cpu_per_invocation_us = (serving_cpu_ms - record.init_cpu_median_ms).max(0.0) * 1000.0
        / record.invocations.max(1) as f64;
    Ok(record)
}

async fn run() -> Result<(), BenchError> {
    let args = parse_args()?;
    let world = seed().await?;
    let out = results::out_dir().join(COLDSTART_FILE);
    for function in &args.functions {
        let record = measure(&args, &world, function).await?;
        println!(
            "coldstart {function:<9} init median {:>6.1} ms (target {INIT_TARGET_MS} ms, CPU {:.1} ms) over {:?}; \
             peak RSS {:>6.1} MiB after {} invocations (target {} MiB), {:.0} µs CPU each; statuses {:?}",
            record.init_median_ms,
            record.init_cpu_median_ms,
            record
                .init_ms
                .iter()
                .map(|ms| (ms * 10.0).round() / 10.0)
                .collect::<Vec<_>>(),
            record.peak_rss_kb as f64 / 1024.0,
            record.invocations,
            RSS_TARGET_KB / 1024,
            record.cpu_per_invocation_us,
            record.statuses,
        );
        results::update(&out, function, record)?;
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("coldstart: {error}");
        std::process::exit(1);
    }
}
