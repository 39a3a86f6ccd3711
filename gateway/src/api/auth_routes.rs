//! Logging in, refreshing (with rotation and reuse detection), logging out, and who am I.

use super::views::{TenantView, TokenPair, UserView};
use super::{ApiState, text_field};
use crate::auth::{Principal, digest, new_refresh_token};
use crate::error::{ApiError, ErrorBody, Json};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use fluxion_memory::{RateKey, RefreshRecord, Rotation, UserRecord};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(refresh)).routes(routes!(logout))
}

pub(super) fn me_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(me))
}

/// Email and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginIn {
    /// Login.
    #[schema(example = "gerente@lacosecha.com.ve", max_length = 254)]
    pub email: String,
    /// Password.
    #[schema(max_length = 1024)]
    pub password: String,
}

/// A refresh token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshIn {
    /// The refresh token of the last login or refresh.
    #[schema(max_length = 256)]
    pub refresh_token: String,
}

/// Who is calling.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    /// "user", "api_key" or "admin".
    pub kind: String,
    /// The user (for users).
    pub user: Option<UserView>,
    /// The key's prefix (for API keys).
    pub api_key: Option<String>,
    /// The tenant.
    pub tenant: Option<TenantView>,
}

fn bad_login() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "Correo o contraseña incorrectos.", "Wrong email or password.")
}

/// A hash nobody's password matches (of random bytes), verified when the email is unknown so that a
/// wrong email and a wrong password take the same time.
fn dummy_phc(auth: &crate::auth::AuthConfig) -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let mut bytes = [0u8; 24];
            crate::auth::random(&mut bytes);
            auth.hash_password(&format!("{bytes:?}")).unwrap_or_default()
        })
        .clone()
}

async fn issue(
    api: &ApiState,
    user: &UserRecord,
    family: Option<Uuid>,
) -> Result<(TokenPair, RefreshRecord), ApiError> {
    let now = Utc::now();
    let tenant = match user.tenant {
        Some(id) => Some(api.store.tenant_by_id(id).await?.ok_or_else(bad_login)?),
        None => None,
    };
    let access = api.auth.issue_access(user.id, tenant.as_ref(), user.role, now);
    let refresh = new_refresh_token();
    let record = RefreshRecord {
        id: Uuid::new_v4(),
        family: family.unwrap_or_else(Uuid::new_v4),
        user: user.id,
        token_hash: digest(&refresh),
        issued_at: now,
        expires_at: now + chrono::Duration::seconds(i64::try_from(api.auth.refresh_ttl.as_secs()).unwrap_or(86_400)),
    };
    Ok((token_pair(api, access, refresh), record))
}

/// The answer to a login or a refresh.
fn token_pair(api: &ApiState, access_token: String, refresh_token: String) -> TokenPair {
    TokenPair {
        access_token,
        token_type: "Bearer".into(),
        expires_in: api.auth.access_ttl.as_secs(),
        refresh_token,
        refresh_expires_in: api.auth.refresh_ttl.as_secs(),
    }
}

/// Logs in.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginIn,
    responses(
        (status = 200, description = "Tokens", body = TokenPair),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 422, description = "Malformed body", body = ErrorBody),
        (status = 429, description = "Too many attempts for this email", body = ErrorBody),
    ))]
async fn login(State(api): State<ApiState>, Json(body): Json<LoginIn>) -> Result<Json<TokenPair>, ApiError> {
    let user = check_password(&api, &body.email, body.password).await?;
    let (pair, record) = issue(&api, &user, None).await?;
    api.store.accounts().insert_refresh(&record).await?;
    tracing::info!(user = %user.id, "logged in");
    Ok(Json(pair))
}

/// The user with this email and password, within the login budget of the email. An unknown email
/// costs the same argon2 check as a wrong password, and gets the same answer.
pub(crate) async fn check_password(api: &ApiState, email: &str, password: String) -> Result<UserRecord, ApiError> {
    let email = text_field(email, "email", 254)?.to_lowercase();
    if password.is_empty() || password.len() > 1024 {
        return Err(bad_login());
    }
    let key =
        RateKey { namespace: "_login".into(), subject: format!("email:{:x}", sha2::Sha256::digest(email.as_bytes())) };
    let decision = api.limiter.check(&key, api.limits.login).await;
    if !decision.allowed {
        return Err(ApiError::rate_limited(decision.retry_after.as_secs_f64().ceil() as u64));
    }
    let user = api.store.accounts().user_by_email(&email).await?;
    let auth = api.auth.clone();
    let phc = match &user {
        Some(u) => u.password_hash.clone(),
        None => tokio::task::spawn_blocking(move || dummy_phc(&auth)).await.map_err(|_| ApiError::internal())?,
    };
    let auth = api.auth.clone();
    let matches = tokio::task::spawn_blocking(move || auth.verify_password(&password, &phc))
        .await
        .map_err(|_| ApiError::internal())?;
    match user {
        Some(u) if matches && !u.disabled => Ok(u),
        _ => Err(bad_login()),
    }
}

/// Trades a refresh token for a new pair. The presented token stops working; presenting it again
/// revokes the whole session.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshIn,
    responses(
        (status = 200, description = "New tokens", body = TokenPair),
        (status = 401, description = "Unknown, expired, revoked or reused token", body = ErrorBody),
        (status = 422, description = "Malformed body", body = ErrorBody),
    ))]
async fn refresh(State(api): State<ApiState>, Json(body): Json<RefreshIn>) -> Result<Json<TokenPair>, ApiError> {
    let invalid = || {
        ApiError::unauthorized(
            "invalid_refresh",
            "La sesión no es válida; inicia sesión de nuevo.",
            "The session is not valid; log in again.",
        )
    };
    if body.refresh_token.len() > 256 {
        return Err(invalid());
    }
    let hash = digest(&body.refresh_token);
    // The user is known only after the rotation; issue for a placeholder, then fill in.
    let now = Utc::now();
    let next_token = new_refresh_token();
    let next = RefreshRecord {
        id: Uuid::new_v4(),
        family: Uuid::nil(),
        user: Uuid::nil(),
        token_hash: digest(&next_token),
        issued_at: now,
        expires_at: now + chrono::Duration::seconds(i64::try_from(api.auth.refresh_ttl.as_secs()).unwrap_or(86_400)),
    };
    match api.store.accounts().rotate_refresh(&hash, &next, now).await? {
        Rotation::Rotated { user } => {
            let user = api.store.accounts().user(user).await?.filter(|u| !u.disabled).ok_or_else(invalid)?;
            let tenant = match user.tenant {
                Some(id) => Some(api.store.tenant_by_id(id).await?.ok_or_else(invalid)?),
                None => None,
            };
            let access = api.auth.issue_access(user.id, tenant.as_ref(), user.role, now);
            Ok(Json(token_pair(&api, access, next_token)))
        }
        Rotation::Reused { user } => {
            tracing::warn!(user = %user, "a rotated refresh token was presented again: the session is revoked");
            Err(ApiError::unauthorized(
                "refresh_reused",
                "Esta sesión se usó desde otro lugar y fue cerrada por seguridad; inicia sesión de nuevo.",
                "This session was used elsewhere and was closed for safety; log in again.",
            ))
        }
        Rotation::Expired => Err(ApiError::unauthorized(
            "refresh_expired",
            "La sesión venció; inicia sesión de nuevo.",
            "The session expired; log in again.",
        )),
        Rotation::Unknown => Err(invalid()),
    }
}

/// Logs out: the session (every refresh token descended from its login) is revoked.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshIn,
    responses(
        (status = 204, description = "Logged out"),
        (status = 422, description = "Malformed body", body = ErrorBody),
    ))]
async fn logout(State(api): State<ApiState>, Json(body): Json<RefreshIn>) -> Result<StatusCode, ApiError> {
    if body.refresh_token.len() <= 256 {
        api.store.accounts().revoke_refresh_family(&digest(&body.refresh_token), Utc::now()).await?;
    }
    // Unknown tokens get the same answer: a logout reveals nothing.
    Ok(StatusCode::NO_CONTENT)
}

/// Who is calling.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeView),
        (status = 401, description = "No valid credential", body = ErrorBody),
    ))]
async fn me(State(api): State<ApiState>, Extension(p): Extension<Principal>) -> Result<Json<MeView>, ApiError> {
    let tenant = p.tenant.as_ref().map(TenantView::from);
    let view = match &p.caller {
        crate::auth::Caller::User { id, .. } => {
            let user = api.store.accounts().user(*id).await?.ok_or_else(ApiError::invalid_token)?;
            MeView { kind: "user".into(), user: Some(UserView::of(&user, p.tenant.as_ref())), api_key: None, tenant }
        }
        crate::auth::Caller::ApiKey { prefix, .. } => {
            MeView { kind: "api_key".into(), user: None, api_key: Some(prefix.clone()), tenant }
        }
        crate::auth::Caller::Admin => MeView { kind: "admin".into(), user: None, api_key: None, tenant: None },
    };
    Ok(Json(view))
}
