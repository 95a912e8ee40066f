//! What the store asked of DynamoDB: requests per operation and capacity units, both as DynamoDB
//! reported them (`ReturnConsumedCapacity`) and as estimated from item sizes.
//!
//! Two figures because they answer different questions: the reported one is the bill on AWS; the
//! estimate is the same arithmetic done locally (DynamoDB's published rules: reads 1 unit per 4 KB
//! strongly consistent, ½ eventually consistent; writes 1 per KB, doubled in a transaction), and
//! it is what a local run against moto can measure — moto answers `ReturnConsumedCapacity` only for
//! some operations and with fixed numbers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::ConsumedCapacity;

/// A snapshot of the store's usage since it was created (or last [`UsageMeter::take`]n).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// Requests sent, per DynamoDB operation (`GetItem`, `TransactWriteItems`, …), retries of
    /// unprocessed keys included, the SDK's own transparent retries not.
    pub requests: BTreeMap<&'static str, u64>,
    /// Estimated read capacity units (from item sizes).
    pub read_units: f64,
    /// Estimated write capacity units on the table (from item sizes; transactional writes cost 2
    /// per KB).
    pub write_units: f64,
    /// Estimated write units on the due index (1 per write that puts or keeps an item in it; a
    /// change of an indexed item's `due_at` is billed by DynamoDB as 2, so this is a lower bound).
    pub index_write_units: f64,
    /// What DynamoDB reported through `ReturnConsumedCapacity` (table and indexes).
    pub reported_units: f64,
}

impl Usage {
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }
}

/// Shared between clones of a store.
#[derive(Debug, Clone, Default)]
pub struct UsageMeter(Arc<Mutex<Usage>>);

impl UsageMeter {
    pub fn snapshot(&self) -> Usage {
        self.0.lock().unwrap().clone()
    }

    /// The usage so far, and start again from zero.
    pub fn take(&self) -> Usage {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    pub(crate) fn request(&self, operation: &'static str) {
        *self
            .0
            .lock()
            .unwrap()
            .requests
            .entry(operation)
            .or_default() += 1;
    }

    pub(crate) fn add(&self, read: f64, write: f64, index_write: f64) {
        let mut u = self.0.lock().unwrap();
        u.read_units += read;
        u.write_units += write;
        u.index_write_units += index_write;
    }

    pub(crate) fn reported<'a>(&self, consumed: impl IntoIterator<Item = &'a ConsumedCapacity>) {
        let units: f64 = consumed
            .into_iter()
            .map(|c| c.capacity_units().unwrap_or(0.0))
            .sum();
        self.0.lock().unwrap().reported_units += units;
    }
}
