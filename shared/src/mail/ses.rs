//! Amazon SES: `SendRawEmail` with the same MIME bytes the outbox writes, so custom headers (RFC
//! 8058 `List-Unsubscribe`) go out as built.

use async_trait::async_trait;
use aws_sdk_ses::error::SdkError;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use aws_sdk_ses::Client;

use super::{Mail, MailError, Mailer};
use crate::aws::{self, Aws};

/// Sends through SES with one client per function instance, built on the first send.
#[derive(Debug)]
pub struct SesMailer {
    endpoint: Option<String>,
    client: tokio::sync::OnceCell<Client>,
}

impl SesMailer {
    /// A mailer whose client has [`crate::aws`]'s timeouts and retry policy; `endpoint` overrides
    /// the service URL (the moto emulator).
    pub fn new(endpoint: Option<String>) -> Self {
        Self {
            endpoint,
            client: tokio::sync::OnceCell::new(),
        }
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                Client::new(Aws::load(self.endpoint.as_deref()).await.config())
            })
            .await
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let bytes = mail.to_mime()?;
        let message = RawMessage::builder()
            .data(Blob::new(bytes))
            .build()
            .map_err(|e| MailError::Rejected(e.to_string()))?;
        match self
            .client()
            .await
            .send_raw_email()
            .destinations(mail.to.clone())
            .raw_message(message)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_message_rejected() => Err(
                // An unverified sender or (in the SES sandbox) recipient. The message stays
                // pending: fixing the identity and retrying delivers it.
                MailError::Unavailable(format!("SES rejected the message: {}", e.err())),
            ),
            Err(e) => Err(MailError::Unavailable(format!(
                "SES SendRawEmail failed: {}",
                aws::failure(&e)
            ))),
        }
    }
}
