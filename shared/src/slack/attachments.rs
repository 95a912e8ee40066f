//! Legacy attachment layout: one attachment with colour, title + title link, text (body, samples in
//! code blocks, the "more" line), fields, footer with the Logs Insights link, and `ts`.

use serde_json::{Value, json};

use super::card::{Card, Paragraph, more_line};
use super::escape::{fenced, link};
use super::limits::{
    ATTACHMENT_TEXT_MAX, FIELD_TITLE_MAX, FIELD_VALUE_MAX, FOOTER_MAX, MESSAGE_TEXT_MAX, TITLE_MAX,
    slack_len, truncate_escaped,
};

/// Characters a code fence adds around its content (```` ```\n ```` + ```` \n``` ````).
const FENCE_COST: usize = 8;

pub fn layout(card: &Card) -> Value {
    let mut attachment = serde_json::Map::new();
    attachment.insert("fallback".into(), json!(card.fallback));
    attachment.insert("color".into(), json!(card.color));
    attachment.insert(
        "title".into(),
        json!(truncate_escaped(&card.title, TITLE_MAX)),
    );
    if let Some(url) = &card.title_link {
        attachment.insert("title_link".into(), json!(url));
    }
    let plain_only = card.samples.is_empty()
        && !card.body.is_empty()
        && card.body.iter().all(|p| matches!(p, Paragraph::Plain(_)));
    attachment.insert("text".into(), json!(text(card)));
    if !card.fields.is_empty() {
        let fields: Vec<Value> = card
            .fields
            .iter()
            .map(|f| {
                json!({
                    "title": truncate_escaped(&f.title, FIELD_TITLE_MAX),
                    "value": truncate_escaped(&f.value, FIELD_VALUE_MAX),
                    "short": f.short,
                })
            })
            .collect();
        attachment.insert("fields".into(), Value::Array(fields));
    }
    attachment.insert("footer".into(), json!(footer(card)));
    if let Some(ts) = card.ts {
        attachment.insert("ts".into(), json!(ts));
    }
    let mrkdwn_in: Vec<&str> = if plain_only { vec![] } else { vec!["text"] };
    attachment.insert("mrkdwn_in".into(), json!(mrkdwn_in));
    json!({
        "text": truncate_escaped(&card.notify, MESSAGE_TEXT_MAX),
        "attachments": [Value::Object(attachment)],
    })
}

/// The attachment text, at most [`ATTACHMENT_TEXT_MAX`]: body paragraphs, then as many samples as
/// fit (the last one trimmed if worthwhile), then the "more" line counting what was not shown.
fn text(card: &Card) -> String {
    // Room for the "more" line in its longest form (fewest samples shown → largest number).
    let reserve = more_line(card, 0).map(|l| slack_len(&l) + 1).unwrap_or(0);
    let budget = ATTACHMENT_TEXT_MAX.saturating_sub(reserve);
    let mut parts: Vec<String> = Vec::new();
    let mut used = 0usize;
    let room = |used: usize, parts: &Vec<String>| {
        budget.saturating_sub(used + usize::from(!parts.is_empty()))
    };
    for p in &card.body {
        let left = room(used, &parts);
        if left < 40 {
            break;
        }
        let piece = match p {
            Paragraph::Mrkdwn(s) | Paragraph::Plain(s) => truncate_escaped(s, left),
            Paragraph::Code(s) => fenced(&truncate_escaped(s, left - FENCE_COST)),
        };
        used += slack_len(&piece) + usize::from(!parts.is_empty());
        parts.push(piece);
    }
    let mut shown = 0;
    for sample in &card.samples {
        let left = room(used, &parts);
        let head = slack_len(&sample.heading) + 1;
        let full = head + FENCE_COST + slack_len(&sample.code);
        let piece = if full <= left {
            format!("{}\n{}", sample.heading, fenced(&sample.code))
        } else if left >= head + FENCE_COST + 200 {
            let code = truncate_escaped(&sample.code, left - head - FENCE_COST);
            format!("{}\n{}", sample.heading, fenced(&code))
        } else {
            break;
        };
        used += slack_len(&piece) + usize::from(!parts.is_empty());
        parts.push(piece);
        shown += 1;
    }
    if let Some(line) = more_line(card, shown) {
        parts.push(line);
    }
    parts.join("\n")
}

/// `<insights|Logs Insights> · logalert · rule`: the visible text stays within [`FOOTER_MAX`].
fn footer(card: &Card) -> String {
    match &card.footer_link {
        Some((url, label)) => {
            let rest = FOOTER_MAX.saturating_sub(slack_len(label) + 3);
            format!(
                "{} · {}",
                link(url, label),
                truncate_escaped(&card.footer_text, rest)
            )
        }
        None => truncate_escaped(&card.footer_text, FOOTER_MAX),
    }
}
