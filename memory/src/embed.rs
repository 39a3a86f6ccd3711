//! Embeddings: text to vectors for the vector memory. One trait; the built-in [`HashEmbedder`]
//! needs no setup and is deterministic (the same text gives the same vector on every machine and
//! every version), robust to accents, typos and brand spellings because it embeds character
//! n-grams. [`OpenAiEmbedder`] calls any OpenAI-compatible `/v1/embeddings` endpoint.

use async_trait::async_trait;
use std::time::Duration;
use unicode_normalization::UnicodeNormalization;

/// Why texts could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The embeddings endpoint failed.
    #[error("embeddings endpoint: {0}")]
    Api(String),
    /// It answered vectors of another dimension, or not one per text.
    #[error("embeddings endpoint answered {got} (expected {expected})")]
    Shape {
        /// What was expected.
        expected: String,
        /// What came.
        got: String,
    },
}

/// Turns texts into vectors of a fixed dimension, L2-normalised (cosine = dot product).
#[async_trait]
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// The dimension of every vector.
    fn dim(&self) -> usize;
    /// A name that changes whenever the vectors would (stored with an index: another name means
    /// re-indexing).
    fn id(&self) -> String;
    /// The vectors of `texts`, in order.
    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Character n-grams (3 to 4 letters, word boundaries marked) and whole words, hashed into `dim`
/// buckets with FNV-1a (stable by construction), signed, then L2-normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashEmbedder {
    dim: usize,
}

impl Default for HashEmbedder {
    fn default() -> Self {
        Self { dim: 384 }
    }
}

impl HashEmbedder {
    /// An embedder into `dim` dimensions (at least 16).
    pub fn new(dim: usize) -> Self {
        Self { dim: dim.max(16) }
    }

    fn one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dim];
        let mut add = |feature: &str, weight: f32| {
            let h = fnv1a(feature.as_bytes());
            let slot = (h % self.dim as u64) as usize;
            let sign = if (h >> 63) & 1 == 0 { 1.0 } else { -1.0 };
            v[slot] += sign * weight;
        };
        for word in normalized_words(text) {
            add(&format!("w:{word}"), 1.0);
            let marked: Vec<char> = format!("^{word}$").chars().collect();
            for n in 3..=4 {
                for gram in marked.windows(n) {
                    add(&gram.iter().collect::<String>(), 0.5);
                }
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

#[async_trait]
impl Embedder for HashEmbedder {
    fn dim(&self) -> usize {
        self.dim
    }

    fn id(&self) -> String {
        format!("hash-ngram-3-4-fnv1a-{}", self.dim)
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(self.embed_now(texts))
    }
}

impl HashEmbedder {
    /// The vectors of `texts`, computed on the spot (the embedder never fails nor waits).
    pub fn embed_now(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        texts.iter().map(|t| self.one(t)).collect()
    }
}

/// Where an OpenAI-compatible embeddings endpoint is.
#[derive(Debug, Clone)]
pub struct OpenAiEmbedderConfig {
    /// Base URL with its `/v1`.
    pub base_url: String,
    /// Bearer key (empty for local servers).
    pub api_key: String,
    /// The model.
    pub model: String,
    /// The dimension its vectors have.
    pub dim: usize,
    /// Timeout of one request.
    pub timeout: Duration,
    /// Most texts per request.
    pub batch: usize,
}

/// Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM, llama.cpp).
#[derive(Debug, Clone)]
pub struct OpenAiEmbedder {
    client: async_openai::Client<async_openai::config::OpenAIConfig>,
    config: OpenAiEmbedderConfig,
}

impl OpenAiEmbedder {
    /// A client for `config` (nothing is sent until [`Embedder::embed`]).
    pub fn new(config: OpenAiEmbedderConfig) -> Result<Self, EmbedError> {
        let http = crate::http_client(config.timeout).map_err(EmbedError::Api)?;
        let api = async_openai::config::OpenAIConfig::new()
            .with_api_base(config.base_url.trim_end_matches('/'))
            .with_api_key(config.api_key.clone());
        Ok(Self { client: async_openai::Client::with_config(api).with_http_client(http), config })
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn dim(&self) -> usize {
        self.config.dim
    }

    fn id(&self) -> String {
        format!("openai:{}:{}", self.config.model, self.config.dim)
    }

    async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.config.batch.max(1)) {
            let request: async_openai::types::embeddings::CreateEmbeddingRequest =
                serde_json::from_value(serde_json::json!({"model": self.config.model, "input": batch}))
                    .map_err(|e| EmbedError::Api(e.to_string()))?;
            let reply = self.client.embeddings().create(request).await.map_err(|e| EmbedError::Api(e.to_string()))?;
            if reply.data.len() != batch.len() {
                return Err(EmbedError::Shape {
                    expected: format!("{} vectors", batch.len()),
                    got: format!("{} vectors", reply.data.len()),
                });
            }
            let mut data = reply.data;
            data.sort_by_key(|d| d.index);
            for d in data {
                if d.embedding.len() != self.config.dim {
                    return Err(EmbedError::Shape {
                        expected: format!("dimension {}", self.config.dim),
                        got: format!("dimension {}", d.embedding.len()),
                    });
                }
                let mut v = d.embedding;
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|x| *x /= norm);
                }
                out.push(v);
            }
        }
        Ok(out)
    }
}

/// Lower case, accents gone, dotted abbreviations joined ("P.A.N." → "pan"), split on the rest.
fn normalized_words(text: &str) -> Vec<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.nfd() {
        if unicode_normalization::char::is_combining_mark(c) || c == '.' || c == '\'' {
            continue;
        }
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else {
            out.push(' ');
        }
    }
    out.split_whitespace().map(str::to_owned).collect()
}

/// FNV-1a, 64 bits.
fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(0xcbf2_9ce4_8422_2325, bytes)
}

/// FNV-1a, 64 bits, from another offset basis (two bases give two independent hashes).
pub(crate) fn fnv1a_from(basis: u64, bytes: &[u8]) -> u64 {
    let mut h: u64 = basis;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Cosine similarity of two L2-normalised vectors (their dot product, in eight lanes so that the
/// compiler vectorises it).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_spellings_are_close_and_different_products_are_not() {
        let e = HashEmbedder::default();
        let v = e.embed_now(&[
            "Harina de maíz precocida P.A.N. blanca 1 kg",
            "harina pan blanca",
            "harna pan blanka",
            "Aceite vegetal Diana 1 L",
            "Papel higiénico Rosal 12 rollos",
        ]);
        assert!(v.iter().all(|x| x.len() == 384));
        assert!((cosine(&v[0], &v[0]) - 1.0).abs() < 1e-5);
        let (typed, typo, oil, paper) =
            (cosine(&v[0], &v[1]), cosine(&v[0], &v[2]), cosine(&v[0], &v[3]), cosine(&v[0], &v[4]));
        assert!(typed > 0.45 && typo > 0.25, "{typed} {typo}");
        assert!(typed > oil + 0.2 && typo > paper + 0.1, "{typed} {typo} {oil} {paper}");
        // Accents and case do not matter; the same text gives the same vector.
        assert_eq!(e.embed_now(&["Café MOLIDO"]), e.embed_now(&["cafe molido"]));
        assert_ne!(e.id(), HashEmbedder::new(256).id());
        assert_eq!(e.embed_now(&[""])[0], vec![0.0; 384]);
        // The lanes add up to the plain dot product, whatever the length.
        for n in [0, 3, 8, 13, 384] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((cosine(&a, &b) - plain).abs() < 1e-4, "{n}");
        }
    }
}
