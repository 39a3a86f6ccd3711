//! Accounts: who may call the API — users with a role, their refresh tokens, and integrations'
//! API keys. Deployment-wide (the `control` database), because a credential is what tells the
//! gateway which tenant a request belongs to: a login arrives with an email, a refresh with a token,
//! an integration with a key, and none of them names a tenant.
//!
//! Nothing secret is stored: passwords as argon2 PHC strings (hashed by the gateway), refresh tokens
//! and API key secrets as SHA-256 digests of high-entropy random values.

use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fluxion_domain::TenantId;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything in their tenant: users, API keys, approvals, traces.
    Owner,
    /// Reads, asks, acknowledges alerts, approves and rejects recommendations.
    Manager,
    /// Reads and asks; changes nothing.
    Viewer,
    /// Fluxion staff: reads traces of any tenant, nothing else. Has no tenant.
    Operator,
}

impl Role {
    /// The stable name stored and shown.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Viewer => "viewer",
            Role::Operator => "operator",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "manager" => Some(Role::Manager),
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user as stored (the password hash included: only the gateway's login reads it).
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Permanent id.
    pub id: Uuid,
    /// The tenant (none for operators).
    pub tenant: Option<TenantId>,
    /// Login, lower-cased, unique across the deployment.
    pub email: String,
    /// Display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// argon2 PHC string.
    pub password_hash: String,
    /// A disabled user cannot log in or refresh.
    pub disabled: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

/// A refresh token as stored. Tokens of one login form a family: each refresh rotates the
/// presented token (marks it `rotated_at`) and issues the next one in the same family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// This token's id.
    pub id: Uuid,
    /// The login it descends from.
    pub family: Uuid,
    /// Whose it is.
    pub user: Uuid,
    /// SHA-256 of the token.
    pub token_hash: [u8; 32],
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now rotated and `next` (same family) is stored. Carries the user.
    Rotated {
        /// Whose token it was.
        user: Uuid,
    },
    /// The token had already been rotated or revoked: someone replayed it. The whole family is
    /// now revoked (the current token too).
    Reused {
        /// Whose family it was.
        user: Uuid,
    },
    /// The token expired; nothing changed.
    Expired,
    /// No such token.
    Unknown,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read stores, products, stock, forecasts, alerts, recommendations.
    Read,
    /// Send sales (and other facts).
    Ingest,
    /// Ask questions.
    Ask,
    /// Acknowledge alerts, approve and reject recommendations.
    Act,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Ingest, Scope::Ask, Scope::Act];

    /// The stable name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Ingest => "ingest",
            Scope::Ask => "ask",
            Scope::Act => "act",
        }
    }

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// An API key as stored: the prefix finds it, the hash checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Permanent id.
    pub id: Uuid,
    /// Whose it is.
    pub tenant: TenantId,
    /// What it is for ("ERP nocturno").
    pub name: String,
    /// The public part of the key, unique (`fxk_…`), shown in listings.
    pub prefix: String,
    /// SHA-256 of the secret part.
    pub secret_hash: [u8; 32],
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Requests per minute this key may make (none: the tenant's tier).
    pub rate_per_minute: Option<u32>,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was revoked (a revoked key never works again).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Users, refresh tokens and API keys of the whole deployment.
#[async_trait]
pub trait Accounts: Send + Sync + fmt::Debug {
    /// Stores a new user (its email lower-cased). [`StoreError::Conflict`] when the email is taken,
    /// [`StoreError::UnknownReference`] when the tenant does not exist.
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    /// The user with this email (compared lower-cased).
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;

    /// The user with this id.
    async fn user(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError>;

    /// A tenant's users (`None`: operators), by email.
    async fn users(&self, tenant: Option<TenantId>) -> Result<Vec<UserRecord>, StoreError>;

    /// Disables or enables a user of `tenant`; disabling revokes every refresh token of theirs.
    /// False when the tenant has no such user.
    async fn set_user_disabled(&self, tenant: TenantId, id: Uuid, disabled: bool) -> Result<bool, StoreError>;

    /// Stores the first token of a new family (a login). A disabled user's token is stored revoked
    /// (a login that raced the disabling never works). [`StoreError::UnknownReference`] when the
    /// user does not exist.
    async fn insert_refresh(&self, token: &RefreshRecord) -> Result<(), StoreError>;

    /// Presents a refresh token, atomically: a current one is rotated and `next` stored in its
    /// family (`next.family` and `next.user` are overwritten with the presented token's); a rotated
    /// or revoked one revokes its whole family. Two concurrent presentations of one token: exactly
    /// one rotates, the other is a reuse.
    async fn rotate_refresh(
        &self,
        token_hash: &[u8; 32],
        next: &RefreshRecord,
        now: DateTime<Utc>,
    ) -> Result<Rotation, StoreError>;

    /// The user a token belongs to when it is current (neither rotated, revoked nor expired, and
    /// its user not disabled), without rotating it: a dashboard session, presented on every page.
    async fn session_user(&self, token_hash: &[u8; 32], now: DateTime<Utc>) -> Result<Option<UserRecord>, StoreError>;

    /// Revokes the family of this token (a logout). False when there is no such token.
    async fn revoke_refresh_family(&self, token_hash: &[u8; 32], now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Stores a new API key. [`StoreError::Conflict`] when the prefix is taken.
    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;

    /// The key with this prefix (revoked ones included: the caller checks).
    async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// A tenant's keys, newest first.
    async fn api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Revokes a key of `tenant`. False when the tenant has no such key (or it was already revoked).
    async fn revoke_api_key(&self, tenant: TenantId, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError>;
}
