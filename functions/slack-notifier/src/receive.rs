//! Receive: the SNS records of a Lambda event, as the shared [`SnsEnvelope`] the renderer reads.

use aws_lambda_events::event::sns::{SnsEvent, SnsRecord};
use logalert::slack::SnsEnvelope;

/// One envelope per record, in order.
pub fn envelopes(event: &SnsEvent) -> Vec<SnsEnvelope> {
    event.records.iter().map(envelope).collect()
}

pub fn envelope(record: &SnsRecord) -> SnsEnvelope {
    let sns = &record.sns;
    SnsEnvelope {
        message_id: Some(sns.message_id.clone()).filter(|m| !m.is_empty()),
        subject: sns.subject.clone().filter(|s| !s.trim().is_empty()),
        message: sns.message.clone(),
        attributes: sns
            .message_attributes
            .iter()
            .filter(|(_, a)| a.data_type.starts_with("String"))
            .map(|(k, a)| (k.clone(), a.value.clone()))
            .collect(),
    }
}
