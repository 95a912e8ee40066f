//! Bounded structures for large sets: distinct values (exact up to a limit, then HyperLogLog) and
//! stable value hashes.
//!
//! * HyperLogLog: the `hyperloglogplus` crate's `HyperLogLogPF` (safe Rust; its registers
//!   serialise as a plain array, so a stored sketch is rebuilt without unsafe code). Precision
//!   [`HLL_PRECISION`]: 2¹⁰ registers, standard error 1.04/√1024 ≈ 3.3 %, about 1.1 KB of
//!   registers (≈ 2 KB in JSON) per sketch.
//! * Percentiles live in `metric_aggregation` (DDSketch, `sketches-ddsketch`, 1 % relative error).

use std::hash::{BuildHasher, Hasher};

use hyperloglogplus::{HyperLogLog, HyperLogLogPF};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// HyperLogLog precision (registers = 2^p).
pub const HLL_PRECISION: u8 = 10;
/// The HLL's standard error.
pub const HLL_ERROR: f64 = 0.0325;

/// A value's stable 64-bit hash (SHA-256's first 8 bytes: the same in every version and process).
pub fn value_hash(value: &str) -> u64 {
    u64::from_be_bytes(
        Sha256::digest(value.as_bytes())[..8]
            .try_into()
            .expect("8 bytes"),
    )
}

/// Hands a pre-computed hash through unchanged (values are hashed with [`value_hash`] first).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;
    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64s are hashed; keep this total anyway (fold any bytes in).
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        // HyperLogLogPF uses the low 32 bits: fold the high half in.
        self.0 = n ^ (n >> 32);
    }
}

/// A HyperLogLog sketch of value hashes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hll(HyperLogLogPF<u64, PassThrough>);

impl Default for Hll {
    fn default() -> Hll {
        Hll(HyperLogLogPF::new(HLL_PRECISION, PassThrough).expect("valid precision"))
    }
}

impl PartialEq for Hll {
    fn eq(&self, other: &Hll) -> bool {
        serde_json::to_value(self).ok() == serde_json::to_value(other).ok()
    }
}

impl Hll {
    pub fn insert(&mut self, hash: u64) {
        self.0.insert(&hash);
    }

    pub fn merge(&mut self, other: &Hll) {
        // Same precision by construction.
        let _ = self.0.merge(&other.0);
    }

    pub fn estimate(&self) -> u64 {
        self.0.clone().count().round().max(0.0) as u64
    }
}

/// Distinct values of one set: exact (sorted hashes) up to `limit`, then a HyperLogLog.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Distinct {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    exact: Vec<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hll: Option<Hll>,
}

impl Distinct {
    /// Add a value's hash; true when it was new (always true once estimated).
    pub fn insert(&mut self, hash: u64, limit: usize) -> bool {
        if let Some(h) = &mut self.hll {
            h.insert(hash);
            return true;
        }
        match self.exact.binary_search(&hash) {
            Ok(_) => false,
            Err(i) => {
                self.exact.insert(i, hash);
                if self.exact.len() > limit {
                    let mut h = Hll::default();
                    for v in self.exact.drain(..) {
                        h.insert(v);
                    }
                    self.hll = Some(h);
                }
                true
            }
        }
    }

    /// (distinct count, exact?)
    pub fn estimate(&self) -> (u64, bool) {
        match &self.hll {
            Some(h) => (h.estimate(), false),
            None => (self.exact.len() as u64, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable() {
        assert_eq!(value_hash("a"), 0xca978112ca1bbdca);
        assert_ne!(value_hash("a"), value_hash("b"));
    }

    #[test]
    fn hll_estimates_within_its_error() {
        let mut h = Hll::default();
        for i in 0..20_000 {
            h.insert(value_hash(&i.to_string()));
        }
        let e = h.estimate() as f64;
        assert!((e - 20_000.0).abs() / 20_000.0 < 3.0 * HLL_ERROR, "{e}");
        let json = serde_json::to_string(&h).unwrap();
        assert!(json.len() < 3_000, "{} bytes", json.len());
        let back: Hll = serde_json::from_str(&json).unwrap();
        assert_eq!(back.estimate(), h.estimate());
        let mut a = Hll::default();
        let mut b = Hll::default();
        for i in 0..1000 {
            a.insert(value_hash(&format!("a{i}")));
            b.insert(value_hash(&format!("b{i}")));
        }
        a.merge(&b);
        let e = a.estimate() as f64;
        assert!((e - 2000.0).abs() / 2000.0 < 3.0 * HLL_ERROR, "{e}");
    }

    #[test]
    fn distinct_is_exact_up_to_the_limit() {
        let h = |s: &str| value_hash(s);
        let mut d = Distinct::default();
        assert!(d.insert(h("a"), 3));
        assert!(!d.insert(h("a"), 3));
        d.insert(h("b"), 3);
        d.insert(h("c"), 3);
        assert_eq!(d.estimate(), (3, true));
        d.insert(h("d"), 3);
        let (n, exact) = d.estimate();
        assert!(!exact);
        assert!((3..=5).contains(&n), "{n}");
    }
}
