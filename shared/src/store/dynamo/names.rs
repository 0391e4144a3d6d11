//! The table's own attribute names and the attribute map of the SDK, shared by every part of the
//! adapter (a leaf module, so the parts do not import them from the adapter that imports the parts).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// Partition key attribute of the table.
pub(super) const PK: &str = "pk";
/// Sort key attribute of the table.
pub(super) const SK: &str = "sk";
/// Expiry attribute (unix seconds), the table's TTL attribute.
pub(super) const TTL: &str = "ttl";
/// Partition key attribute of the secondary index.
pub(super) const GSI1_PK: &str = "gsi1pk";
/// Sort key attribute of the secondary index.
pub(super) const GSI1_SK: &str = "gsi1sk";
/// Name of the secondary index.
pub(super) const GSI1: &str = "gsi1";
/// An attribute no item can have (domain names are letters, digits and `_` only): removing it is
/// the no-op clause of an update that changes nothing, since transactions require an expression
/// and moto fails on an UpdateItem without one.
pub(super) const NOOP_ATTRIBUTE: &str = "store-noop";

/// An item as the SDK holds it.
pub(super) type Attributes = HashMap<String, AttributeValue>;
