//! A mailer that keeps what it is given, so tests can count exactly what went out (the outbox
//! folder names files by date and `Message-ID`, so it cannot show a message sent twice at once).

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use shared::mail::{Mail, MailError, Mailer};

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
