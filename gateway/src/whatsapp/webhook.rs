//! The WhatsApp Cloud API webhook, as Meta speaks it (`../shared/INTEGRATIONS.md` §1.1–1.3, 1.6):
//! the verification handshake, the `X-Hub-Signature-256` check over the raw body (before anything
//! is parsed), and the envelope — every `entry`, `change`, `message` and `status` of a batch — read
//! into [`Event`]s. Unknown fields, change fields and message types are tolerated: they become
//! [`Content::Other`] or are skipped, never an error (Meta must get its 200).

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The answer to Meta's `GET ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`: the challenge,
/// byte for byte, when the mode and token are right; `None` (403) otherwise. An empty configured
/// token never verifies.
pub fn handshake<'a>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
    verify_token: &str,
) -> Option<&'a str> {
    use subtle::ConstantTimeEq;
    let token_ok =
        !verify_token.is_empty() && token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(verify_token.as_bytes())));
    (mode == Some("subscribe") && token_ok).then_some(challenge?)
}

/// Whether `header` (`sha256=<64 lowercase hex>`) is the HMAC-SHA256 of `body` under `app_secret`,
/// compared in constant time. An empty secret never verifies.
pub fn signature_ok(app_secret: &[u8], header: Option<&str>, body: &[u8]) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else { return false };
    let Some(expected) = decode_hex(hex) else { return false };
    if app_secret.is_empty() {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret) else { return false };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The header Meta would send for `body` (used by the fake and the tests).
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret).expect("HMAC takes keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!("sha256={}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn decode_hex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// What a user sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    /// Typed text.
    Text(String),
    /// A tapped reply button: its id (ours) and title.
    Button {
        /// The id we gave the button.
        id: String,
        /// Its title.
        title: String,
    },
    /// A chosen list row.
    ListReply {
        /// The row's id.
        id: String,
        /// Its title.
        title: String,
    },
    /// A template's quick-reply button.
    TemplateButton {
        /// The payload we gave it.
        payload: String,
        /// Its text.
        text: String,
    },
    /// An image (media id and caption).
    Image {
        /// Media id.
        id: String,
        /// Caption.
        caption: Option<String>,
    },
    /// Anything else (audio, sticker, location, reaction, unknown types): its type name.
    Other(String),
}

/// One thing a webhook reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A user's message.
    Message {
        /// The business number it was sent to (`metadata.phone_number_id`).
        phone_number_id: String,
        /// Meta's message id (`wamid.…`): the deduplication key.
        id: String,
        /// The sender's WhatsApp id (their number, digits only).
        from: String,
        /// The sender's profile name, when given.
        name: Option<String>,
        /// Unix seconds.
        timestamp: i64,
        /// The message our message it answers (a button's carrier), when given.
        context: Option<String>,
        /// What it says.
        content: Content,
    },
    /// A status of one of our messages.
    Status {
        /// The business number.
        phone_number_id: String,
        /// Our message's id.
        id: String,
        /// sent, delivered, read, failed (or another Meta adds).
        status: String,
        /// The recipient's WhatsApp id.
        recipient: String,
        /// Unix seconds.
        timestamp: i64,
        /// Error codes, on `failed` (131047 window closed, 131026 not on WhatsApp …).
        errors: Vec<i64>,
        /// What we tagged the message with when sending (our intent id), echoed by Meta.
        biz_opaque_callback_data: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
struct Envelope {
    object: Option<String>,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    field: Option<String>,
    value: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChangeValue {
    metadata: Metadata,
    contacts: Vec<Contact>,
    messages: Vec<serde_json::Value>,
    statuses: Vec<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    phone_number_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Contact {
    wa_id: String,
    profile: Option<Profile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Profile {
    name: Option<String>,
}

/// Why a body is not a webhook at all (the signature was right, so this is logged, and still 200).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    /// Not JSON, or not an object with `entry`.
    #[error("not a WhatsApp webhook envelope: {0}")]
    NotAnEnvelope(String),
}

fn text(v: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::to_owned)
}

/// Unix seconds from Meta's string (or number) timestamps; 0 when missing or unreadable.
fn timestamp(v: &serde_json::Value) -> i64 {
    match v.get("timestamp") {
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
        Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

fn content(m: &serde_json::Value) -> Content {
    let kind = m.get("type").and_then(|t| t.as_str()).unwrap_or("");
    match kind {
        "text" => match text(m, &["text", "body"]) {
            Some(body) => Content::Text(body),
            None => Content::Other(kind.into()),
        },
        "interactive" => {
            let i = m.get("interactive").cloned().unwrap_or_default();
            match i.get("type").and_then(|t| t.as_str()) {
                Some("button_reply") => Content::Button {
                    id: text(&i, &["button_reply", "id"]).unwrap_or_default(),
                    title: text(&i, &["button_reply", "title"]).unwrap_or_default(),
                },
                Some("list_reply") => Content::ListReply {
                    id: text(&i, &["list_reply", "id"]).unwrap_or_default(),
                    title: text(&i, &["list_reply", "title"]).unwrap_or_default(),
                },
                _ => Content::Other("interactive".into()),
            }
        }
        "button" => Content::TemplateButton {
            payload: text(m, &["button", "payload"]).unwrap_or_default(),
            text: text(m, &["button", "text"]).unwrap_or_default(),
        },
        "image" => match text(m, &["image", "id"]) {
            Some(id) => Content::Image { id, caption: text(m, &["image", "caption"]) },
            None => Content::Other(kind.into()),
        },
        other => Content::Other(other.chars().take(40).collect()),
    }
}

/// Every message and status of a webhook body (already authenticated), in order. Items without an
/// id or sender are skipped; unknown change fields are skipped.
pub fn events(body: &[u8]) -> Result<Vec<Event>, PayloadError> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| PayloadError::NotAnEnvelope(e.to_string()))?;
    if envelope.object.as_deref().is_some_and(|o| o != "whatsapp_business_account") {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for change in envelope.entry.iter().flat_map(|e| &e.changes) {
        if change.field.as_deref() != Some("messages") {
            continue;
        }
        let Some(value) = change.value.clone().and_then(|v| serde_json::from_value::<ChangeValue>(v).ok()) else {
            continue;
        };
        let phone = value.metadata.phone_number_id.clone();
        for m in &value.messages {
            let (Some(id), Some(from)) = (text(m, &["id"]), text(m, &["from"])) else { continue };
            let name = value.contacts.iter().find(|c| c.wa_id == from).and_then(|c| c.profile.as_ref()?.name.clone());
            out.push(Event::Message {
                phone_number_id: phone.clone(),
                id,
                from,
                name,
                timestamp: timestamp(m),
                context: text(m, &["context", "id"]),
                content: content(m),
            });
        }
        for s in &value.statuses {
            let (Some(id), Some(status)) = (text(s, &["id"]), text(s, &["status"])) else { continue };
            let errors = s
                .get("errors")
                .and_then(|e| e.as_array())
                .map(|a| a.iter().filter_map(|e| e.get("code").and_then(serde_json::Value::as_i64)).collect())
                .unwrap_or_default();
            out.push(Event::Status {
                phone_number_id: phone.clone(),
                id,
                status,
                recipient: text(s, &["recipient_id"]).unwrap_or_default(),
                timestamp: timestamp(s),
                errors,
                biz_opaque_callback_data: text(s, &["biz_opaque_callback_data"]),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TEXT: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"0","changes":[{"field":"messages","value":{
  "messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"16505551111","phone_number_id":"123456123"},
  "contacts":[{"profile":{"name":"test user name"},"wa_id":"16315551181"}],
  "messages":[{"from":"16315551181","id":"ABGGFlA5Fpa","timestamp":"1504902988","type":"text",
               "text":{"body":"this is a text message"}}]}}]}]}"#;

    const BUTTON: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
  "messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
  "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
  "messages":[{
    "context":{"from":"15550783881","id":"wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="},
    "from":"16505551234","id":"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
    "timestamp":"1739321024","type":"interactive",
    "interactive":{"type":"button_reply","button_reply":{"id":"cancel-button","title":"Cancel"}}}]}}]}]}"#;

    const STATUS: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"1314702302917944","changes":[{"field":"messages","value":{
  "messaging_product":"whatsapp",
  "metadata":{"display_phone_number":"15556459128","phone_number_id":"590968830767958"},
  "statuses":[{"id":"wamid.HBgNNTUxNjk5MjMxODIyMhUCABEYEjgxQkVFRDVBQTVDODFDOTg3MQA=",
     "status":"failed","timestamp":"1750857384","recipient_id":"5516992318222",
     "errors":[{"code":131047,"title":"Re-engagement message"}]}]}}]}]}"#;

    #[test]
    fn the_handshake_echoes_the_challenge_only_for_the_right_token() {
        assert_eq!(
            handshake(Some("subscribe"), Some("meatyhamhock"), Some("1158201444"), "meatyhamhock"),
            Some("1158201444")
        );
        assert_eq!(handshake(Some("subscribe"), Some("otro"), Some("1158201444"), "meatyhamhock"), None);
        assert_eq!(handshake(Some("unsubscribe"), Some("meatyhamhock"), Some("1"), "meatyhamhock"), None);
        assert_eq!(handshake(Some("subscribe"), Some(""), Some("1"), ""), None, "an unset token never verifies");
        // Opaque strings, byte for byte.
        assert_eq!(handshake(Some("subscribe"), Some("t"), Some("a b/ñ=="), "t"), Some("a b/ñ=="));
    }

    #[test]
    fn signatures_are_checked_over_the_raw_bytes() {
        let secret = b"app-secret";
        let body = TEXT.as_bytes();
        let header = sign(secret, body);
        assert!(header.starts_with("sha256=") && header.len() == 71);
        assert!(signature_ok(secret, Some(&header), body));
        // Re-serialised JSON is other bytes.
        let reserialised = serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(body).unwrap_or_default())
            .unwrap_or_default();
        assert!(!signature_ok(secret, Some(&header), &reserialised));
        assert!(!signature_ok(b"otro", Some(&header), body));
        assert!(!signature_ok(secret, None, body));
        assert!(!signature_ok(secret, Some("sha1=abc"), body));
        assert!(!signature_ok(secret, Some(&header.to_uppercase()), body) || header == header.to_uppercase());
        assert!(!signature_ok(b"", Some(&sign(b"", body)), body), "an unset secret never verifies");
    }

    #[test]
    fn metas_samples_read_as_events() {
        let e = events(TEXT.as_bytes()).unwrap_or_default();
        assert_eq!(
            e,
            vec![Event::Message {
                phone_number_id: "123456123".into(),
                id: "ABGGFlA5Fpa".into(),
                from: "16315551181".into(),
                name: Some("test user name".into()),
                timestamp: 1_504_902_988,
                context: None,
                content: Content::Text("this is a text message".into()),
            }]
        );
        let e = events(BUTTON.as_bytes()).unwrap_or_default();
        assert!(matches!(&e[0], Event::Message { content: Content::Button { id, title }, context: Some(_), .. }
            if id == "cancel-button" && title == "Cancel"));
        let e = events(STATUS.as_bytes()).unwrap_or_default();
        assert!(
            matches!(&e[0], Event::Status { status, errors, .. } if status == "failed" && errors == &vec![131_047])
        );
    }

    #[test]
    fn batches_unknown_fields_and_types_are_tolerated() {
        let entry =
            |sample: &str| serde_json::from_str::<serde_json::Value>(sample).unwrap_or_default()["entry"][0].clone();
        let batch = serde_json::json!({"object": "whatsapp_business_account", "entry": [
            entry(TEXT),
            entry(STATUS),
            {"id": "x", "changes": [
                {"field": "account_update", "value": {"x": 1}},
                {"field": "messages", "value": {"metadata": {"phone_number_id": "9"}, "nuevo": true, "messages": [
                    {"from": "1", "id": "m1", "timestamp": "5", "type": "sticker", "sticker": {}},
                    {"from": "1", "timestamp": "5", "type": "text", "text": {"body": "sin id"}}
                ]}}
            ]}
        ]});
        let e = events(batch.to_string().as_bytes()).unwrap_or_default();
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(matches!(&e[0], Event::Message { content: Content::Text(_), .. }));
        assert!(matches!(&e[1], Event::Status { .. }));
        assert!(
            matches!(&e[2], Event::Message { content: Content::Other(k), phone_number_id, .. } if k == "sticker" && phone_number_id == "9")
        );
        assert_eq!(events(br#"{"object":"page","entry":[]}"#), Ok(vec![]));
        assert!(events(b"no es json").is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_read_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = events(&body);
            prop_assert!(!signature_ok(b"s", Some("sha256=00"), &body));
        }

        #[test]
        fn any_json_reads_without_panicking(s in "\\PC{0,300}") {
            let wrapped = format!(r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"field":"messages","value":{s}}}]}}]}}"#);
            let _ = events(wrapped.as_bytes());
            let _ = events(s.as_bytes());
        }

        #[test]
        fn a_signature_verifies_its_own_bytes_only(body in proptest::collection::vec(any::<u8>(), 0..200), flip in 0usize..200) {
            let header = sign(b"secreto", &body);
            prop_assert!(signature_ok(b"secreto", Some(&header), &body));
            if !body.is_empty() {
                let mut other = body.clone();
                let i = flip % other.len();
                other[i] ^= 1;
                prop_assert!(!signature_ok(b"secreto", Some(&header), &other));
            }
        }
    }
}
