//! A local OpenAI-compatible chat server for the LLM tests: real HTTP on a port of its own,
//! `POST /v1/chat/completions` with and without streaming (server-sent events ending in
//! `data: [DONE]`) and with tool calls, following the OpenAI wire format. Each behaviour is a
//! [`Script`]: an honest model that rewords the grounded draft, one that lies about a number in one
//! of several ways, one that calls the results tool first, a slow one, one that fails.
#![allow(dead_code, clippy::unwrap_used)]

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the model behaves.
#[derive(Debug, Clone, PartialEq)]
pub enum Script {
    /// Rewords the draft, keeping its numbers (some written another way: rounded, in English
    /// separators, in words).
    Honest,
    /// Calls the results tool, then answers honestly using a number from the tool's result.
    ToolThenHonest,
    /// Lies: [`Lie`].
    Liar(Lie),
    /// Calls the tool forever.
    ToolLoop,
    /// Waits this long, then answers honestly.
    Slow(Duration),
    /// Answers with this HTTP status and an OpenAI error body.
    Status(u16),
    /// Answers 200 with a body that is not a chat completion.
    Garbage,
}

/// Ways of inventing a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lie {
    /// One number of the draft changed (by a third, at least 3).
    Changed,
    /// A sentence with a made-up quantity appended.
    Added,
    /// A total the model computed itself (the sum of the draft's two largest numbers).
    Computed,
    /// A made-up percentage.
    Percent,
    /// A made-up quantity written in words.
    Words,
}

impl Lie {
    /// Every kind.
    pub const ALL: [Lie; 5] = [Lie::Changed, Lie::Added, Lie::Computed, Lie::Percent, Lie::Words];
}

#[derive(Clone)]
struct Shared {
    script: Arc<Mutex<Script>>,
    hits: Arc<AtomicUsize>,
    bodies: Arc<Mutex<Vec<Value>>>,
    auth: Arc<Mutex<Vec<String>>>,
}

/// The running server.
pub struct FakeLlm {
    /// Its base URL, with `/v1`.
    pub base_url: String,
    shared: Shared,
}

impl FakeLlm {
    /// Starts a server on a free port.
    pub async fn start(script: Script) -> Self {
        let shared = Shared {
            script: Arc::new(Mutex::new(script)),
            hits: Arc::new(AtomicUsize::new(0)),
            bodies: Arc::new(Mutex::new(Vec::new())),
            auth: Arc::new(Mutex::new(Vec::new())),
        };
        let app = axum::Router::new().route("/v1/chat/completions", post(chat)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base_url: format!("http://{addr}/v1"), shared }
    }

    /// Changes the behaviour.
    pub fn set(&self, script: Script) {
        *self.shared.script.lock().unwrap() = script;
    }

    /// Requests received.
    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
    }

    /// The request bodies received.
    pub fn bodies(&self) -> Vec<Value> {
        self.shared.bodies.lock().unwrap().clone()
    }

    /// The `Authorization` headers received.
    pub fn auth(&self) -> Vec<String> {
        self.shared.auth.lock().unwrap().clone()
    }
}

/// The draft the orchestrator sent (the first user message, after its marker).
fn draft_of(body: &Value) -> String {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let user = messages.iter().find(|m| m["role"] == "user").map(|m| m["content"].as_str().unwrap_or("").to_owned());
    let user = user.unwrap_or_default();
    user.split_once("BORRADOR (cifras verificadas):\n").map(|(_, d)| d.to_owned()).unwrap_or(user)
}

/// The numbers of a text as written (digits and separators), in order.
pub fn numbers(text: &str) -> Vec<(usize, usize, f64)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = i;
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || ((b[i] == b'.' || b[i] == b',') && b.get(i + 1).is_some_and(u8::is_ascii_digit)))
            {
                i += 1;
            }
            // Venezuelan format: '.' groups thousands, ',' marks decimals.
            let raw = text[start..i].replace('.', "").replace(',', ".");
            if let Ok(v) = raw.parse::<f64>() {
                out.push((start, i, v));
            }
        } else {
            i += 1;
        }
    }
    out
}

/// An honest rewording: the same numbers, some written another way a person would.
pub fn honest(draft: &str) -> String {
    let mut text = String::from("¡Hola! Te cuento: ");
    let mut last = 0;
    for (k, (start, end, v)) in numbers(draft).into_iter().enumerate() {
        text.push_str(&draft[last..start]);
        let raw = &draft[start..end];
        let shown = match k % 4 {
            // English separators for whole thousands ("1,234"), a decimal rounded to a whole.
            1 if v >= 1000.0 && v.fract() == 0.0 => {
                format!("{},{:03}", (v / 1000.0).floor() as u64, (v % 1000.0) as u64)
            }
            2 if v.fract() != 0.0 => format!("{}", v.round() as i64),
            _ => raw.to_owned(),
        };
        text.push_str(&shown);
        last = end;
    }
    text.push_str(&draft[last..]);
    text.replace("Sugiero", "Te recomiendo").replace("necesitas", "vas a necesitar")
}

/// A lie of `kind` about `draft` (`salt` varies the invented number).
pub fn lie(draft: &str, kind: Lie, salt: u32) -> String {
    let nums = numbers(draft);
    let salt_f = f64::from(salt);
    match kind {
        Lie::Changed => match nums.iter().find(|n| n.2 >= 1.0) {
            Some(&(start, end, v)) => {
                let changed = (v * 4.0 / 3.0).round().max(v + 3.0) as i64 + 1 + i64::from(salt) * 7;
                format!("{}{}{}", &draft[..start], changed, &draft[end..])
            }
            None => format!("{draft} Te sugiero pedir {} unidades.", 137 + salt * 7),
        },
        Lie::Added => format!("{draft} Además, el mes que viene vas a vender {} unidades más.", 4321 + salt * 13),
        Lie::Computed => {
            let mut v: Vec<f64> = nums.iter().map(|n| n.2).collect();
            v.sort_by(|a, b| b.total_cmp(a));
            let total = match v.as_slice() {
                [a, b, ..] => a + b,
                [a] => a * 2.0,
                [] => 911.0,
            } + salt_f * 3.0;
            format!("{draft} En total serían {} unidades.", total.round() as i64)
        }
        Lie::Percent => format!("{draft} Eso es un {}% más que el año pasado.", 73 + salt),
        Lie::Words => {
            const TENS: [&str; 5] =
                ["veinte", "treinta y uno", "cuarenta y tres", "cincuenta y siete", "sesenta y nueve"];
            format!("{draft} Yo pediría novecientas {} unidades.", TENS[salt as usize % TENS.len()])
        }
    }
}

/// The question the orchestrator sent.
fn question_of(body: &Value) -> String {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let user = messages.iter().find(|m| m["role"] == "user").and_then(|m| m["content"].as_str()).unwrap_or("");
    user.strip_prefix("PREGUNTA DEL GERENTE:\n")
        .and_then(|r| r.split_once("\n\nBORRADOR").map(|(q, _)| q.to_owned()))
        .unwrap_or_default()
}

/// A lie the guard has no way to excuse: its invented number is in neither the draft, the
/// question nor the agents' results (the salt moves it until it is not).
fn genuine_lie(body: &Value, kind: Lie) -> String {
    let draft = draft_of(body);
    let tool = body["messages"].as_array().unwrap().iter().rev().find(|m| m["role"] == "tool").unwrap();
    let results: Value = serde_json::from_str(tool["content"].as_str().unwrap()).unwrap();
    let mut g = fluxion_agents::chat::Grounding::new();
    g.allow_text(&draft);
    g.allow_text(&question_of(body));
    g.allow_json(&results);
    let before = g.invented(&draft).len();
    (0..200).map(|salt| lie(&draft, kind, salt)).find(|l| g.invented(l).len() > before).unwrap()
}

fn completion(model: &str, message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_764_300_000u32,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
    })
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let c = json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_764_300_000u32,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    format!("data: {c}\n\n")
}

fn tool_call() -> Value {
    json!([{"id": "call_1", "type": "function", "function": {"name": "resultados_de_agentes", "arguments": "{\"parte\":\"todo\"}"}}])
}

async fn chat(State(s): State<Shared>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    s.bodies.lock().unwrap().push(body.clone());
    if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        s.auth.lock().unwrap().push(a.to_owned());
    }
    let script = s.script.lock().unwrap().clone();
    let model = body["model"].as_str().unwrap_or("fake").to_owned();
    let stream = body["stream"].as_bool().unwrap_or(false);
    let draft = draft_of(&body);
    let answered_tool = body["messages"].as_array().is_some_and(|m| m.iter().any(|m| m["role"] == "tool"));
    let text = match &script {
        Script::Honest => honest(&draft),
        // The liar reads the results first, to be sure its number is one they do not hold.
        Script::Liar(kind) if answered_tool => genuine_lie(&body, *kind),
        Script::Slow(d) => {
            tokio::time::sleep(*d).await;
            honest(&draft)
        }
        Script::Status(code) => {
            let status = StatusCode::from_u16(*code).unwrap();
            let err =
                json!({"error": {"message": "fake failure", "type": "server_error", "param": null, "code": null}});
            return (status, Json(err)).into_response();
        }
        Script::Garbage => return (StatusCode::OK, "<html>not json</html>").into_response(),
        Script::ToolThenHonest if answered_tool => {
            // Uses a number from the tool's result that the draft may not show (the horizon).
            let tool = body["messages"].as_array().unwrap().iter().rev().find(|m| m["role"] == "tool").unwrap();
            let result: Value = serde_json::from_str(tool["content"].as_str().unwrap()).unwrap();
            format!("{} (horizonte: {} días)", honest(&draft), result["horizonte_dias"])
        }
        Script::ToolThenHonest | Script::ToolLoop | Script::Liar(_) => String::new(),
    };
    let calls_tool = matches!(script, Script::ToolLoop)
        || (matches!(script, Script::ToolThenHonest | Script::Liar(_)) && !answered_tool);
    if !stream {
        let reply = if calls_tool {
            completion(&model, json!({"role": "assistant", "content": null, "tool_calls": tool_call()}), "tool_calls")
        } else {
            completion(&model, json!({"role": "assistant", "content": text}), "stop")
        };
        return Json(reply).into_response();
    }
    let mut sse = chunk(&model, json!({"role": "assistant", "content": ""}), None);
    if calls_tool {
        // The arguments arrive in fragments that concatenate into JSON.
        sse.push_str(&chunk(
            &model,
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "resultados_de_agentes", "arguments": "{\"parte\""}}]}),
            None,
        ));
        sse.push_str(&chunk(
            &model,
            json!({"tool_calls": [{"index": 0, "function": {"arguments": ":\"todo\"}"}}]}),
            None,
        ));
        sse.push_str(&chunk(&model, json!({}), Some("tool_calls")));
    } else {
        let chars: Vec<char> = text.chars().collect();
        for piece in chars.chunks(17) {
            sse.push_str(&chunk(&model, json!({"content": piece.iter().collect::<String>()}), None));
        }
        sse.push_str(&chunk(&model, json!({}), Some("stop")));
    }
    let usage = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_764_300_000u32, "model": model,
        "choices": [], "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160}});
    sse.push_str(&format!("data: {usage}\n\ndata: [DONE]\n\n"));
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from(sse))
        .unwrap()
}
