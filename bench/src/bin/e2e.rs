//! `make bench-e2e`: whole OAuth flows through the functions' release binaries (behind a local
//! API Gateway, SQLite store) and through node's oidc-provider, interleaved A B A B, with the
//! same load generator; see `portal_bench::e2e` and docs/performance.md ("End to end").
//!
//! ```text
//! e2e --bin-dir $CARGO_TARGET_DIR/bench-release [--flows 400] [--rounds 2] [--clients 1,4]
//!     [--node node] [--dynamo-endpoint http://127.0.0.1:PORT] [--dynamo-flows 100]
//! ```
//!
//! With `--dynamo-endpoint` (moto), the same flow also runs against a second set of the three
//! functions on the DynamoDB store, 1 client, interleaved with the SQLite portal. Its rounds are
//! shorter (`--dynamo-flows`, default a quarter of `--flows`): moto copies the whole table for
//! every transaction, so its latency grows with every flow; the functions' CPU per flow does not.
//!
//! Each portal round is followed by as many GETs to the empty `lambda_http` function
//! (`bench/minimal`, behind a gateway of its own): what an invocation costs here before a function
//! does anything, reported beside the portal's non-signing CPU per request.
//!
//! Writes `<out>/e2e.json` and `<out>/e2e.md` and prints the table.

use std::path::PathBuf;
use std::sync::Arc;

use loadgen::http::Stats;
use loadgen::oauth::{Account, App, Driver, Endpoints};
use portal_bench::e2e::report::{self, Run, REQUESTS};
use portal_bench::e2e::{self, floor, peer, CpuProbe, Round};
use portal_bench::gateway::Gateway;
use portal_bench::ops::MINIMAL_FUNCTION;
use portal_bench::process::{peak_rss_kb, process_cpu_ms, Launch};
use portal_bench::{results, BenchError};
use shared::domain::client::{Client, RedirectUri};
use shared::keys::SigningAlg;
use shared::repo::ClientRepo;
use shared::scope::Scopes;
use testkit::{oauth, patients, TestContext};
use tokio::process::Child;

/// The functions one flow goes through.
const FUNCTIONS: [&str; 3] = ["authorize", "token", "userinfo"];
/// What the portal's app asks for (an identity claim, so authorize reads the profile, and a
/// portal scope, so a refresh token is issued), as an app of the portal would.
const PORTAL_SCOPE: &str = "openid email appointment_read";
/// The bench patient's password.
const PASSWORD: &str = "bench-e2e-password-42";
/// Storage round trips of one flow, as the handler tests count them with `CountingStore`:
/// authorize with a live session 2 (client + session, then consent + profile, each pair one
/// batched read; tests/tests/authorize_handler/flow.rs), code exchange 1, userinfo 2 (the read and
/// its access record), refresh 1.
const ROUND_TRIPS_PER_FLOW: f64 = 6.0;

struct Args {
    bin_dir: PathBuf,
    flows: u64,
    rounds: usize,
    clients: Vec<usize>,
    node: String,
    dynamo_endpoint: Option<String>,
    dynamo_flows: Option<u64>,
}

fn parse_args() -> Result<Args, BenchError> {
    let mut args = Args {
        bin_dir: PathBuf::new(),
        flows: 400,
        rounds: 2,
        clients: vec![1, 4],
        node: "node".to_owned(),
        dynamo_endpoint: None,
        dynamo_flows: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given
            .next()
            .ok_or_else(|| BenchError::new(format!("{flag} needs a value")))?;
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| BenchError::new(format!("{flag}: `{v}` is not a number")))
        };
        match flag.as_str() {
            "--bin-dir" => args.bin_dir = PathBuf::from(value),
            "--flows" => args.flows = number(&value)?,
            "--rounds" => args.rounds = number(&value)? as usize,
            "--clients" => {
                args.clients = value
                    .split(',')
                    .map(|n| number(n).map(|n| n.max(1) as usize))
                    .collect::<Result<_, _>>()?
            }
            "--node" => args.node = value,
            "--dynamo-endpoint" => args.dynamo_endpoint = Some(value),
            "--dynamo-flows" => args.dynamo_flows = Some(number(&value)?.max(1)),
            other => return Err(BenchError::new(format!("unknown flag {other}"))),
        }
    }
    if args.bin_dir.as_os_str().is_empty() {
        return Err(BenchError::new("--bin-dir is required"));
    }
    Ok(args)
}

/// The portal side: a seeded folder, the gateway and the three function processes.
struct Portal {
    /// Held for its folder: the store and the keys the functions use.
    _folder: TestContext,
    gateway: Gateway,
    functions: Vec<(&'static str, Child)>,
    rs256: App,
    es256: App,
    account: Account,
}

fn route(path: &str) -> Option<&'static str> {
    match path {
        "/oauth/authorize" | "/oauth/login" | "/oauth/consent" => Some("authorize"),
        "/oauth/token" => Some("token"),
        _ => Some("userinfo"),
    }
}

async fn app(store: &shared::store::SharedStore, alg: SigningAlg) -> Result<App, BenchError> {
    let redirect = RedirectUri::parse(oauth::REDIRECT).map_err(BenchError::from_display("uri"))?;
    let (client, secret) = Client::new_confidential("Bench app", vec![redirect], Scopes::all())
        .map_err(BenchError::from_display("client"))?;
    let client = client.with_id_token_alg(alg);
    ClientRepo::new(store.clone())
        .create(&client)
        .await
        .map_err(BenchError::from_display("storing the client"))?;
    Ok(App {
        client_id: client.id.to_string(),
        client_secret: Some(secret),
        redirect_uri: oauth::REDIRECT.to_owned(),
        scope: PORTAL_SCOPE.to_owned(),
    })
}

/// Where the functions keep their data: the folder's SQLite file, or a DynamoDB table (moto).
enum Storage {
    Sqlite,
    Dynamo { endpoint: String },
}

async fn start_portal(args: &Args, storage: &Storage) -> Result<Portal, BenchError> {
    let context = portal_bench::portal();
    let mut env = vec![(
        "PORTAL_DATA_DIR".to_owned(),
        context.data_dir().display().to_string(),
    )];
    let store: shared::store::SharedStore = match storage {
        Storage::Sqlite => {
            env.push((
                "PORTAL_STORE".to_owned(),
                format!("sqlite:{}", context.database().display()),
            ));
            context.store()
        }
        Storage::Dynamo { endpoint } => {
            let table = format!(
                "bench-e2e-{}",
                shared::crypto::random_id(8).to_ascii_lowercase()
            );
            let client = shared::store::dynamo::client(Some(endpoint.as_str())).await;
            shared::store::dynamo::DynamoStore::create_table(&client, &table)
                .await
                .map_err(BenchError::from_display("creating the DynamoDB table"))?;
            let store =
                shared::store::dynamo::DynamoStore::connect(&table, Some(endpoint.as_str()))
                    .await
                    .map_err(BenchError::from_display("connecting to DynamoDB"))?;
            env.extend(
                [
                    ("PORTAL_STORE", format!("dynamodb:{table}")),
                    ("PORTAL_AWS_ENDPOINT", endpoint.clone()),
                    ("AWS_ACCESS_KEY_ID", "bench".to_owned()),
                    ("AWS_SECRET_ACCESS_KEY", "bench".to_owned()),
                ]
                .map(|(k, v)| (k.to_owned(), v)),
            );
            Arc::new(store)
        }
    };
    let email = format!(
        "e2e.{}@example.org",
        shared::crypto::random_id(8).to_ascii_lowercase()
    );
    let mut patient = patients::patient(&email, None);
    patient.email_verified = true;
    patients::register(&store, &patient, Some(PASSWORD)).await;
    let rs256 = app(&store, SigningAlg::RS256).await?;
    let es256 = app(&store, SigningAlg::ES256).await?;
    let gateway = Gateway::start(&FUNCTIONS, route)?;
    let logs = results::out_dir().join("e2e-logs");
    std::fs::create_dir_all(&logs).map_err(BenchError::from_display("creating the log folder"))?;
    env.push(("PORTAL_ISSUER".to_owned(), gateway.url()));
    let suffix = match storage {
        Storage::Sqlite => "",
        Storage::Dynamo { .. } => "-dynamodb",
    };
    let mut functions = Vec::new();
    for function in FUNCTIONS {
        let runtime_api = gateway
            .runtime_api(function)
            .ok_or_else(|| BenchError::new("no runtime API"))?;
        let child = Launch {
            binary: &args.bin_dir.join(function),
            function,
            runtime_api: &runtime_api,
            env: &env,
            wrapper: &[],
            log: &logs.join(format!("{function}{suffix}.log")),
        }
        .spawn()?;
        functions.push((function, child));
    }
    Ok(Portal {
        _folder: context,
        gateway,
        functions,
        rs256,
        es256,
        account: Account {
            email,
            password: PASSWORD.to_owned(),
        },
    })
}

/// The empty `lambda_http` function (bench/minimal) behind a gateway of its own.
struct Empty {
    gateway: Gateway,
    child: Child,
}

fn to_the_empty_function(_path: &str) -> Option<&'static str> {
    Some(MINIMAL_FUNCTION)
}

fn start_empty(args: &Args) -> Result<Empty, BenchError> {
    let gateway = Gateway::start(&[MINIMAL_FUNCTION], to_the_empty_function)?;
    let runtime_api = gateway
        .runtime_api(MINIMAL_FUNCTION)
        .ok_or_else(|| BenchError::new("no runtime API"))?;
    let logs = results::out_dir().join("e2e-logs");
    std::fs::create_dir_all(&logs).map_err(BenchError::from_display("creating the log folder"))?;
    let child = Launch {
        binary: &args.bin_dir.join(MINIMAL_FUNCTION),
        function: MINIMAL_FUNCTION,
        runtime_api: &runtime_api,
        env: &[],
        wrapper: &[],
        log: &logs.join(format!("{MINIMAL_FUNCTION}.log")),
    }
    .spawn()?;
    Ok(Empty { gateway, child })
}

fn pid(child: &Child) -> Result<u32, BenchError> {
    child
        .id()
        .ok_or_else(|| BenchError::new("a function exited (see <out>/e2e-logs)"))
}

fn probe(pid: u32) -> CpuProbe {
    Box::new(move || process_cpu_ms(pid))
}

/// `count` signed-in drivers of `app`.
async fn drivers(
    base: &str,
    app: &App,
    account: &Account,
    endpoints: Endpoints,
    stats: &Arc<Stats>,
    count: usize,
) -> Result<Vec<Arc<Driver>>, BenchError> {
    let mut drivers = Vec::new();
    for _ in 0..count {
        let driver = Driver::new(base, app.clone(), account.clone(), stats.clone())
            .map_err(BenchError::new)?
            .with_endpoints(endpoints.clone());
        driver
            .sign_in()
            .await
            .map_err(|e| BenchError::new(format!("signing in at {base}: {e}")))?;
        drivers.push(Arc::new(driver));
    }
    Ok(drivers)
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

async fn run() -> Result<(), BenchError> {
    let args = parse_args()?;
    let most = args.clients.iter().copied().max().unwrap_or(1);
    let mut run = Run {
        load: (
            load_average(),
            0.0,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
        ),
        ..Run::default()
    };
    let portal = start_portal(&args, &Storage::Sqlite).await?;
    let peer_dir = peer::default_dir();
    let peer = peer::Peer::start(&peer_dir, &args.node, free_port()?).await?;
    let stats = Arc::new(Stats::default());
    let base = portal.gateway.url();
    let portal_drivers = drivers(
        &base,
        &portal.rs256,
        &portal.account,
        Endpoints::portal(),
        &stats,
        most,
    )
    .await?;
    let es256_drivers = drivers(
        &base,
        &portal.es256,
        &portal.account,
        Endpoints::portal(),
        &stats,
        1,
    )
    .await?;
    let peer_app = App {
        client_id: peer::CLIENT_ID.to_owned(),
        client_secret: Some(peer::CLIENT_SECRET.to_owned()),
        redirect_uri: peer::REDIRECT_URI.to_owned(),
        scope: peer::SCOPE.to_owned(),
    };
    let peer_drivers = drivers(
        peer.issuer(),
        &peer_app,
        &portal.account,
        Endpoints::oidc_provider(),
        &stats,
        most,
    )
    .await?;

    let function_probes: Vec<CpuProbe> = portal
        .functions
        .iter()
        .map(|(_, child)| pid(child).map(probe))
        .collect::<Result<_, _>>()?;
    let gateway_stat = portal.gateway.cpu_stat_path();
    let gateway_probe: CpuProbe =
        Box::new(move || portal_bench::process::stat_cpu_ms(&gateway_stat));
    let peer_probe = vec![probe(peer.pid()?)];
    let empty = start_empty(&args)?;
    let empty_probe = probe(pid(&empty.child)?);
    let empty_url = format!("{}/", empty.gateway.url());
    let empty_client = reqwest::Client::new();

    // Warm-up, not measured: node's JIT, the functions' first requests.
    let warm = args.flows / 4;
    let dynamo_flows = args.dynamo_flows.unwrap_or(warm.max(1));
    e2e::round(
        "warm-up",
        &portal_drivers[..1],
        &stats,
        warm,
        &function_probes,
        None,
    )
    .await?;
    e2e::round(
        "warm-up",
        &peer_drivers[..1],
        &stats,
        warm,
        &peer_probe,
        None,
    )
    .await?;
    e2e::floor_round(&empty_client, &empty_url, warm, &empty_probe).await?;

    let dynamo = match &args.dynamo_endpoint {
        Some(endpoint) => {
            let storage = Storage::Dynamo {
                endpoint: endpoint.clone(),
            };
            let dynamo = start_portal(&args, &storage).await?;
            let drivers = drivers(
                &dynamo.gateway.url(),
                &dynamo.rs256,
                &dynamo.account,
                Endpoints::portal(),
                &stats,
                1,
            )
            .await?;
            let probes: Vec<CpuProbe> = dynamo
                .functions
                .iter()
                .map(|(_, child)| pid(child).map(probe))
                .collect::<Result<_, _>>()?;
            e2e::round("warm-up", &drivers, &stats, dynamo_flows / 4, &probes, None).await?;
            Some((dynamo, drivers, probes))
        }
        None => None,
    };
    run.round_trips_per_flow = ROUND_TRIPS_PER_FLOW;

    run.rs256_sign_us = floor::openssl_sign_us("rsa2048").await?;
    run.es256_sign_us = floor::openssl_sign_us("ecdsap256").await?;
    run.node_sign_us = peer::node_sign_us(&peer_dir, &args.node).await?;

    for number in 0..args.rounds {
        for &clients in &args.clients {
            println!(
                "round {}: portal, oidc-provider; {clients} client(s)",
                number + 1
            );
            let a = e2e::round(
                "portal",
                &portal_drivers[..clients],
                &stats,
                args.flows,
                &function_probes,
                Some(&gateway_probe),
            )
            .await?;
            let b = e2e::round(
                "oidc-provider",
                &peer_drivers[..clients],
                &stats,
                args.flows,
                &peer_probe,
                None,
            )
            .await?;
            run.rounds.extend([a, b]);
            // As many invocations as the portal's round had (4 per flow).
            run.floor.push(
                e2e::floor_round(
                    &empty_client,
                    &empty_url,
                    args.flows * REQUESTS as u64,
                    &empty_probe,
                )
                .await?,
            );
        }
        println!(
            "round {}: portal-es256, portal-dynamodb; 1 client",
            number + 1
        );
        run.rounds.push(
            e2e::round(
                "portal-es256",
                &es256_drivers,
                &stats,
                args.flows,
                &function_probes,
                Some(&gateway_probe),
            )
            .await?,
        );
        if let Some((_, drivers, probes)) = &dynamo {
            run.rounds.push(
                e2e::round(
                    "portal-dynamodb",
                    drivers,
                    &stats,
                    dynamo_flows,
                    probes,
                    None,
                )
                .await?,
            );
        }
    }
    let mut sides: Vec<(String, usize)> = run
        .rounds
        .iter()
        .map(|r| (r.side.clone(), r.clients))
        .collect();
    sides.sort();
    sides.dedup();
    run.combined = sides
        .iter()
        .filter_map(|(side, clients)| {
            let rounds: Vec<&Round> = run
                .rounds
                .iter()
                .filter(|r| &r.side == side && r.clients == *clients)
                .collect();
            e2e::combine(&rounds)
        })
        .collect();
    for (function, child) in &portal.functions {
        run.rss_kb
            .push(((*function).to_owned(), peak_rss_kb(pid(child)?)?));
    }
    if let Some((dynamo, _, _)) = &dynamo {
        for (function, child) in &dynamo.functions {
            run.rss_kb
                .push((format!("{function} (DynamoDB)"), peak_rss_kb(pid(child)?)?));
        }
    }
    run.rss_kb
        .push(("oidc-provider".to_owned(), peak_rss_kb(peer.pid()?)?));
    run.rss_kb.push((
        format!("{MINIMAL_FUNCTION} (empty function)"),
        peak_rss_kb(pid(&empty.child)?)?,
    ));
    run.load.1 = load_average();

    let text = report::markdown(&run);
    print!("{text}");
    let out = results::out_dir();
    let json = serde_json::to_string_pretty(&run).map_err(BenchError::from_display("json"))?;
    std::fs::write(out.join("e2e.json"), json).map_err(BenchError::from_display("e2e.json"))?;
    std::fs::write(out.join("e2e.md"), text).map_err(BenchError::from_display("e2e.md"))?;
    Ok(())
}

fn free_port() -> Result<u16, BenchError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(BenchError::from_display("finding a free port"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("e2e: {error}");
        std::process::exit(1);
    }
}
