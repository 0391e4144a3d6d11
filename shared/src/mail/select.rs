//! Choosing the mailer: the adapters depend on the message types of [`super`], so the choice
//! between them lives here rather than beside those types.

use std::sync::Arc;

use super::outbox::OutboxMailer;
use super::ses::SesMailer;
use super::SharedMailer;
use crate::config::{Config, MailConfig};

/// The mailer the configuration names. No I/O: the SES client is built on first send, so
/// functions that never send pay nothing at init.
pub fn from_config(config: &Config) -> SharedMailer {
    match &config.mail {
        MailConfig::Outbox { dir } => Arc::new(OutboxMailer::new(dir.clone())),
        MailConfig::Ses { configuration_set } => Arc::new(SesMailer::new(
            config.aws_endpoint.clone(),
            configuration_set.clone(),
        )),
    }
}
