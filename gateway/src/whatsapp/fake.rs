//! A faithful fake of Meta's side of WhatsApp (`../shared/INTEGRATIONS.md` §1.9), for tests and
//! benchmarks: a real HTTP server on 127.0.0.1.
//!
//! - **Webhooks to the service:** envelopes exactly as §1.3 (string timestamps, `wamid.` ids,
//!   `field: "messages"`), signed over the exact bytes sent; helpers for users writing and tapping
//!   buttons, and a raw [`MetaFake::deliver`] for wrong signatures, duplicates and garbage. Like Meta,
//!   a delivery that gets no 200 is retried with backoff.
//! - **Graph API:** `POST /{v}/{phone_number_id}/messages` requires the bearer token, validates the
//!   body against §1.4's limits (≤ 3 buttons, titles ≤ 20, bodies, `id` xor `link`), templates by
//!   name and parameter count (132001), the per-recipient pair limit when set (131056), and answers
//!   `{messaging_product, contacts, messages:[{id}]}`; then emits `sent` → `delivered` → `read`
//!   status webhooks (echoing `biz_opaque_callback_data`), or `failed` with 131047 when a free-form
//!   message is sent outside the recipient's 24-hour window.
//! - **Media:** `POST /{v}/{phone_number_id}/media` (multipart) returns an id; `GET /{v}/{media_id}`
//!   describes it.
//! - **Faults:** the next sends can answer with any Meta error, or take the message and never
//!   answer (the client times out not knowing whether it was sent).

use super::webhook::sign;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Signs webhooks.
    pub app_secret: String,
    /// Required on Graph API calls.
    pub access_token: String,
    /// The business number's id.
    pub phone_number_id: String,
    /// Approved templates: name → number of body parameters.
    pub templates: HashMap<String, usize>,
    /// Messages per recipient per 6 s before 131056 (none: no limit).
    pub pair_limit: Option<usize>,
    /// Send status webhooks after each accepted message.
    pub statuses: bool,
    /// Deliver `read` before `delivered` (out of order, as Meta may).
    pub reorder_statuses: bool,
}

impl FakeConfig {
    /// Defaults around the credentials, with Fluxion's two templates approved.
    pub fn new(app_secret: &str, access_token: &str, phone_number_id: &str) -> Self {
        Self {
            app_secret: app_secret.into(),
            access_token: access_token.into(),
            phone_number_id: phone_number_id.into(),
            templates: HashMap::from([("fluxion_alerta".to_string(), 3), ("fluxion_aviso".to_string(), 1)]),
            pair_limit: None,
            statuses: true,
            reorder_statuses: false,
        }
    }
}

/// What the next send does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with Meta's error envelope.
    Error {
        /// Meta's code.
        code: i64,
        /// HTTP status.
        status: u16,
    },
    /// Accept the message (it is delivered, statuses follow) but never answer the request.
    Hang,
}

/// A message the fake accepted.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The id it returned.
    pub wamid: String,
    /// To whom.
    pub to: String,
    /// The body as posted.
    pub body: Value,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether it reached the user (false: failed with 131047).
    pub delivered: bool,
}

impl Sent {
    /// The text a user reads: a text body, an interactive body, a caption or a template's parameters.
    pub fn text(&self) -> String {
        let b = &self.body;
        match b["type"].as_str() {
            Some("text") => b["text"]["body"].as_str().unwrap_or_default().to_string(),
            Some("interactive") => b["interactive"]["body"]["text"].as_str().unwrap_or_default().to_string(),
            Some("image") => b["image"]["caption"].as_str().unwrap_or_default().to_string(),
            Some("template") => b["template"]["components"][0]["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" | "))
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// The ids of its reply buttons (or a template's quick-reply payloads).
    pub fn buttons(&self) -> Vec<String> {
        let b = &self.body;
        if let Some(list) = b["interactive"]["action"]["buttons"].as_array() {
            return list.iter().filter_map(|x| x["reply"]["id"].as_str().map(str::to_string)).collect();
        }
        b["template"]["components"]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .filter(|c| c["type"] == "button")
                    .filter_map(|c| c["parameters"][0]["payload"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether it is a template.
    pub fn is_template(&self) -> bool {
        self.body["type"] == "template"
    }
}

#[derive(Default)]
struct Inner {
    webhook: Option<String>,
    windows: HashMap<String, DateTime<Utc>>,
    sent: Vec<Sent>,
    faults: VecDeque<Fault>,
    recent: HashMap<String, VecDeque<DateTime<Utc>>>,
    media: HashMap<String, (Vec<u8>, String)>,
    /// Webhook deliveries that never got a 200 after every retry.
    undelivered: u64,
}

struct Shared {
    config: FakeConfig,
    /// Makes this instance's message ids unique across runs (an inbox keeps ids for good).
    run: String,
    inner: Mutex<Inner>,
    ids: AtomicU64,
    http: reqwest::Client,
    base: String,
}

/// The running fake.
#[derive(Clone)]
pub struct MetaFake {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MetaFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetaFake").field("base", &self.shared.base).finish_non_exhaustive()
    }
}

impl MetaFake {
    /// Starts the fake on 127.0.0.1 (a free port).
    pub async fn start(config: FakeConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let http = fluxion_memory::http_client(Duration::from_secs(10)).map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            config,
            run: uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase(),
            inner: Mutex::new(Inner::default()),
            ids: AtomicU64::new(1),
            http,
            base,
        });
        let app = Router::new()
            .route("/{version}/{id}/messages", post(send))
            .route("/{version}/{id}/media", post(upload))
            .route("/{version}/{id}", get(media))
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { shared })
    }

    /// The Graph API's base URL (what `whatsapp.api_base_url` points at).
    pub fn base_url(&self) -> &str {
        &self.shared.base
    }

    /// Where webhooks go (`http://…/webhooks/whatsapp`).
    pub fn set_webhook(&self, url: &str) {
        self.lock().webhook = Some(url.to_string());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next sends fail this way, in order.
    pub fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().faults.extend(faults);
    }

    /// Moves a user's last message back in time (closing the 24-hour window when over a day).
    pub fn age_window(&self, wa_id: &str, by: chrono::Duration) {
        if let Some(t) = self.lock().windows.get_mut(wa_id) {
            *t -= by;
        }
    }

    /// A fresh message id, Meta-style.
    pub fn wamid(&self) -> String {
        let n = self.shared.ids.fetch_add(1, Ordering::Relaxed);
        use base64::Engine as _;
        format!(
            "wamid.{}",
            base64::engine::general_purpose::STANDARD.encode(format!("FLUXIONIN{}{n:012}", self.shared.run))
        )
    }

    /// The envelope of one inbound message (`message` is the item of `messages[]` without `from`, `id`, `timestamp`).
    pub fn envelope(&self, from: &str, name: &str, id: &str, message: Value) -> Vec<u8> {
        let mut m = message;
        m["from"] = json!(from);
        m["id"] = json!(id);
        m["timestamp"] = json!(Utc::now().timestamp().to_string());
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881", "phone_number_id": self.shared.config.phone_number_id},
                "contacts": [{"profile": {"name": name}, "wa_id": from}],
                "messages": [m],
            }}]}],
        });
        body.to_string().into_bytes()
    }

    /// A user writes `text`; the message id. The webhook is delivered (retried until 200).
    pub async fn user_says(&self, from: &str, text: &str) -> String {
        let id = self.wamid();
        let body = self.envelope(from, "Usuario", &id, json!({"type": "text", "text": {"body": text}}));
        self.open_window(from);
        self.deliver_retrying(body).await;
        id
    }

    /// A user taps a reply button of the message `context`.
    pub async fn user_taps(&self, from: &str, button_id: &str, title: &str, context: &str) -> String {
        let id = self.wamid();
        let body = self.tap_envelope(from, &id, button_id, title, context);
        self.open_window(from);
        self.deliver_retrying(body).await;
        id
    }

    /// The envelope of a button tap (to deliver it several times).
    pub fn tap_envelope(&self, from: &str, id: &str, button_id: &str, title: &str, context: &str) -> Vec<u8> {
        self.envelope(
            from,
            "Usuario",
            id,
            json!({
                "context": {"from": "15550783881", "id": context},
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
            }),
        )
    }

    /// Records that a user wrote now (opens their window) without sending anything.
    pub fn open_window(&self, from: &str) {
        self.lock().windows.insert(from.to_string(), Utc::now());
    }

    /// Meta's verification handshake against the webhook: `GET ?hub.mode=subscribe&hub.challenge=<random>&hub.verify_token=…`.
    /// The status, and whether the body was the challenge byte for byte.
    pub async fn verify(&self, verify_token: &str) -> Result<(StatusCode, bool), String> {
        let url = self.lock().webhook.clone().ok_or("no webhook set")?;
        let challenge = format!("{}-{}", self.shared.ids.fetch_add(1, Ordering::Relaxed), "desafío+/=");
        let resp = self
            .shared
            .http
            .get(&url)
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.challenge", challenge.as_str()),
                ("hub.verify_token", verify_token),
            ])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = resp.bytes().await.map_err(|e| e.to_string())?;
        Ok((status, body.as_ref() == challenge.as_bytes()))
    }

    /// Delivers raw bytes with a signature header (`None`: the right one; `Some("")`: none at all); the status.
    pub async fn deliver(&self, body: Vec<u8>, signature: Option<&str>) -> Result<StatusCode, String> {
        let url = self.lock().webhook.clone().ok_or("no webhook set")?;
        let mut req = self.shared.http.post(url).header("content-type", "application/json");
        match signature {
            None => req = req.header("x-hub-signature-256", sign(self.shared.config.app_secret.as_bytes(), &body)),
            Some("") => {}
            Some(s) => req = req.header("x-hub-signature-256", s),
        }
        let resp = req.body(body).send().await.map_err(|e| e.to_string())?;
        Ok(StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
    }

    /// Delivers correctly signed bytes, retrying with backoff (as Meta does) until a 200.
    pub async fn deliver_retrying(&self, body: Vec<u8>) {
        deliver_with_retries(&self.shared, body).await;
    }

    /// Everything the fake accepted for `to`, in order.
    pub fn sent_to(&self, to: &str) -> Vec<Sent> {
        self.lock().sent.iter().filter(|s| s.to.trim_start_matches('+') == to).cloned().collect()
    }

    /// Everything it accepted.
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    /// Webhook deliveries that never got a 200.
    pub fn undelivered(&self) -> u64 {
        self.lock().undelivered
    }

    /// Waits until `to` has received at least `n` messages (or `timeout`); what it received.
    pub async fn wait_for(&self, to: &str, n: usize, timeout: Duration) -> Vec<Sent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.sent_to(to);
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// An uploaded media file.
    pub fn media_file(&self, id: &str) -> Option<(Vec<u8>, String)> {
        self.lock().media.get(id).cloned()
    }
}

async fn deliver_with_retries(shared: &Arc<Shared>, body: Vec<u8>) {
    let Some(url) = shared.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).webhook.clone() else {
        return;
    };
    let signature = sign(shared.config.app_secret.as_bytes(), &body);
    let mut wait = Duration::from_millis(100);
    for _ in 0..8 {
        let sent = shared
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("x-hub-signature-256", &signature)
            .body(body.clone())
            .send()
            .await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
    shared.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).undelivered += 1;
}

fn meta_error(status: u16, code: i64, message: &str) -> Response {
    let body = json!({"error": {
        "message": format!("(#{code}) {message}"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message},
        "fbtrace_id": "AFakeTraceId",
    }});
    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), axum::Json(body)).into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t == shared.config.access_token)
}

/// Checks a body against §1.4's rules; Meta's error on failure.
fn validate(shared: &Shared, b: &Value) -> Result<(), (i64, String)> {
    let bad = |m: &str| Err((100, m.to_string()));
    if b["messaging_product"] != "whatsapp" {
        return bad("messaging_product must be whatsapp");
    }
    if b["to"].as_str().is_none_or(str::is_empty) {
        return bad("to is required");
    }
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    match b["type"].as_str() {
        Some("text") => {
            let n = len(&b["text"]["body"]);
            if n == 0 || n > 4096 {
                return bad("text.body must have 1 to 4096 characters");
            }
        }
        Some("interactive") => {
            let i = &b["interactive"];
            if i["type"] != "button" {
                return bad("only button interactives are supported by this fake");
            }
            let body = len(&i["body"]["text"]);
            if body == 0 || body > 1024 {
                return bad("interactive.body.text must have 1 to 1024 characters");
            }
            let buttons = i["action"]["buttons"].as_array().cloned().unwrap_or_default();
            if buttons.is_empty() || buttons.len() > 3 {
                return bad("interactive buttons: 1 to 3");
            }
            let mut titles = std::collections::HashSet::new();
            for x in &buttons {
                let t = x["reply"]["title"].as_str().unwrap_or_default();
                let id = x["reply"]["id"].as_str().unwrap_or_default();
                if t.is_empty() || t.chars().count() > 20 || id.is_empty() || id.len() > 256 || !titles.insert(t) {
                    return bad("button titles: 1 to 20 characters, unique; ids 1 to 256");
                }
            }
        }
        Some("image") => {
            let img = &b["image"];
            if img.get("id").is_some() == img.get("link").is_some() {
                return bad("image needs id or link, not both");
            }
            if len(&img["caption"]) > 1024 {
                return bad("image caption too long");
            }
        }
        Some("template") => {
            let name = b["template"]["name"].as_str().unwrap_or_default();
            let params = b["template"]["components"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "body"))
                .and_then(|c| c["parameters"].as_array().map(Vec::len))
                .unwrap_or(0);
            match shared.config.templates.get(name) {
                Some(&n) if n == params => {}
                _ => {
                    return Err((
                        132001,
                        format!("template name ({name}) does not exist in es or has other parameters"),
                    ));
                }
            }
        }
        _ => return bad("unsupported type"),
    }
    Ok(())
}

async fn send(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((_v, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if !authorized(&shared, &headers) {
        return meta_error(401, 190, "Invalid OAuth access token");
    }
    if id != shared.config.phone_number_id {
        return meta_error(400, 100, "Unknown phone number id");
    }
    let Ok(b) = serde_json::from_slice::<Value>(&body) else { return meta_error(400, 100, "Invalid JSON") };
    if let Err((code, message)) = validate(&shared, &b) {
        return meta_error(400, code, &message);
    }
    let to = b["to"].as_str().unwrap_or_default().trim_start_matches('+').to_string();
    let now = Utc::now();
    let (fault, wamid, delivered) = {
        let mut inner = shared.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let fault = inner.faults.pop_front();
        if let Some(Fault::Error { code, status }) = fault {
            drop(inner);
            return meta_error(status, code, "injected");
        }
        if let Some(limit) = shared.config.pair_limit {
            let recent = inner.recent.entry(to.clone()).or_default();
            while recent.front().is_some_and(|t| now - *t > chrono::Duration::seconds(6)) {
                recent.pop_front();
            }
            if recent.len() >= limit {
                drop(inner);
                return meta_error(400, 131056, "(Business Account, Consumer Account) pair rate limit hit");
            }
            recent.push_back(now);
        }
        let open = inner.windows.get(&to).is_some_and(|t| now - *t < chrono::Duration::hours(24));
        let delivered = open || b["type"] == "template";
        let n = shared.ids.fetch_add(1, Ordering::Relaxed);
        use base64::Engine as _;
        let wamid = format!(
            "wamid.{}",
            base64::engine::general_purpose::STANDARD.encode(format!("FLUXIONOUT{}{n:012}", shared.run))
        );
        inner.sent.push(Sent { wamid: wamid.clone(), to: to.clone(), body: b.clone(), at: now, delivered });
        (fault, wamid, delivered)
    };
    if shared.config.statuses {
        let (shared2, wamid2, to2) = (shared.clone(), wamid.clone(), to.clone());
        let tag = b.get("biz_opaque_callback_data").and_then(Value::as_str).map(str::to_string);
        tokio::spawn(async move { statuses(shared2, wamid2, to2, tag, delivered).await });
    }
    if fault == Some(Fault::Hang) {
        // Taken, never answered: the client times out not knowing.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    axum::Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": b["to"], "wa_id": to}],
        "messages": [{"id": wamid}],
    }))
    .into_response()
}

async fn statuses(shared: Arc<Shared>, wamid: String, to: String, tag: Option<String>, delivered: bool) {
    let status = |s: &str, errors: Option<Value>| {
        let mut st = json!({
            "id": wamid, "status": s, "timestamp": Utc::now().timestamp().to_string(), "recipient_id": to,
            "pricing": {"billable": true, "pricing_model": "PMP", "category": "service"},
        });
        if let Some(t) = &tag {
            st["biz_opaque_callback_data"] = json!(t);
        }
        if let Some(e) = errors {
            st["errors"] = e;
        }
        json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp",
                      "metadata": {"display_phone_number": "15550783881", "phone_number_id": shared.config.phone_number_id},
                      "statuses": [st]}}]}]})
        .to_string()
        .into_bytes()
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    if !delivered {
        let errors = json!([{"code": 131047, "title": "Re-engagement message",
            "message": "Re-engagement message", "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]);
        deliver_with_retries(&shared, status("failed", Some(errors))).await;
        return;
    }
    let order: [&str; 3] =
        if shared.config.reorder_statuses { ["read", "sent", "delivered"] } else { ["sent", "delivered", "read"] };
    for s in order {
        deliver_with_retries(&shared, status(s, None)).await;
    }
}

async fn upload(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&shared, &headers) {
        return meta_error(401, 190, "Invalid OAuth access token");
    }
    let boundary = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"').to_string());
    let Some(boundary) = boundary else { return meta_error(400, 100, "multipart/form-data expected") };
    let mut fields: HashMap<String, (Vec<u8>, Option<String>)> = HashMap::new();
    let delimiter = format!("--{boundary}");
    let raw = body.to_vec();
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&raw[i..], delimiter.as_bytes()) {
        starts.push(i + p);
        i += p + delimiter.len();
    }
    for w in starts.windows(2) {
        let part = &raw[w[0] + delimiter.len()..w[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = find(part, b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let content = part[split + 4..].strip_suffix(b"\r\n").unwrap_or(&part[split + 4..]).to_vec();
        let name = head.split("name=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_string();
        let mime = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type:").map(|m| m.trim().to_string()));
        fields.insert(name, (content, mime));
    }
    let product_ok = fields.get("messaging_product").is_some_and(|(v, _)| v == b"whatsapp");
    let Some((file, _)) = fields.get("file") else { return meta_error(400, 100, "file is required") };
    let Some((mime, _)) = fields.get("type") else { return meta_error(400, 100, "type is required") };
    let mime = String::from_utf8_lossy(mime).to_string();
    if !product_ok || !matches!(mime.as_str(), "image/png" | "image/jpeg") || file.len() > 5 * 1024 * 1024 {
        return meta_error(400, 100, "media: messaging_product=whatsapp, image/png or image/jpeg up to 5 MB");
    }
    let id = shared.ids.fetch_add(1, Ordering::Relaxed).to_string();
    shared
        .inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .media
        .insert(id.clone(), (file.clone(), mime));
    axum::Json(json!({"id": id})).into_response()
}

async fn media(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((_v, id)): Path<(String, String)>,
) -> Response {
    if !authorized(&shared, &headers) {
        return meta_error(401, 190, "Invalid OAuth access token");
    }
    let found = shared.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner).media.get(&id).cloned();
    match found {
        Some((bytes, mime)) => axum::Json(json!({
            "url": format!("{}/media-download/{id}", shared.base), "mime_type": mime,
            "file_size": bytes.len(), "id": id, "messaging_product": "whatsapp",
        }))
        .into_response(),
        None => meta_error(404, 100, "Unknown media id"),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
