//! Items from DynamoDB Stream records, as the `asap` function receives them.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use super::item::item_from_attributes;
use super::names::Attributes;
use crate::store::{Item, StoreError};

/// An item from a DynamoDB Stream record image (`NewImage`/`OldImage` in DynamoDB JSON, as
/// Lambda receives it), mapped exactly like an item read through the SDK.
pub fn item_from_stream_image(image: &serde_json::Value) -> Result<Item, StoreError> {
    let object = image
        .as_object()
        .ok_or_else(|| StoreError::Corrupt("stream image is not an object".into()))?;
    let attributes = object
        .iter()
        .map(|(name, value)| Ok((name.clone(), attribute_from_json(name, value)?)))
        .collect::<Result<Attributes, StoreError>>()?;
    item_from_attributes(attributes)
}

fn attribute_from_json(
    name: &str,
    value: &serde_json::Value,
) -> Result<AttributeValue, StoreError> {
    use base64::Engine as _;
    use serde_json::Value as J;
    let corrupt = || {
        StoreError::Corrupt(format!(
            "stream image attribute `{name}` is not DynamoDB JSON"
        ))
    };
    let object = value
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(corrupt)?;
    let (tag, inner) = object.iter().next().ok_or_else(corrupt)?;
    Ok(match (tag.as_str(), inner) {
        ("S", J::String(s)) => AttributeValue::S(s.clone()),
        ("N", J::String(n)) => AttributeValue::N(n.clone()),
        ("BOOL", J::Bool(b)) => AttributeValue::Bool(*b),
        ("NULL", J::Bool(true)) => AttributeValue::Null(true),
        ("B", J::String(b)) => AttributeValue::B(Blob::new(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .map_err(|_| corrupt())?,
        )),
        ("L", J::Array(items)) => AttributeValue::L(
            items
                .iter()
                .map(|item| attribute_from_json(name, item))
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(corrupt()),
    })
}
