//! Identifiers: alert ids, incident ids and payload markers, all derived (never random), so that
//! the same state and the same inputs give the same ids — a republished or re-decided publication
//! is recognised by every subscriber.

use sha2::{Digest, Sha256};

use super::hex;
use super::key_state::KeyState;
use crate::payload::LogsPayload;

/// `sha256` over length-prefixed parts (no two part lists hash alike), first 16 bytes, hex.
fn digest(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex(&h.finalize()[..16])
}

/// The id of the incident opened by publication `seq` of this state record.
pub fn incident_id(st: &KeyState, seq: u64) -> String {
    digest(&[
        b"incident",
        st.key().as_bytes(),
        &st.created_ms.to_be_bytes(),
        &seq.to_be_bytes(),
    ])
}

/// The id of publication `seq` of this state record: unique per publication (the sequence only
/// grows; a recreated record has a new `created_ms`), the same on every re-decision from the same
/// state and inputs.
pub fn alert_id(st: &KeyState, seq: u64) -> String {
    alert_id_in(st, st.incident.as_ref().map_or("", |i| i.id.as_str()), seq)
}

/// [`alert_id`] of a publication belonging to `incident` (a sub-key's, or none: `""`).
pub(crate) fn alert_id_in(st: &KeyState, incident: &str, seq: u64) -> String {
    digest(&[
        b"alert",
        st.key().as_bytes(),
        &st.created_ms.to_be_bytes(),
        incident.as_bytes(),
        &seq.to_be_bytes(),
    ])
}

/// `batch#<hash of (log group, log stream, event ids)>`: the idempotence marker of a payload.
pub fn batch_marker_key(payload: &LogsPayload) -> String {
    let mut h = Sha256::new();
    h.update(payload.log_group.as_bytes());
    h.update([0]);
    h.update(payload.log_stream.as_bytes());
    for e in &payload.log_events {
        h.update([0]);
        h.update(e.id.as_bytes());
    }
    format!("batch#{}", hex(&h.finalize()[..16]))
}

/// A short, stable name of a state key inside a marker's progress list.
pub fn short_key(key: &str) -> String {
    digest(&[key.as_bytes()])[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let st = KeyState::new("r", Some("k"), 5);
        assert_eq!(alert_id(&st, 1), alert_id(&st.clone(), 1));
        assert_ne!(alert_id(&st, 1), alert_id(&st, 2));
        assert_ne!(
            alert_id(&st, 1),
            alert_id(&KeyState::new("r", Some("k"), 6), 1)
        );
        assert_ne!(
            alert_id(&st, 1),
            alert_id(&KeyState::new("r", Some("j"), 5), 1)
        );
        assert_ne!(alert_id(&st, 1), incident_id(&st, 1));
        assert_eq!(alert_id(&st, 1).len(), 32);
        assert_ne!(short_key("a"), short_key("b"));
    }
}
