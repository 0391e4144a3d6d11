//! `portal-admin catalog load FILE`: validate a catalog document and make it the current catalog.

use std::path::Path;

use shared::asap::Notifier;
use shared::booking::{BookingRepo, Catalog};
use shared::config::{AsapDispatch, Config};

/// Largest catalog file read (the stored JSON form must stay well under DynamoDB's item limit).
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// Reads and validates `path` (YAML or JSON) before touching the store, then replaces the stored
/// catalog in one write. Every validation problem is reported, each naming its entry.
pub async fn load(config: &Config, path: &Path, json: bool) -> Result<(), String> {
    let catalog = read(path)?;
    let store = shared::boot::connect_store(config)
        .await
        .map_err(|e| e.to_string())?;
    let now = shared::store::now_unix();
    let events = BookingRepo::new(store.clone())
        .save_catalog(&catalog, now)
        .await
        .map_err(|e| format!("cannot save the catalog: {e}"))?;
    if config.asap_dispatch == AsapDispatch::Inline && !events.is_empty() {
        // No stream locally: tell ASAP subscribers about the new capacity now, as the deployed
        // `asap` function would from the stream, with the asap function's keys.
        let keys = asap_keys(config).await?;
        let context = shared::boot::context(config.clone(), store, keys);
        let notifier = Notifier::new(&context, shared::mail::from_config(config));
        for event in &events {
            if let Err(e) = notifier.dispatch(event, now).await {
                eprintln!(
                    "warning: ASAP notifications for type {} failed: {e}",
                    event.type_id
                );
            }
        }
    }
    if json {
        println!(
            "{}",
            serde_json::json!({
                "loaded": path.display().to_string(),
                "insurances": catalog.insurances.len(),
                "categories": catalog.categories.len(),
                "types": catalog.types.len(),
            })
        );
    } else {
        println!("catalog loaded from {}", path.display());
        println!("  insurances: {}", catalog.insurances.len());
        println!("  categories: {}", catalog.categories.len());
        println!("  types:      {}", catalog.types.len());
        println!("  running functions use it within a minute (catalog cache)");
    }
    Ok(())
}

/// The validated catalog of a file.
pub fn read(path: &Path) -> Result<Catalog, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "{} is {size} bytes; a catalog file may have at most {MAX_FILE_BYTES}",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Catalog::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The `asap` function's keys (its unsubscribe links), made from the operator's document.
async fn asap_keys(config: &Config) -> Result<shared::keys::Keys, String> {
    use shared::keys::{KeySet, KeyStore, Role};
    let store = KeyStore::from_config(config)
        .await
        .map_err(|e| e.to_string())?;
    let now = shared::store::now_unix();
    if let KeyStore::Local(dir) = &store {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || shared::keys::ensure_local(&dir, now))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    let admin = store
        .load_admin()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| {
            format!(
                "no keys in {}: run `portal-admin keys init`",
                store.describe()
            )
        })?;
    let document = admin.document(Role::Asap, now).map_err(|e| e.to_string())?;
    let set = KeySet::from_documents(&[document]).map_err(|e| e.to_string())?;
    Ok(shared::keys::Keys::fixed(set))
}
