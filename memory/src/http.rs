//! The HTTP client of outside APIs (language models, embeddings): reqwest over rustls with the
//! ring provider (the one tonic already uses, so no second crypto library is built).

use std::time::Duration;

/// A client with `timeout` per request. Installs ring as rustls' process-wide provider if none is.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either way a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .build()
        .map_err(|e| e.to_string())
}
