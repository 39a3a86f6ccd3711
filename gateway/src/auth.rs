//! Credentials: passwords (argon2), access tokens (HS256 JWT, short-lived), refresh tokens and API
//! keys (random, stored as SHA-256 digests), and the [`Principal`] every request is served as.
//!
//! **Invariant:** the tenant of a request comes from its credential only — the access token's signed
//! claims (checked against the tenant's current id, so a token of a deleted tenant never opens a new
//! one with the same slug), or the API key's stored record — never from the URL or the body.

use crate::error::ApiError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use fluxion_domain::Tenant;
use fluxion_memory::{ApiKeyRecord, Role, Scope};
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::Duration;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// How credentials are issued and checked.
#[derive(Clone)]
pub struct AuthConfig {
    secret: Vec<u8>,
    /// `iss` of issued tokens, required on presented ones.
    pub issuer: String,
    /// `aud` of issued tokens, required on presented ones.
    pub audience: String,
    /// How long an access token lasts.
    pub access_ttl: Duration,
    /// How long a refresh token lasts (each rotation starts a new period).
    pub refresh_ttl: Duration,
    /// argon2 memory cost, KiB.
    pub argon2_memory_kib: u32,
    /// argon2 passes.
    pub argon2_iterations: u32,
    admin_token: Option<[u8; 32]>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("admin_token", &self.admin_token.is_some())
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// A configuration signing with `secret` (at least 32 bytes; shorter is refused).
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("the token signing secret must be at least 32 bytes".into());
        }
        Ok(Self {
            secret: secret.to_vec(),
            issuer: "fluxion".into(),
            audience: "fluxion-api".into(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            admin_token: None,
        })
    }

    /// Lets `token` manage tenants (the deployment's administrator); it is kept as a digest.
    pub fn with_admin_token(mut self, token: &str) -> Self {
        self.admin_token = (!token.is_empty()).then(|| digest(token));
        self
    }

    fn argon2(&self) -> Argon2<'static> {
        let params =
            Params::new(self.argon2_memory_kib.max(8), self.argon2_iterations.max(1), 1, None).unwrap_or_default();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// The argon2id PHC string of `password` (CPU-heavy: call off the async threads).
    pub fn hash_password(&self, password: &str) -> Result<String, ApiError> {
        let mut salt = [0u8; 16];
        random(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|_| ApiError::internal())?;
        self.argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| ApiError::internal())
    }

    /// Whether `password` matches `phc` (the parameters stored in the hash are used).
    pub fn verify_password(&self, password: &str, phc: &str) -> bool {
        PasswordHash::new(phc).is_ok_and(|h| self.argon2().verify_password(password.as_bytes(), &h).is_ok())
    }

    /// Signs an access token.
    pub fn issue_access(&self, user: Uuid, tenant: Option<&Tenant>, role: Role, now: DateTime<Utc>) -> String {
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.to_string(),
            tid: tenant.map(|t| t.id.as_uuid().to_string()),
            ten: tenant.map(|t| t.slug.to_string()),
            role: role.as_str().to_owned(),
            typ: "access".into(),
            jti: Uuid::new_v4().to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + i64::try_from(self.access_ttl.as_secs()).unwrap_or(900),
        };
        // HS256 over serialisable claims cannot fail.
        jsonwebtoken::encode(&Header::new(JwtAlgorithm::HS256), &claims, &EncodingKey::from_secret(&self.secret))
            .unwrap_or_default()
    }

    /// Checks an access token: signature, algorithm, issuer, audience, expiry, type.
    pub fn verify_access(&self, token: &str) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(JwtAlgorithm::HS256);
        validation.set_audience(&[&self.audience]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.secret), &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => ApiError::unauthorized(
                    "token_expired",
                    "La credencial venció; renuévala.",
                    "The credential expired; refresh it.",
                ),
                _ => ApiError::invalid_token(),
            })?;
        if data.claims.typ != "access" {
            return Err(ApiError::invalid_token());
        }
        Ok(data.claims)
    }

    /// Whether `token` is the administrator's.
    pub fn is_admin_token(&self, token: &str) -> bool {
        self.admin_token.is_some_and(|d| bool::from(d.ct_eq(&digest(token))))
    }
}

/// An access token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user's id.
    pub sub: String,
    /// The tenant's id (none for operators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
    /// The tenant's slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ten: Option<String>,
    /// The user's role.
    pub role: String,
    /// "access".
    pub typ: String,
    /// Token id.
    pub jti: String,
    /// Issued at, seconds.
    pub iat: i64,
    /// Expires at, seconds.
    pub exp: i64,
}

/// SHA-256 of a high-entropy secret (refresh tokens, API keys): enough, since nobody can guess them.
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Fills `buf` from the operating system's generator.
pub fn random(buf: &mut [u8]) {
    if let Err(e) = getrandom::fill(buf) {
        // Without an OS generator nothing secure can be issued: stop rather than issue weak secrets.
        panic!("the operating system's random generator failed: {e}");
    }
}

/// A fresh refresh token (256 random bits, URL-safe).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    random(&mut bytes);
    format!("fxr_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A fresh API key: its public prefix (`fxk_` + 8 characters, stored and shown in listings) and the
/// whole key (`<prefix>.<secret>`, shown once).
pub fn new_api_key() -> (String, String) {
    let mut id = [0u8; 6];
    random(&mut id);
    let mut secret = [0u8; 32];
    random(&mut secret);
    let prefix = format!("fxk_{}", URL_SAFE_NO_PAD.encode(id));
    let key = format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(secret));
    (prefix, key)
}

/// A new API key of `tenant` and its whole key (`<prefix>.<secret>`, to show once); only the
/// secret's digest is in the record.
pub fn issue_api_key(
    tenant: fluxion_domain::TenantId,
    name: String,
    scopes: Vec<Scope>,
    rate_per_minute: Option<u32>,
    created_by: Option<Uuid>,
) -> (ApiKeyRecord, String) {
    let (prefix, key) = new_api_key();
    let secret_hash = digest(split_api_key(&key).map_or("", |(_, secret)| secret));
    let record = ApiKeyRecord {
        id: Uuid::new_v4(),
        tenant,
        name,
        prefix,
        secret_hash,
        scopes,
        rate_per_minute,
        created_by,
        created_at: Utc::now(),
        revoked_at: None,
    };
    (record, key)
}

/// Characters a new password may have.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 10..=256;

/// An email address lower-cased and trimmed, when it has the shape of one (one @, something on
/// each side, a dot inside the domain, no spaces, at most 254 characters).
pub fn normalize_email(value: &str) -> Option<String> {
    let email = value.trim().to_lowercase();
    let shaped = email.chars().count() <= 254
        && email.matches('@').count() == 1
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        });
    shaped.then_some(email)
}

/// Splits a presented API key into its prefix and secret.
pub fn split_api_key(key: &str) -> Option<(&str, &str)> {
    let (prefix, secret) = key.split_once('.')?;
    (prefix.starts_with("fxk_") && prefix.len() <= 32 && !secret.is_empty() && secret.len() <= 128)
        .then_some((prefix, secret))
}

/// Whether `secret` is the one `record` was made with (constant time).
pub fn api_key_matches(record: &ApiKeyRecord, secret: &str) -> bool {
    bool::from(record.secret_hash.ct_eq(&digest(secret)))
}

/// What a credential may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the tenant's data.
    Read,
    /// Send facts.
    Ingest,
    /// Ask questions.
    Ask,
    /// Acknowledge alerts, give feedback, approve and reject recommendations.
    Act,
    /// Manage the tenant's users and API keys.
    ManageAccounts,
    /// Read the tenant's traces.
    ReadTraces,
}

/// Who is calling.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A logged-in user.
    User {
        /// Their id.
        id: Uuid,
        /// Their role.
        role: Role,
    },
    /// An integration's API key.
    ApiKey {
        /// The key's id.
        id: Uuid,
        /// Its public prefix.
        prefix: String,
        /// What it may do.
        scopes: Vec<Scope>,
        /// Its own budget, requests per minute.
        rate_per_minute: Option<u32>,
    },
    /// The deployment's administrator (tenants only).
    Admin,
}

/// The authenticated caller of a request and its tenant.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who.
    pub caller: Caller,
    /// Their tenant (none for operators and the administrator).
    pub tenant: Option<Tenant>,
}

impl Principal {
    /// Whether the caller may do `p` in their own tenant.
    pub fn allows(&self, p: Permission) -> bool {
        match &self.caller {
            Caller::User { role, .. } => match role {
                Role::Owner => true,
                Role::Manager => {
                    matches!(p, Permission::Read | Permission::Ingest | Permission::Ask | Permission::Act)
                }
                Role::Viewer => matches!(p, Permission::Read | Permission::Ask),
                Role::Operator => false,
            },
            Caller::ApiKey { scopes, .. } => {
                let needed = match p {
                    Permission::Read => Scope::Read,
                    Permission::Ingest => Scope::Ingest,
                    Permission::Ask => Scope::Ask,
                    Permission::Act => Scope::Act,
                    Permission::ManageAccounts | Permission::ReadTraces => return false,
                };
                scopes.contains(&needed)
            }
            Caller::Admin => false,
        }
    }

    /// The tenant, when the caller may do `p` there; 403 otherwise.
    pub fn tenant_for(&self, p: Permission) -> Result<&Tenant, ApiError> {
        match &self.tenant {
            Some(t) if self.allows(p) => Ok(t),
            _ => Err(ApiError::forbidden()),
        }
    }

    /// Whether this is a Fluxion operator (reads every tenant's traces).
    pub fn is_operator(&self) -> bool {
        matches!(self.caller, Caller::User { role: Role::Operator, .. })
    }

    /// How the caller is named in records (who acknowledged, who approved): `user:<id>`,
    /// `key:<prefix>`, `admin`.
    pub fn actor(&self) -> String {
        match &self.caller {
            Caller::User { id, .. } => format!("user:{id}"),
            Caller::ApiKey { prefix, .. } => format!("key:{prefix}"),
            Caller::Admin => "admin".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluxion_domain::{TenantId, TenantSlug};

    fn config() -> AuthConfig {
        let mut c = AuthConfig::new(&[7u8; 32]).expect("config");
        c.argon2_memory_kib = 64;
        c.argon2_iterations = 1;
        c
    }

    fn tenant() -> Tenant {
        Tenant {
            id: TenantId::new_random(),
            slug: TenantSlug::parse("cadena").expect("slug"),
            name: "Cadena".into(),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let c = config();
        let phc = c.hash_password("clave segura ñ").expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(c.verify_password("clave segura ñ", &phc));
        assert!(!c.verify_password("clave segura n", &phc));
        assert!(!c.verify_password("x", "not a phc string"));
    }

    #[test]
    fn access_tokens_check_signature_audience_type_and_expiry() {
        let c = config();
        let t = tenant();
        let user = Uuid::new_v4();
        let token = c.issue_access(user, Some(&t), Role::Manager, Utc::now());
        let claims = c.verify_access(&token).expect("valid");
        assert_eq!(claims.sub, user.to_string());
        assert_eq!(claims.tid, Some(t.id.to_string()));
        // Another secret, another audience, an expired token: refused.
        let other = AuthConfig::new(&[8u8; 32]).expect("config");
        assert_eq!(other.verify_access(&token).map(|_| ()).expect_err("refused").code(), "invalid_token");
        let mut elsewhere = config();
        elsewhere.audience = "otro".into();
        assert_eq!(elsewhere.verify_access(&token).map(|_| ()).expect_err("refused").code(), "invalid_token");
        let old = c.issue_access(user, Some(&t), Role::Manager, Utc::now() - chrono::Duration::hours(1));
        assert_eq!(c.verify_access(&old).map(|_| ()).expect_err("refused").code(), "token_expired");
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(c.verify_access(&tampered).is_err());
    }

    #[test]
    fn api_keys_split_and_match() {
        let (prefix, key) = new_api_key();
        let (p, secret) = split_api_key(&key).expect("splits");
        assert_eq!(p, prefix);
        let record = ApiKeyRecord {
            id: Uuid::new_v4(),
            tenant: TenantId::new_random(),
            name: "erp".into(),
            prefix: prefix.clone(),
            secret_hash: digest(secret),
            scopes: vec![Scope::Read],
            rate_per_minute: None,
            created_by: None,
            created_at: Utc::now(),
            revoked_at: None,
        };
        assert!(api_key_matches(&record, secret));
        assert!(!api_key_matches(&record, "otro"));
        assert!(split_api_key("fxk_abc").is_none());
        assert!(split_api_key("xyz.abc").is_none());
    }

    #[test]
    fn roles_and_scopes_grant_what_they_say() {
        let t = tenant();
        let user = |role| Principal { caller: Caller::User { id: Uuid::new_v4(), role }, tenant: Some(t.clone()) };
        assert!(user(Role::Viewer).allows(Permission::Read));
        assert!(!user(Role::Viewer).allows(Permission::Act));
        assert!(user(Role::Manager).allows(Permission::Act));
        assert!(!user(Role::Manager).allows(Permission::ManageAccounts));
        assert!(user(Role::Owner).allows(Permission::ReadTraces));
        assert!(!user(Role::Operator).allows(Permission::Read));
        let key = Principal {
            caller: Caller::ApiKey {
                id: Uuid::new_v4(),
                prefix: "fxk_x".into(),
                scopes: vec![Scope::Ingest],
                rate_per_minute: None,
            },
            tenant: Some(t),
        };
        assert!(key.allows(Permission::Ingest));
        assert!(!key.allows(Permission::Read));
        assert!(!key.allows(Permission::ManageAccounts));
    }
}
