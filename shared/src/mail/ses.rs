//! Amazon SES: `SendRawEmail` with the same MIME bytes the outbox writes, so custom headers (RFC
//! 8058 `List-Unsubscribe`) go out as built. With a configuration set, every message goes out
//! under it, so its event destination reports bounces and complaints
//! ([`crate::asap::suppression`]) and its suppression options apply.

use async_trait::async_trait;
use aws_sdk_ses::error::SdkError;
use aws_sdk_ses::operation::send_raw_email::builders::SendRawEmailFluentBuilder;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use aws_sdk_ses::Client;

use super::{Mail, MailError, Mailer};
use crate::aws::{self, Aws};

/// Sends through SES with one client per function instance, built on the first send.
#[derive(Debug)]
pub struct SesMailer {
    endpoint: Option<String>,
    configuration_set: Option<String>,
    client: tokio::sync::OnceCell<Client>,
}

impl SesMailer {
    /// A mailer whose client has [`crate::aws`]'s timeouts and retry policy; `endpoint` overrides
    /// the service URL (the moto emulator); `configuration_set` names the SES configuration set
    /// every message is sent with.
    pub fn new(endpoint: Option<String>, configuration_set: Option<String>) -> Self {
        Self {
            endpoint,
            configuration_set,
            client: tokio::sync::OnceCell::new(),
        }
    }

    /// The `SendRawEmail` request for `mail` on `client`.
    fn request(
        &self,
        client: &Client,
        mail: &Mail,
    ) -> Result<SendRawEmailFluentBuilder, MailError> {
        let message = RawMessage::builder()
            .data(Blob::new(mail.to_mime()?))
            .build()
            .map_err(|e| MailError::Rejected(e.to_string()))?;
        Ok(client
            .send_raw_email()
            .destinations(mail.to.clone())
            .raw_message(message)
            .set_configuration_set_name(self.configuration_set.clone()))
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
        let request = self.request(self.client().await, mail)?;
        match request.send().await {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Mail {
        Mail {
            from: "Portal <no-reply@portal.example>".into(),
            to: "anna@example.org".into(),
            subject: "Hello".into(),
            text: "Hello".into(),
            html: "<p>Hello</p>".into(),
            message_id: "m1@portal.example".into(),
            headers: Vec::new(),
            date: 1_800_000_000,
        }
    }

    fn client() -> Client {
        let config = aws_sdk_ses::Config::builder()
            .behavior_version(aws_sdk_ses::config::BehaviorVersion::latest())
            .region(aws_sdk_ses::config::Region::new("us-east-1"))
            .build();
        Client::from_conf(config)
    }

    #[test]
    fn every_message_goes_out_under_the_configuration_set() {
        let mailer = SesMailer::new(None, Some("portal-prod-mail".into()));
        let request = mailer.request(&client(), &mail()).unwrap();
        assert_eq!(
            request.get_configuration_set_name().as_deref(),
            Some("portal-prod-mail")
        );
        assert_eq!(
            request.get_destinations().as_deref(),
            Some(&["anna@example.org".to_owned()][..])
        );
        let without = SesMailer::new(None, None);
        let request = without.request(&client(), &mail()).unwrap();
        assert_eq!(request.get_configuration_set_name(), &None);
    }
}
