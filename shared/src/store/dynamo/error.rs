//! SDK failures as [`StoreError`]s: short one-line messages (operation, table, cause) that never
//! contain item contents.

use std::fmt::Debug;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::aws::{self, short, RawStatus};
use crate::store::StoreError;

/// Maps an SDK failure that is not a condition failure to a [`StoreError`]: bad requests are
/// [`StoreError::Invalid`], transaction conflicts [`StoreError::Conflict`], everything else
/// (throttling, a missing table, the network) [`StoreError::Unavailable`].
pub(super) fn classify<E, R>(table: &str, op: &str, err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: RawStatus + Debug + 'static,
{
    let context = |reason: &str| format!("DynamoDB {op} on `{table}`: {reason}");
    let Some(service) = err.as_service_error() else {
        return StoreError::Unavailable(context(&aws::failure(err)));
    };
    match service.code() {
        Some("ValidationException") => {
            StoreError::Invalid(context(&short(service.message().unwrap_or("invalid"))))
        }
        Some("ConditionalCheckFailedException") => StoreError::ConditionFailed { current: None },
        Some("TransactionConflictException") => StoreError::Conflict,
        Some("ResourceNotFoundException") => {
            StoreError::Unavailable(context("table or index not found"))
        }
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded",
        ) => StoreError::Unavailable(context("throttled")),
        _ => StoreError::Unavailable(context(&aws::failure(err))),
    }
}

/// A request the SDK's builders refused (a missing required field): a bug in this adapter.
pub(super) fn build_error(err: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Invalid(format!("cannot build DynamoDB request: {err}"))
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;

    use super::*;

    fn service_error(code: &str, message: &str) -> SdkError<PutItemError, ()> {
        SdkError::service_error(
            PutItemError::generic(ErrorMetadata::builder().code(code).message(message).build()),
            (),
        )
    }

    #[test]
    fn service_errors_are_classified() {
        let classify = |code: &str| classify("portal", "PutItem", &service_error(code, "details"));
        assert!(
            matches!(classify("ValidationException"), StoreError::Invalid(m) if m.contains("details") && m.contains("portal"))
        );
        assert!(matches!(
            classify("TransactionConflictException"),
            StoreError::Conflict
        ));
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "InternalServerError",
            "ResourceNotFoundException",
            "UnrecognizedClientException",
        ] {
            assert!(
                matches!(classify(code), StoreError::Unavailable(m) if m.contains("PutItem") && !m.contains('\n')),
                "{code}"
            );
        }
        let bare =
            SdkError::service_error(PutItemError::generic(ErrorMetadata::builder().build()), ());
        assert!(matches!(
            super::classify("portal", "PutItem", &bare),
            StoreError::Unavailable(m) if m.ends_with("unexpected response (HTTP 500)")
        ));
    }
}
