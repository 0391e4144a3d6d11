//! Local key documents (`$PORTAL_DATA_DIR/keys/`, directory 0700, files 0600): the operator's
//! `admin.json` and one `<function>.json` per function, the same split as the deployed secrets.
//!
//! Locally nobody runs `keys init` first: the first function to start creates the keys. The
//! operator's document is created exclusively (written to a private temporary file, then
//! hard-linked into place, which fails if another process got there first: the loser reads the
//! winner's), and missing function documents are made from it and renamed into place. A function
//! then reads only its own document.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::admin::AdminKeys;
use super::document::KeyDocument;
use super::role::Role;
use super::KeyError;
use crate::crypto;

/// The folder of the key documents inside the data folder.
pub const KEYS_DIR: &str = "keys";

/// File name of the operator's document inside [`KEYS_DIR`].
pub const ADMIN_FILE: &str = "admin.json";

/// The key folder of a data folder.
pub fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(KEYS_DIR)
}

/// The file of `role`'s document in `dir`.
pub fn document_path(dir: &Path, role: Role) -> PathBuf {
    dir.join(format!("{}.json", role.name()))
}

/// Creates what is missing in `dir`: the operator's document (fresh keys, if there is none) and
/// every function's document made from it. Safe to run from several processes at once.
pub fn ensure_local(dir: &Path, now: i64) -> Result<(), KeyError> {
    let admin = match read_admin(dir)? {
        Some(admin) => admin,
        None => create_admin(dir, &AdminKeys::generate(now)?)?,
    };
    for role in Role::ALL {
        let path = document_path(dir, role);
        if !path.exists() {
            replace(&path, &admin.document(role, now)?.to_json()?)?;
        }
    }
    Ok(())
}

/// The operator's document, if there is one. A document written by an earlier version is
/// [upgraded](AdminKeys::upgrade) and saved with every function's document made from it, so
/// `make run` on an old data folder gets the keys this version signs with.
pub fn read_admin(dir: &Path) -> Result<Option<AdminKeys>, KeyError> {
    let path = dir.join(ADMIN_FILE);
    let Some(text) = read_text(&path)? else {
        return Ok(None);
    };
    let now = chrono::Utc::now().timestamp();
    let (admin, upgraded) = AdminKeys::from_json(&text, now)
        .map_err(|e| KeyError::Invalid(format!("{e} (in `{}`)", path.display())))?;
    if upgraded {
        write_admin(dir, &admin)?;
        for role in Role::ALL {
            write_document(dir, &admin.document(role, now)?)?;
        }
        tracing::info!(path = %path.display(), "added the ES256 id_token keys to the key documents");
    }
    Ok(Some(admin))
}

/// Writes the operator's document unless one exists; returns the one that is there afterwards
/// (this one, or the one another process created first).
pub fn create_admin(dir: &Path, admin: &AdminKeys) -> Result<AdminKeys, KeyError> {
    let path = dir.join(ADMIN_FILE);
    make_dir(dir)?;
    let temp = write_temp(&path, &admin.to_json()?)?;
    let linked = std::fs::hard_link(&temp, &path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_dir(dir);
            tracing::info!(path = %path.display(), "created key documents");
            Ok(admin.clone())
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => read_admin(dir)?
            .ok_or_else(|| KeyError::Io {
                action: "read",
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the file vanished right after another process created it",
                ),
            }),
        Err(source) => Err(KeyError::Io {
            action: "create",
            path,
            source,
        }),
    }
}

/// Replaces the operator's document.
pub fn write_admin(dir: &Path, admin: &AdminKeys) -> Result<(), KeyError> {
    admin.check()?;
    replace(&dir.join(ADMIN_FILE), &admin.to_json()?)
}

/// Replaces a function's document.
pub fn write_document(dir: &Path, document: &KeyDocument) -> Result<(), KeyError> {
    replace(&document_path(dir, document.role), &document.to_json()?)
}

/// `role`'s document, if there is one; a document made for another function is refused.
pub fn read_document(dir: &Path, role: Role) -> Result<Option<KeyDocument>, KeyError> {
    let path = document_path(dir, role);
    let Some(text) = read_text(&path)? else {
        return Ok(None);
    };
    let document = KeyDocument::from_json(&text)
        .map_err(|e| KeyError::Invalid(format!("{e} (in `{}`)", path.display())))?;
    if document.role != role {
        return Err(KeyError::Invalid(format!(
            "`{}` holds the {} function's keys, not the {role} function's",
            path.display(),
            document.role
        )));
    }
    Ok(Some(document))
}

fn read_text(path: &Path) -> Result<Option<String>, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            Ok(Some(text))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Io {
            action: "read",
            path: path.to_owned(),
            source,
        }),
    }
}

fn make_dir(dir: &Path) -> Result<(), KeyError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| KeyError::Io {
        action: "create the directory",
        path: dir.to_owned(),
        source,
    })
}

/// Replaces `path` atomically (private temporary file + rename): readers see the old or the new
/// document, never half of one; concurrent writers do not corrupt it (the last one wins).
fn replace(path: &Path, text: &str) -> Result<(), KeyError> {
    let dir = parent_dir(path);
    make_dir(&dir)?;
    let temp = write_temp(path, text)?;
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

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "key file is accessible to other users; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes `text` to a new private temporary file next to `path` and flushes it to disk.
fn write_temp(path: &Path, text: &str) -> Result<PathBuf, KeyError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keys".to_owned());
    let temp = parent_dir(path).join(format!(".{name}.{}.tmp", crypto::random_id(12)));
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
    use super::*;

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn missing_documents_are_created_private_and_then_reused() {
        let data = tempfile::tempdir().unwrap();
        let dir = keys_dir(&data.path().join("nested"));
        ensure_local(&dir, now()).unwrap();
        let admin = read_admin(&dir).unwrap().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "admin.json",
                "asap.json",
                "authorize.json",
                "booking.json",
                "token.json",
                "userinfo.json"
            ]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            for name in &names {
                assert_eq!(mode(&dir.join(name)), 0o600, "{name}");
            }
        }
        ensure_local(&dir, now()).unwrap();
        assert_eq!(read_admin(&dir).unwrap().unwrap(), admin);
        let booking = read_document(&dir, Role::Booking).unwrap().unwrap();
        assert_eq!(booking, admin.document(Role::Booking, now()).unwrap());
    }

    #[test]
    fn processes_racing_to_create_the_keys_end_up_with_the_same_ones() {
        let data = tempfile::tempdir().unwrap();
        let dir = keys_dir(data.path());
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    ensure_local(&dir, now()).unwrap();
                    read_document(&dir, Role::Token).unwrap().unwrap()
                })
            })
            .collect();
        let results: Vec<KeyDocument> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for document in &results {
            assert_eq!(document, &results[0]);
        }
        let admin = read_admin(&dir).unwrap().unwrap();
        assert_eq!(results[0], admin.document(Role::Token, now()).unwrap());
    }

    #[test]
    fn a_corrupt_or_misplaced_document_is_an_error_naming_the_file() {
        let data = tempfile::tempdir().unwrap();
        let dir = keys_dir(data.path());
        ensure_local(&dir, now()).unwrap();
        std::fs::copy(
            document_path(&dir, Role::Token),
            document_path(&dir, Role::Booking),
        )
        .unwrap();
        let err = read_document(&dir, Role::Booking).unwrap_err().to_string();
        assert!(
            err.contains("booking.json") && err.contains("token function"),
            "{err}"
        );
        std::fs::write(dir.join(ADMIN_FILE), "{ not json").unwrap();
        let err = read_admin(&dir).unwrap_err().to_string();
        assert!(err.contains("admin.json"), "{err}");
    }
}
