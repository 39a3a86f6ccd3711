//! The Graph API bodies Fluxion sends (`../shared/INTEGRATIONS.md` §1.4), built within Meta's limits:
//! text up to 4,096 characters (longer answers are split at paragraphs, then lines, then words),
//! at most 3 reply buttons with titles of at most 20 characters and a body of at most 1,024,
//! templates by name and language with their positional parameters.
//!
//! Every body carries `biz_opaque_callback_data`: the send intent's id, which Meta echoes in the
//! status webhooks — how an intent whose send timed out is found to have been sent after all.

use serde_json::{Value, json};

/// Meta's limit on a text body.
pub const TEXT_MAX: usize = 4096;
/// Meta's limit on an interactive body.
pub const INTERACTIVE_BODY_MAX: usize = 1024;
/// Meta's limit on a reply button's title.
pub const BUTTON_TITLE_MAX: usize = 20;
/// Meta's limit on reply buttons.
pub const BUTTONS_MAX: usize = 3;

/// A reply button: our id (what comes back when tapped) and its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// Comes back in the webhook (≤ 256 characters).
    pub id: String,
    /// Shown (cut to 20 characters).
    pub title: String,
}

impl Button {
    /// A button.
    pub fn new(id: impl Into<String>, title: &str) -> Self {
        Self { id: id.into(), title: cut(title, BUTTON_TITLE_MAX) }
    }
}

/// A plain text message.
pub fn text(to: &str, body: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"preview_url": false, "body": cut(body, TEXT_MAX)},
    })
}

/// A message with reply buttons (at most three are kept).
pub fn buttons(to: &str, body: &str, buttons: &[Button]) -> Value {
    let buttons: Vec<Value> = buttons
        .iter()
        .take(BUTTONS_MAX)
        .map(|b| json!({"type": "reply", "reply": {"id": b.id, "title": b.title}}))
        .collect();
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": cut(body, INTERACTIVE_BODY_MAX)},
            "action": {"buttons": buttons},
        },
    })
}

/// An image already uploaded as media.
pub fn image(to: &str, media_id: &str, caption: &str) -> Value {
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "image",
        "image": {"id": media_id, "caption": cut(caption, 1024)},
    })
}

/// An approved template with its body parameters, and payloads for its quick-reply buttons.
pub fn template(to: &str, name: &str, language: &str, params: &[String], quick_replies: &[String]) -> Value {
    let mut components = vec![json!({
        "type": "body",
        "parameters": params.iter().map(|p| json!({"type": "text", "text": p})).collect::<Vec<_>>(),
    })];
    for (i, payload) in quick_replies.iter().enumerate() {
        components.push(json!({
            "type": "button",
            "sub_type": "quick_reply",
            "index": i.to_string(),
            "parameters": [{"type": "payload", "payload": payload}],
        }));
    }
    json!({
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": language}, "components": components},
    })
}

/// Tags a body with its intent id (echoed by Meta in status webhooks).
pub fn tagged(mut body: Value, intent: &str) -> Value {
    if let Some(o) = body.as_object_mut() {
        o.insert("biz_opaque_callback_data".into(), Value::String(cut(intent, 512)));
    }
    body
}

/// Whether a body is a template (allowed outside the 24-hour window).
pub fn is_template(body: &Value) -> bool {
    body.get("type").and_then(Value::as_str) == Some("template")
}

/// At most `max` characters, cut at a character boundary (with "…" when cut).
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Splits a long text into parts of at most `max` characters: at paragraph breaks where possible,
/// then at line breaks, then between words, and only inside a word that is longer than a part.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let text = text.trim();
    if text.chars().count() <= max {
        return if text.is_empty() { Vec::new() } else { vec![text.to_string()] };
    }
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.chars().count() > max {
        // The byte index just past the first `max` characters.
        let limit = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        // One character more: a separator right after the first `max` characters still counts.
        let window = &rest[..rest.char_indices().nth(max + 1).map_or(rest.len(), |(i, _)| i)];
        let at = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| window.rfind(sep).filter(|&i| i > 0 && i <= limit).map(|i| (i, sep.len())))
            .unwrap_or((limit, 0));
        let (head, tail) = rest.split_at(at.0);
        if !head.trim().is_empty() {
            parts.push(head.trim_end().to_string());
        }
        rest = tail[at.1..].trim_start();
    }
    if !rest.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buttons_keep_meta_limits() {
        let b = buttons(
            "58414",
            &"x".repeat(2000),
            &[
                Button::new("a", "Sí, aprobar el pedido ahora"),
                Button::new("b", "No"),
                Button::new("c", "Ver detalle"),
                Button::new("d", "Otra"),
            ],
        );
        let list = b["interactive"]["action"]["buttons"].as_array().unwrap();
        assert_eq!(list.len(), 3);
        assert!(list.iter().all(|x| x["reply"]["title"].as_str().unwrap().chars().count() <= 20));
        assert_eq!(b["interactive"]["body"]["text"].as_str().unwrap().chars().count(), 1024);
    }

    #[test]
    fn split_prefers_paragraphs() {
        let text = format!("{}\n\n{}", "a".repeat(30), "b".repeat(30));
        assert_eq!(split(&text, 40), vec!["a".repeat(30), "b".repeat(30)]);
        assert_eq!(split("uno dos tres", 7), vec!["uno dos", "tres"]);
        assert_eq!(split("", 10), Vec::<String>::new());
    }

    proptest! {
        #[test]
        fn split_keeps_every_word_within_the_limit(text in "[a-zñ ]{0,40}(\n{1,2}[a-záé ]{0,60}){0,20}", max in 5usize..200) {
            let parts = split(&text, max);
            for p in &parts {
                prop_assert!(p.chars().count() <= max, "{p:?} longer than {max}");
                prop_assert!(!p.trim().is_empty());
            }
            let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>().join("");
            prop_assert_eq!(words(&parts.join(" ")), words(&text));
        }
    }
}
