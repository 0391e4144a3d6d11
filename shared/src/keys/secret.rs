//! The key material in an AWS Secrets Manager secret (deployed): the secret string is the JSON
//! document. The client has [`crate::aws`]'s timeouts and retries, like every AWS client.

use super::material::KeyMaterial;
use super::{KeyError, KeySet};
use crate::aws::{self, Aws};

/// A Secrets Manager client and a way to report a failure on `arn` (naming the secret and where
/// the call went); fails already when no region is configured.
async fn client(
    action: &'static str,
    arn: &str,
    endpoint: Option<&str>,
) -> Result<(aws_sdk_secretsmanager::Client, impl Fn(String) -> KeyError), KeyError> {
    let aws = Aws::load(endpoint).await;
    let arn = arn.to_owned();
    let place = aws.place().to_owned();
    let fail = move |reason: String| KeyError::Secret {
        action,
        arn: arn.clone(),
        place: place.clone(),
        reason,
    };
    aws.require_region().map_err(&fail)?;
    Ok((aws_sdk_secretsmanager::Client::new(aws.config()), fail))
}

/// Reads the key material from a Secrets Manager secret (GetSecretValue), with an optional endpoint
/// override (`PORTAL_AWS_ENDPOINT`, e.g. moto).
pub async fn get_secret(arn: &str, endpoint: Option<&str>) -> Result<KeyMaterial, KeyError> {
    let (client, fail) = client("read", arn, endpoint).await?;
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| fail(aws::failure(&e)))?;
    let text = output.secret_string().ok_or_else(|| {
        fail("the secret has no string value; it must hold the key material JSON document".into())
    })?;
    KeyMaterial::from_json(text).map_err(|e| fail(e.to_string()))
}

/// Stores the key material as the secret's new current value (PutSecretValue).
pub async fn put_secret(
    arn: &str,
    endpoint: Option<&str>,
    material: &KeyMaterial,
) -> Result<(), KeyError> {
    KeySet::from_material(material)?;
    let text = material.to_json()?;
    let (client, fail) = client("write", arn, endpoint).await?;
    client
        .put_secret_value()
        .secret_id(arn)
        .secret_string(text)
        .send()
        .await
        .map_err(|e| fail(aws::failure(&e)))?;
    Ok(())
}
