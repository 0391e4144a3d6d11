//! A mailer that keeps what it is given, so tests can count exactly what went out (the outbox
//! folder names files by date and `Message-ID`, so it cannot show a message sent twice at once).

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use shared::mail::{Mail, MailError, Mailer};

use crate::TestContext;

/// Records every message it accepts.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    sent: Arc<Mutex<Vec<Mail>>>,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message accepted so far, in order.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The `Message-ID`s of every message accepted so far.
    pub fn message_ids(&self) -> Vec<String> {
        self.sent().into_iter().map(|m| m.message_id).collect()
    }
}

#[async_trait]
impl Mailer for Recorder {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(mail.clone());
        Ok(())
    }
}

impl TestContext {
    /// Every `.eml` file the portal wrote to this context's outbox folder (the local mailer's, as
    /// a developer reads them under `make run`), oldest first, as searchable text: soft line
    /// breaks and `=3D` of quoted-printable undone.
    ///
    /// # Panics
    /// When a file in the folder cannot be read.
    pub fn outbox_mails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.data_dir().join("outbox")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|path| {
                std::fs::read_to_string(path)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
                    .replace("=\r\n", "")
                    .replace("=3D", "=")
            })
            .collect()
    }

    /// The outbox mails to `to`, oldest first (see [`TestContext::outbox_mails`]).
    pub fn mails_to(&self, to: &str) -> Vec<String> {
        let header = format!("To: <{to}>");
        self.outbox_mails()
            .into_iter()
            .filter(|mail| mail.contains(&header))
            .collect()
    }
}
