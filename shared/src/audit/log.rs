//! Access records in the store: written one by one or inside another change's transaction, read
//! per patient, newest first.

use super::record::AccessRecord;
use crate::crypto::random_id;
use crate::domain::patient::PatientId;
use crate::store::{layout, Condition, Item, SharedStore, StoreError, Write, MAX_QUERY_LIMIT};

/// Length of the random part of a record's sort key.
const UNIQUE_LEN: usize = 12;

/// The audit log over a store, with the retention records get.
#[derive(Clone)]
pub struct AuditLog {
    store: SharedStore,
    retention_secs: i64,
}

impl AuditLog {
    /// The log over `store`, keeping records for `retention_days` (`PORTAL_AUDIT_RETENTION_DAYS`).
    pub fn new(store: SharedStore, retention_days: u32) -> Self {
        Self {
            store,
            retention_secs: i64::from(retention_days) * 24 * 3600,
        }
    }

    /// The write that stores `record` as part of a transaction: a put at a fresh key, expiring
    /// after the retention.
    pub fn write(&self, record: &AccessRecord) -> Write {
        Write::Put {
            item: self.item(record),
            // A fresh random key: the condition only makes sure no record is ever overwritten.
            condition: Condition::NotExists,
        }
    }

    /// Stores `record` on its own: one round trip.
    pub async fn append(&self, record: &AccessRecord) -> Result<(), StoreError> {
        self.store
            .put(self.item(record), Condition::NotExists)
            .await
            .map(|_| ())
    }

    fn item(&self, record: &AccessRecord) -> Item {
        let expires_at = record.at_ms.div_euclid(1000) + self.retention_secs;
        record.to_item(&random_id(UNIQUE_LEN), expires_at)
    }

    /// What apps did with the patient's data since `since` (unix seconds), newest first, at most
    /// `limit` records: one query per 1000 records. The account page ("recent access by apps",
    /// the last 30 days) and `portal-admin audit` read this.
    pub async fn recent_access(
        &self,
        patient_id: &PatientId,
        since: i64,
        limit: usize,
    ) -> Result<Vec<AccessRecord>, StoreError> {
        let since_ms = since.saturating_mul(1000);
        let mut records = Vec::new();
        let mut cursor = None;
        while records.len() < limit {
            let page_size = (limit - records.len()).min(MAX_QUERY_LIMIT as usize) as u32;
            let query = layout::access_records_since(patient_id.as_str(), since_ms, page_size)
                .after(cursor);
            let page = self.store.query(query).await?;
            for item in &page.items {
                records.push(AccessRecord::from_item(item)?);
            }
            match page.next {
                Some(next) if !page.items.is_empty() => cursor = Some(next),
                _ => break,
            }
        }
        records.truncate(limit);
        Ok(records)
    }
}
