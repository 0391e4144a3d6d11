//! `booking-client`: sign a patient in to MyPatientPortal in the browser and walk through the
//! booking API. With `make run` up in another terminal:
//!
//! ```sh
//! cargo run -p booking-client -- --client-id demo-client --client-secret demo-secret-for-local-runs-only
//! ```

use std::process::{ExitCode, Stdio};
use std::time::Duration;

use booking_client::{run, Config, Loopback, DEFAULT_ISSUER, DEFAULT_REDIRECT_PORT};
use clap::Parser;
use url::Url;

/// Signs a patient in with OpenID Connect (discovery, PKCE, loopback redirect) and books,
/// reschedules and cancels an appointment through /api/portal/v1.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// The portal's issuer URL (discovery is read from it).
    #[arg(long, env = "BOOKING_CLIENT_ISSUER", default_value = DEFAULT_ISSUER)]
    issuer: String,
    /// The registered client id (`make run` prints the demo client's).
    #[arg(long, env = "BOOKING_CLIENT_ID")]
    client_id: String,
    /// The client secret; omit it for a public client (PKCE only). Prefer the environment variable,
    /// which keeps the secret out of the shell history and the process list.
    #[arg(long, env = "BOOKING_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Loopback port of the redirect URI http://127.0.0.1:PORT/callback; it must be registered for
    /// the client exactly (the demo client registers 8080).
    #[arg(long, default_value_t = DEFAULT_REDIRECT_PORT)]
    redirect_port: u16,
    /// Only print the authorization URL; do not try to open a browser.
    #[arg(long)]
    no_open: bool,
    /// Insurance of the walkthrough.
    #[arg(long, default_value_t = 136)]
    insurance_id: i64,
    /// Appointment category of the walkthrough.
    #[arg(long, default_value_t = 53)]
    category_id: i64,
    /// Appointment type of the walkthrough.
    #[arg(long, default_value_t = 198)]
    type_id: i64,
    /// Search availabilities from this many days ahead (outside the cancellation notice period).
    #[arg(long, default_value_t = 3)]
    days_ahead: u32,
    /// Seconds to wait for the sign-in in the browser.
    #[arg(long, default_value_t = 300)]
    login_timeout: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = Config::new(&cli.issuer, &cli.client_id, cli.client_secret);
    config.insurance_id = cli.insurance_id;
    config.category_id = cli.category_id;
    config.type_id = cli.type_id;
    config.days_ahead = cli.days_ahead;
    config.login_timeout = Duration::from_secs(cli.login_timeout);
    let no_open = cli.no_open;

    let result = match Loopback::bind(cli.redirect_port).await {
        Ok(loopback) => {
            let open = move |url: Url| async move {
                if !no_open {
                    open_browser(&url);
                }
                Ok(())
            };
            run(&config, loopback, open, &mut std::io::stdout()).await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(done) => {
            if let Err(failure) = &done.earlier_availability {
                eprintln!("note: the earlier-availability step failed: {failure}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("booking-client: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Tries `xdg-open`; without a desktop the printed URL is the way in, so failure is fine.
fn open_browser(url: &Url) {
    let _ = std::process::Command::new("xdg-open")
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
