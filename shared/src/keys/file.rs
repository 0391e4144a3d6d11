//! The local key file (`$PORTAL_DATA_DIR/keys.json`, mode 0600): created atomically on first use,
//! replaced atomically on rotation.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::material::KeyMaterial;
use super::{KeyError, KeySet};
use crate::crypto;

/// File name of the local key material inside the data directory.
pub const LOCAL_FILE_NAME: &str = "keys.json";

/// Reads the key file, or creates it with fresh keys if it does not exist.
///
/// Creation is atomic and exclusive: the document is written to a private (0600) temporary file in
/// the same directory, flushed, then hard-linked to `path`, which fails if the file appeared in the
/// meantime. The loser of a race between two processes discards its keys and reads the winner's, so
/// both use the same material and no reader ever sees a half-written file.
pub fn load_or_create(path: &Path) -> Result<KeyMaterial, KeyError> {
    if let Some(material) = read_file(path)? {
        return Ok(material);
    }
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).map_err(|source| KeyError::Io {
        action: "create the directory of",
        path: path.to_owned(),
        source,
    })?;
    let material = KeyMaterial::generate()?;
    let temp = write_temp(path, &material)?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_dir(&dir);
            tracing::info!(path = %path.display(), kid = %material.active_kid, "created key material");
            Ok(material)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_file(path)?
            .ok_or_else(|| KeyError::Io {
                action: "read",
                path: path.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the file vanished right after another process created it",
                ),
            }),
        Err(source) => Err(KeyError::Io {
            action: "create",
            path: path.to_owned(),
            source,
        }),
    }
}

/// Replaces the key file atomically (temporary 0600 file + rename). Concurrent savers do not corrupt
/// the file; the last one wins.
pub fn save(path: &Path, material: &KeyMaterial) -> Result<(), KeyError> {
    KeySet::from_material(material)?;
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).map_err(|source| KeyError::Io {
        action: "create the directory of",
        path: path.to_owned(),
        source,
    })?;
    let temp = write_temp(path, material)?;
    if let Err(source) = std::fs::rename(&temp, path) {
        let _ = std::fs::remove_file(&temp);
        return Err(KeyError::Io {
            action: "replace",
            path: path.to_owned(),
            source,
        });
    }
    sync_dir(&dir);
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn read_file(path: &Path) -> Result<Option<KeyMaterial>, KeyError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(KeyError::Io {
                action: "read",
                path: path.to_owned(),
                source,
            })
        }
    };
    warn_if_readable_by_others(path);
    KeyMaterial::from_json(&text)
        .map(Some)
        .map_err(|e| KeyError::Invalid(format!("{} (in `{}`)", e, path.display())))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "key material file is accessible to other users; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes the document to a new private temporary file next to `path` and flushes it to disk.
fn write_temp(path: &Path, material: &KeyMaterial) -> Result<PathBuf, KeyError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| LOCAL_FILE_NAME.to_owned());
    let temp = parent_dir(path).join(format!(".{name}.{}.tmp", crypto::random_id(12)));
    let text = material.to_json()?;
    let io = |action: &'static str| {
        let temp = temp.clone();
        move |source| KeyError::Io {
            action,
            path: temp,
            source,
        }
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temp).map_err(io("create"))?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(source) = written {
        drop(file);
        let _ = std::fs::remove_file(&temp);
        return Err(io("write")(source));
    }
    Ok(temp)
}

/// Makes a rename or link durable; best effort (not every platform can open a directory).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::super::material::now;
    use super::*;

    #[test]
    fn a_missing_key_file_is_created_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/data/keys.json");
        let first = load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = load_or_create(&path).unwrap();
        assert_eq!(first, second);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("keys.json")]);
    }

    #[test]
    fn processes_racing_to_create_the_key_file_end_up_with_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    load_or_create(&path).unwrap()
                })
            })
            .collect();
        let results: Vec<KeyMaterial> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for material in &results {
            assert_eq!(material, &results[0]);
        }
        assert_eq!(load_or_create(&path).unwrap(), results[0]);
    }

    #[test]
    fn save_replaces_the_file_and_a_corrupt_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.json");
        let mut material = load_or_create(&path).unwrap();
        material.rotate(now()).unwrap();
        save(&path, &material).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), material);

        std::fs::write(&path, "{ not json").unwrap();
        let err = load_or_create(&path).unwrap_err();
        assert!(err.to_string().contains("keys.json"), "{err}");
    }
}
