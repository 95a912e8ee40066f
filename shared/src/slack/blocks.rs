//! Block Kit layout, inside one attachment so the colour bar stays: header, a link section, body
//! sections, field sections (≤10 fields each), one section per sample, context lines for the "more"
//! line and the footer (Logs Insights link, the event time in each reader's time zone).

use serde_json::{Value, json};

use super::card::{Card, Paragraph, more_line};
use super::escape::{fenced, inline_code, link};
use super::limits::{
    BLOCKS_MAX, BLOCKS_TOTAL_TEXT_MAX, FIELD_VALUE_MAX, HEADER_TEXT_MAX, MESSAGE_TEXT_MAX,
    SECTION_FIELDS_MAX, SECTION_TEXT_MAX, slack_len, truncate_escaped,
};

const FENCE_COST: usize = 8;

struct Builder {
    blocks: Vec<Value>,
    text_used: usize,
}

impl Builder {
    fn room(&self) -> usize {
        BLOCKS_TOTAL_TEXT_MAX.saturating_sub(self.text_used)
    }

    fn full(&self) -> bool {
        // Keep three blocks for the "more" line and the footer.
        self.blocks.len() + 3 > BLOCKS_MAX || self.room() < 100
    }

    fn push(&mut self, block: Value, text_len: usize) {
        self.text_used += text_len;
        self.blocks.push(block);
    }

    fn mrkdwn_section(&mut self, text: String) {
        let len = slack_len(&text);
        self.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}),
            len,
        );
    }
}

pub fn layout(card: &Card) -> Value {
    let mut b = Builder {
        blocks: Vec::new(),
        text_used: 0,
    };
    let header = truncate_escaped(&card.title, HEADER_TEXT_MAX);
    let len = slack_len(&header);
    b.push(
        json!({"type": "header", "text": {"type": "plain_text", "text": header, "emoji": true}}),
        len,
    );
    if let Some(url) = &card.title_link {
        b.mrkdwn_section(link(url, ":mag: Open in the CloudWatch console"));
    }
    for p in &card.body {
        if b.full() {
            break;
        }
        let max = SECTION_TEXT_MAX.min(b.room());
        match p {
            Paragraph::Mrkdwn(s) => b.mrkdwn_section(truncate_escaped(s, max)),
            Paragraph::Code(s) => b.mrkdwn_section(fenced(&truncate_escaped(s, max - FENCE_COST))),
            Paragraph::Plain(s) => {
                let text = truncate_escaped(s, max);
                let len = slack_len(&text);
                b.push(
                    json!({"type": "section", "text": {"type": "plain_text", "text": text, "emoji": true}}),
                    len,
                );
            }
        }
    }
    for chunk in card.fields.chunks(SECTION_FIELDS_MAX) {
        if b.full() {
            break;
        }
        let fields: Vec<Value> = chunk
            .iter()
            .map(|f| {
                let text = truncate_escaped(
                    &format!("*{}*\n{}", f.title, inline_code(&f.raw)),
                    FIELD_VALUE_MAX,
                );
                json!({"type": "mrkdwn", "text": text})
            })
            .collect();
        let len = fields
            .iter()
            .map(|f| slack_len(f["text"].as_str().unwrap_or("")))
            .sum();
        b.push(json!({"type": "section", "fields": fields}), len);
    }
    let mut shown = 0;
    for sample in &card.samples {
        if b.full() {
            break;
        }
        let max = SECTION_TEXT_MAX.min(b.room());
        let head = slack_len(&sample.heading) + 1;
        if max < head + FENCE_COST + 100 {
            break;
        }
        let code = truncate_escaped(&sample.code, max - head - FENCE_COST);
        b.mrkdwn_section(format!("{}\n{}", sample.heading, fenced(&code)));
        shown += 1;
    }
    if let Some(line) = more_line(card, shown) {
        let len = slack_len(&line);
        b.push(
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": line}]}),
            len,
        );
    }
    let mut footer = Vec::new();
    if let Some((url, label)) = &card.footer_link {
        footer.push(json!({"type": "mrkdwn", "text": link(url, label)}));
    }
    if let Some(ts) = card.ts {
        let iso = crate::links::iso_millis(ts.saturating_mul(1000));
        footer.push(json!({"type": "mrkdwn",
            "text": format!("<!date^{ts}^{{date_short_pretty}} at {{time_secs}}|{iso}>")}));
    }
    footer.push(json!({"type": "mrkdwn", "text": truncate_escaped(&card.footer_text, 300)}));
    b.blocks
        .push(json!({"type": "context", "elements": footer}));
    json!({
        "text": truncate_escaped(&card.notify, MESSAGE_TEXT_MAX),
        "attachments": [{
            "color": card.color,
            "fallback": card.fallback,
            "blocks": b.blocks,
        }],
    })
}
