//! Key documents in AWS Secrets Manager secrets (deployed): each secret's string is one JSON
//! document. The client has [`crate::aws`]'s timeouts and retries, like every AWS client, and is
//! built once per process (a function reuses it when it reloads its keys).

use super::KeyError;
use crate::aws::{self, Aws};

/// A Secrets Manager client and where its calls go.
#[derive(Clone, Debug)]
pub struct SecretStore {
    client: aws_sdk_secretsmanager::Client,
    place: String,
}

impl SecretStore {
    /// A client for the standard environment and `endpoint` (if any, e.g. moto); fails already when
    /// no region is configured, naming `arn` (the first secret it is for).
    pub async fn connect(endpoint: Option<&str>, arn: &str) -> Result<Self, KeyError> {
        let aws = Aws::load(endpoint).await;
        let place = aws.place().to_owned();
        aws.require_region().map_err(|reason| KeyError::Secret {
            action: "read",
            arn: arn.to_owned(),
            place: place.clone(),
            reason,
        })?;
        Ok(Self {
            client: aws_sdk_secretsmanager::Client::new(aws.config()),
            place,
        })
    }

    fn failure(&self, action: &'static str, arn: &str, reason: String) -> KeyError {
        KeyError::Secret {
            action,
            arn: arn.to_owned(),
            place: self.place.clone(),
            reason,
        }
    }

    /// The secret's current string (GetSecretValue); `None` when it has no value yet.
    pub async fn get(&self, arn: &str) -> Result<Option<String>, KeyError> {
        match self.client.get_secret_value().secret_id(arn).send().await {
            Ok(output) => Ok(output.secret_string().map(str::to_owned)),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                // A secret created without a value (a fresh stack) has no current version.
                Ok(None)
            }
            Err(error) => Err(self.failure("read", arn, aws::failure(&error))),
        }
    }

    /// Stores `text` as the secret's new current value (PutSecretValue).
    pub async fn put(&self, arn: &str, text: String) -> Result<(), KeyError> {
        self.client
            .put_secret_value()
            .secret_id(arn)
            .secret_string(text)
            .send()
            .await
            .map_err(|error| self.failure("write", arn, aws::failure(&error)))?;
        Ok(())
    }
}
