//! The Cloud API client (`../shared/INTEGRATIONS.md` §1.4–1.5): `POST /{version}/{phone-number-id}/messages`
//! and `/media`, with Meta's error envelope read into [`SendError`]. It knows nothing of intents or
//! retries: the sender decides what an error means for the message.

use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// Where and how to reach the Graph API.
#[derive(Clone)]
pub struct GraphConfig {
    /// `https://graph.facebook.com` (or the fake's address).
    pub base_url: String,
    /// `v23.0` …
    pub version: String,
    /// The business number's id.
    pub phone_number_id: String,
    /// The system user's access token.
    pub access_token: String,
    /// Per request.
    pub timeout: Duration,
}

impl std::fmt::Debug for GraphConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphConfig")
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("phone_number_id", &self.phone_number_id)
            .finish_non_exhaustive()
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Meta answered with its error envelope.
    #[error("Graph API error {code} (HTTP {status}): {message}")]
    Meta {
        /// Meta's code (131047, 131056, 130429, 132001 …).
        code: i64,
        /// The HTTP status.
        status: u16,
        /// Meta's message.
        message: String,
    },
    /// The request may have reached Meta, but no answer came (a timeout, a dropped connection):
    /// sending again could send twice.
    #[error("no answer from the Graph API: {0}")]
    Unknown(String),
    /// The request never left (connection refused, DNS): safe to retry.
    #[error("the Graph API could not be reached: {0}")]
    Unreachable(String),
}

impl SendError {
    /// Meta's code, when it answered.
    pub fn code(&self) -> Option<i64> {
        match self {
            SendError::Meta { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: MetaError,
}

#[derive(Deserialize)]
struct MetaError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
}

#[derive(Deserialize)]
struct Sent {
    messages: Vec<SentId>,
}

#[derive(Deserialize)]
struct SentId {
    id: String,
}

#[derive(Deserialize)]
struct Uploaded {
    id: String,
}

/// The Graph API client.
#[derive(Debug, Clone)]
pub struct GraphClient {
    config: GraphConfig,
    http: reqwest::Client,
}

impl GraphClient {
    /// A client; installs the TLS provider if none is.
    pub fn new(config: GraphConfig) -> Result<Self, String> {
        let http = fluxion_memory::http_client(config.timeout)?;
        Ok(Self { config, http })
    }

    fn url(&self, what: &str) -> String {
        format!(
            "{}/{}/{}/{what}",
            self.config.base_url.trim_end_matches('/'),
            self.config.version,
            self.config.phone_number_id
        )
    }

    /// Sends one message (a Graph API body); Meta's message id on success.
    pub async fn send(&self, body: &Value) -> Result<String, SendError> {
        let response = self
            .http
            .post(self.url("messages"))
            .bearer_auth(&self.config.access_token)
            .json(body)
            .send()
            .await
            .map_err(transport)?;
        let sent: Sent = read(response).await?;
        sent.messages
            .into_iter()
            .next()
            .map(|m| m.id)
            .ok_or_else(|| SendError::Unknown("Meta's answer named no message".into()))
    }

    /// Uploads a file as media (`multipart/form-data`: file, type, messaging_product); its id.
    pub async fn upload(&self, bytes: Vec<u8>, mime: &str, filename: &str) -> Result<String, SendError> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_string())
            .mime_str(mime)
            .map_err(|e| SendError::Unreachable(e.to_string()))?;
        let form = reqwest::multipart::Form::new()
            .part("file", part)
            .text("type", mime.to_string())
            .text("messaging_product", "whatsapp");
        let response = self
            .http
            .post(self.url("media"))
            .bearer_auth(&self.config.access_token)
            .multipart(form)
            .send()
            .await
            .map_err(transport)?;
        let uploaded: Uploaded = read(response).await?;
        Ok(uploaded.id)
    }
}

fn transport(e: reqwest::Error) -> SendError {
    if e.is_connect() || e.is_builder() {
        SendError::Unreachable(e.to_string())
    } else {
        SendError::Unknown(e.to_string())
    }
}

async fn read<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, SendError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| SendError::Unknown(e.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|e| SendError::Unknown(format!("unreadable answer from the Graph API: {e}")));
    }
    match serde_json::from_slice::<Envelope>(&bytes) {
        Ok(Envelope { error }) => {
            Err(SendError::Meta { code: error.code, status: status.as_u16(), message: error.message })
        }
        // A proxy's error page, a 502 …: Meta did not take it.
        Err(_) => Err(SendError::Meta { code: 0, status: status.as_u16(), message: format!("HTTP {status}") }),
    }
}
