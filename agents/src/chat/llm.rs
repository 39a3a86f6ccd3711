//! The optional voice: an OpenAI-compatible chat model (OpenAI, Ollama, vLLM, llama.cpp server)
//! rephrases the grounded template answer. It receives the draft and may call one tool that returns
//! the agents' structured results; it never computes. Its text is then checked by the number guard
//! ([`super::guard`]): one number the agents did not produce and the template goes out instead.
//!
//! The client is `async-openai` with a request timeout. Its built-in retries (rate limited 429,
//! 5xx, connection refused: at most three, with backoff) are safe here because phrasing has no side
//! effects; the caller bounds the whole exchange with a deadline of its own.

use super::agent::ComposeInput;
use super::guard::Grounding;
use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{CreateChatCompletionRequest, CreateChatCompletionResponse, FinishReason};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Duration;

/// The one tool the model may call.
pub const TOOL: &str = "resultados_de_agentes";

/// Most tool calls one streamed reply may make.
const MAX_TOOL_CALLS: usize = 16;

/// Most items of each list the model is shown (the draft already names the most important ones).
const MAX_ITEMS: usize = 12;

/// How to reach the model.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// The API's base URL, with its `/v1` ("https://api.openai.com/v1", "http://127.0.0.1:11434/v1").
    pub base_url: String,
    /// Bearer key (empty for local servers that need none).
    pub api_key: String,
    /// The model's name.
    pub model: String,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Whether to ask for the reply as a stream of server-sent events.
    pub stream: bool,
    /// Most tokens the model may write.
    pub max_tokens: u32,
    /// Sampling temperature.
    pub temperature: f32,
    /// Most rounds of tool calls before the exchange is abandoned.
    pub max_tool_rounds: u32,
}

/// Why the model's voice was not used.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The HTTP exchange or the API failed.
    #[error("LLM API error: {0}")]
    Api(String),
    /// The reply had no text.
    #[error("the LLM returned no text")]
    Empty,
    /// The model kept calling tools.
    #[error("the LLM called tools for more than {0} rounds")]
    ToolLoop(u32),
    /// The reply contained numbers the agents did not produce.
    #[error("the LLM wrote numbers the agents did not produce: {}", .0.join(", "))]
    Invented(Vec<String>),
    /// The client could not be built.
    #[error("LLM client: {0}")]
    Setup(String),
}

/// A reply the model wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phrased {
    /// The text.
    pub text: String,
    /// Tokens read, over every round.
    pub prompt_tokens: u32,
    /// Tokens written, over every round.
    pub completion_tokens: u32,
    /// Tool calls the model made.
    pub tool_calls: u32,
    /// Requests sent.
    pub rounds: u32,
}

impl Phrased {
    /// Tokens read and written.
    pub fn tokens(&self) -> u32 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// What the model gets: the question, the grounded draft, and the results behind it.
#[derive(Debug, Clone)]
pub struct Brief {
    /// The manager's question.
    pub question: String,
    /// The template answer (every number in it comes from the agents).
    pub draft: String,
    /// The agents' structured results (what the tool returns).
    pub results: Value,
}

impl Brief {
    /// The brief of an answer: the question, the template text and the agents' parts.
    pub fn of(question: &str, input: &ComposeInput, draft: &str) -> Self {
        let u = &input.understanding;
        let take = |v: Value| match v {
            Value::Array(mut items) => {
                items.truncate(MAX_ITEMS);
                Value::Array(items)
            }
            other => other,
        };
        let results = json!({
            "fecha": input.today.to_string(),
            "intencion": u.intent.as_str(),
            "horizonte_dias": u.horizon_days,
            "productos": u.products.iter().map(|p| json!({"codigo": p.code, "nombre": p.name})).collect::<Vec<_>>(),
            "tiendas": u.stores.iter().map(|s| json!({"codigo": s.code, "nombre": s.name})).collect::<Vec<_>>(),
            "pronosticos": take(serde_json::to_value(&input.figures).unwrap_or_default()),
            "ventas_por_tienda": take(serde_json::to_value(&input.sales).unwrap_or_default()),
            "inventario_por_tienda": take(serde_json::to_value(&input.stock).unwrap_or_default()),
            "pedidos": serde_json::to_value(input.orders.as_ref().map(|o| {
                let mut o = o.clone();
                o.lines.truncate(MAX_ITEMS);
                o
            }))
            .unwrap_or_default(),
            "entregas": serde_json::to_value(input.deliveries.as_ref().map(|d| {
                let mut d = d.clone();
                d.list.truncate(MAX_ITEMS);
                d
            }))
            .unwrap_or_default(),
            "alertas": take(serde_json::to_value(&input.alerts).unwrap_or_default()),
            "recomendaciones": take(serde_json::to_value(&input.recommendations).unwrap_or_default()),
        });
        Self { question: question.to_owned(), draft: draft.to_owned(), results }
    }

    /// The numbers a reply to this brief may contain: the draft's, the results', the question's.
    pub fn grounding(&self) -> Grounding {
        let mut g = Grounding::new();
        g.allow_text(&self.draft);
        g.allow_text(&self.question);
        g.allow_json(&self.results);
        g
    }

    /// Checks a reply against the brief.
    pub fn check(&self, reply: &str) -> Result<(), LlmError> {
        let invented = self.grounding().invented(reply);
        if invented.is_empty() { Ok(()) } else { Err(LlmError::Invented(invented)) }
    }
}

const SYSTEM: &str = "Eres el asistente de inventario de Fluxion para gerentes de tiendas en Venezuela. \
Reescribe el BORRADOR en un español venezolano cálido, claro y breve (máximo 6 oraciones), tuteando. \
Reglas estrictas: usa SOLO las cifras del borrador o de la herramienta resultados_de_agentes, \
escritas al estilo venezolano (1.234,5); nunca calcules, sumes, restes, promedies ni inventes un número, \
una fecha o un porcentaje; no agregues productos ni tiendas que no aparezcan; si dudas, copia la frase del borrador.";

/// A chat model that phrases answers.
#[derive(Debug, Clone)]
pub struct Llm {
    client: Client<OpenAIConfig>,
    config: LlmConfig,
}

impl Llm {
    /// A client for `config` (nothing is sent until [`Llm::phrase`]).
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let http = fluxion_memory::http_client(config.timeout).map_err(LlmError::Setup)?;
        let mut api = OpenAIConfig::new().with_api_base(config.base_url.trim_end_matches('/'));
        api = api.with_api_key(config.api_key.clone());
        Ok(Self { client: Client::with_config(api).with_http_client(http), config })
    }

    /// The model's name.
    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// Has the model rephrase `brief.draft`, answering its tool calls from `brief.results`, and
    /// checks the reply's numbers. The text comes back only if it is grounded.
    pub async fn phrase(&self, brief: &Brief) -> Result<Phrased, (LlmError, Phrased)> {
        let mut spent = Phrased::default();
        let mut messages = vec![
            json!({"role": "system", "content": SYSTEM}),
            json!({"role": "user", "content": format!(
                "PREGUNTA DEL GERENTE:\n{}\n\nBORRADOR (cifras verificadas):\n{}",
                brief.question, brief.draft
            )}),
        ];
        loop {
            if spent.rounds > self.config.max_tool_rounds {
                return Err((LlmError::ToolLoop(self.config.max_tool_rounds), spent));
            }
            let turn = match self.round(&messages, &mut spent).await {
                Ok(t) => t,
                Err(e) => return Err((e, spent)),
            };
            match turn {
                Turn::Text(text) => {
                    let text = text.trim().to_owned();
                    if text.is_empty() {
                        return Err((LlmError::Empty, spent));
                    }
                    if let Err(e) = brief.check(&text) {
                        spent.text = text;
                        return Err((e, spent));
                    }
                    spent.text = text;
                    return Ok(spent);
                }
                Turn::Tools(calls) => {
                    spent.tool_calls += calls.len() as u32;
                    messages.push(json!({
                        "role": "assistant",
                        "content": null,
                        "tool_calls": calls.iter().map(|c| json!({
                            "id": c.id, "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        })).collect::<Vec<_>>(),
                    }));
                    for c in calls {
                        messages.push(json!({"role": "tool", "tool_call_id": c.id, "content": answer_tool(&c, brief)}));
                    }
                }
            }
        }
    }

    fn request(&self, messages: &[Value]) -> Result<CreateChatCompletionRequest, LlmError> {
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "tools": [{
                "type": "function",
                "function": {
                    "name": TOOL,
                    "description": "Devuelve los resultados de los agentes de Fluxion (pronósticos, alertas, recomendaciones) en JSON.",
                    "parameters": {
                        "type": "object",
                        "properties": {"parte": {"type": "string", "enum": ["pronosticos", "alertas", "recomendaciones", "todo"]}},
                        "required": ["parte"],
                    },
                },
            }],
        });
        if self.config.stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        serde_json::from_value(body).map_err(|e| LlmError::Setup(e.to_string()))
    }

    async fn round(&self, messages: &[Value], spent: &mut Phrased) -> Result<Turn, LlmError> {
        let request = self.request(messages)?;
        spent.rounds += 1;
        if self.config.stream { self.streamed(request, spent).await } else { self.whole(request, spent).await }
    }

    async fn whole(&self, request: CreateChatCompletionRequest, spent: &mut Phrased) -> Result<Turn, LlmError> {
        let reply: CreateChatCompletionResponse =
            self.client.chat().create(request).await.map_err(|e| LlmError::Api(e.to_string()))?;
        if let Some(u) = &reply.usage {
            spent.prompt_tokens += u.prompt_tokens;
            spent.completion_tokens += u.completion_tokens;
        }
        let choice = reply.choices.into_iter().next().ok_or(LlmError::Empty)?;
        let calls: Vec<Call> = choice
            .message
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .filter_map(|c| match c {
                async_openai::types::chat::ChatCompletionMessageToolCalls::Function(f) => {
                    Some(Call { id: f.id, name: f.function.name, arguments: f.function.arguments })
                }
                _ => None,
            })
            .collect();
        if !calls.is_empty() || choice.finish_reason == Some(FinishReason::ToolCalls) {
            return Ok(Turn::Tools(calls));
        }
        Ok(Turn::Text(choice.message.content.unwrap_or_default()))
    }

    async fn streamed(&self, request: CreateChatCompletionRequest, spent: &mut Phrased) -> Result<Turn, LlmError> {
        let mut stream = self.client.chat().create_stream(request).await.map_err(|e| LlmError::Api(e.to_string()))?;
        let mut text = String::new();
        let mut calls: Vec<Call> = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| LlmError::Api(e.to_string()))?;
            if let Some(u) = &chunk.usage {
                spent.prompt_tokens += u.prompt_tokens;
                spent.completion_tokens += u.completion_tokens;
            }
            for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
                if let Some(t) = choice.delta.content {
                    text.push_str(&t);
                }
                for part in choice.delta.tool_calls.unwrap_or_default() {
                    // The index comes from the server: bounded before it sizes anything.
                    let i = part.index as usize;
                    if i >= MAX_TOOL_CALLS {
                        return Err(LlmError::Api(format!("tool call index {i} in the stream")));
                    }
                    while calls.len() <= i {
                        calls.push(Call::default());
                    }
                    if let Some(id) = part.id {
                        calls[i].id = id;
                    }
                    if let Some(f) = part.function {
                        if let Some(name) = f.name {
                            calls[i].name.push_str(&name);
                        }
                        if let Some(args) = f.arguments {
                            calls[i].arguments.push_str(&args);
                        }
                    }
                }
            }
        }
        if calls.is_empty() { Ok(Turn::Text(text)) } else { Ok(Turn::Tools(calls)) }
    }
}

/// A tool call, whole.
#[derive(Debug, Clone, Default)]
struct Call {
    id: String,
    name: String,
    arguments: String,
}

enum Turn {
    Text(String),
    Tools(Vec<Call>),
}

/// The tool's answer: the part of the results asked for (an error object for an unknown tool).
fn answer_tool(call: &Call, brief: &Brief) -> String {
    if call.name != TOOL {
        return json!({"error": format!("herramienta desconocida: {}", call.name)}).to_string();
    }
    let part = serde_json::from_str::<Value>(&call.arguments)
        .ok()
        .and_then(|v| v.get("parte").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "todo".into());
    match brief.results.get(part.as_str()) {
        Some(v) if part != "todo" => json!({ part: v }).to_string(),
        _ => brief.results.to_string(),
    }
}
