//! `portal-admin keys init | rotate | sync`: the operator's side of the keys. The flows are
//! [`shared::keys::KeyStore`]'s; this module parses the command and prints what happened.

use clap::Subcommand;
use shared::config::Config;
use shared::keys::timing::PUBLICATION_DELAY_SECS;
use shared::keys::{KeyState, KeyStore};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create the first keys (a fresh stack's secrets after the first deploy, or the local folder).
    /// Refuses when keys already exist: use `keys rotate` then.
    Init,
    /// Rotate every key: publish-then-activate.
    ///
    /// Activates the keys the previous rotation (or `keys init`) published as "next" — the token
    /// signing key, the video join-link key, the sealing keys — and publishes new next keys, which
    /// the following rotation activates. So every key is in the JWKS and in every function's key
    /// document at least 2 h 20 min (API Gateway's JWKS cache of up to 2 h, plus the functions'
    /// 15-minute key reload and the JWKS's 5-minute HTTP cache) before anything signs or seals
    /// with it; a rotation sooner than that is refused unless --force.
    ///
    /// Retired signing keys stay published until tokens they signed have expired; retired sealing
    /// keys stay until everything sealed with them has (refresh tokens: 30 days; ETags and mailed
    /// links: up to the booking horizon, a year). Keys retired longer ago are dropped. Running
    /// functions switch within 15 minutes, without a restart. Run one rotation at a time.
    #[command(verbatim_doc_comment)]
    Rotate {
        /// Rotate even though the keys to activate were published less than 2 h 20 min ago (a
        /// compromised key). Verifiers with an older JWKS refuse new tokens until they refresh it.
        #[arg(long)]
        force: bool,
    },
    /// Rewrite every function's key document from the operator's, dropping expired keys (after a
    /// rotation that failed half-way, or to prune without rotating).
    Sync,
}

/// Runs a `keys` subcommand.
pub async fn run(config: &Config, command: KeysCommand, json: bool) -> Result<(), String> {
    let store = KeyStore::from_config(config)
        .await
        .map_err(|e| e.to_string())?;
    let now = shared::store::now_unix();
    let location = store.describe();
    let unfinished = |e: shared::keys::KeyError| {
        format!("{e}\n(if some documents were written, `portal-admin keys sync` finishes the job)")
    };
    match command {
        KeysCommand::Init => {
            let keys = store.init(now).await.map_err(|e| e.to_string())?;
            let active = keys.token_kids(KeyState::Active).join(",");
            let next = keys.token_kids(KeyState::Next).join(",");
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "active_kid": active, "next_kid": next, "source": location })
                );
            } else {
                println!("keys created ({location})");
                println!("  active kid: {active}");
                println!("  next kid:   {next} (published; the first rotation activates it)");
            }
        }
        KeysCommand::Rotate { force } => {
            let (keys, rotation) = match store.rotate(now, force).await {
                Ok(done) => done,
                Err(error @ shared::keys::KeyError::TooSoon { .. }) => {
                    return Err(error.to_string())
                }
                Err(error) => return Err(unfinished(error)),
            };
            let published: Vec<&str> = keys.token_signing.iter().map(|k| k.kid()).collect();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "active_kid": rotation.activated_kid,
                        "previous_kid": rotation.retired_kid,
                        "next_kid": rotation.next_kid,
                        "published_kids": published,
                        "video_kid": rotation.activated_video_kid,
                        "sealing_id": rotation.activated_sealing_id,
                        "removed": rotation.removed,
                        "forced": force,
                        "source": location,
                    })
                );
            } else {
                println!("keys rotated ({location})");
                println!(
                    "  active kid:     {} (published since the previous rotation)",
                    rotation.activated_kid
                );
                println!(
                    "  previous kid:   {} (stays published until its tokens expire)",
                    rotation.retired_kid
                );
                println!(
                    "  next kid:       {} (published now; the next rotation activates it, not before {} min)",
                    rotation.next_kid,
                    PUBLICATION_DELAY_SECS / 60
                );
                println!("  video kid:      {}", rotation.activated_video_kid);
                println!(
                    "  sealing keys:   generation {}",
                    rotation.activated_sealing_id
                );
                for id in &rotation.removed {
                    println!("  removed:        {id} (nothing it made can be presented any more)");
                }
                println!("  running functions switch within 15 minutes");
            }
        }
        KeysCommand::Sync => {
            let removed = store.sync(now).await.map_err(unfinished)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "removed": removed, "source": location })
                );
            } else {
                println!("key documents rewritten ({location})");
                for id in &removed {
                    println!("  removed: {id}");
                }
            }
        }
    }
    Ok(())
}
