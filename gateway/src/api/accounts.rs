//! A tenant's users and API keys (owners only).

use super::views::{ApiKeyView, NewApiKeyView, UserView};
use super::{ApiState, text_field};
use crate::auth::{PASSWORD_CHARS, Permission, Principal, issue_api_key, normalize_email};
use crate::error::{ApiError, ErrorBody, Json, Path};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use fluxion_memory::{Role, Scope, UserRecord};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
}

/// A new user of the caller's tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserIn {
    /// Login (unique).
    #[schema(max_length = 254)]
    pub email: String,
    /// Display name.
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    /// 10 to 256 characters.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    /// owner, manager or viewer.
    #[schema(pattern = "^(owner|manager|viewer)$")]
    pub role: String,
}

/// A change to a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// Disable (true) or enable (false). Disabling ends every session of theirs.
    pub disabled: bool,
}

/// A new API key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKeyIn {
    /// What it is for ("ERP nocturno").
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    /// Any of read, ingest, ask, act (at least one).
    #[schema(min_items = 1, inline)]
    pub scopes: Vec<ScopeName>,
    /// Its own budget, requests per minute (1 to 100,000; default: the deployment's).
    #[schema(minimum = 1, maximum = 100000)]
    pub rate_per_minute: Option<u32>,
}

/// A scope's name, as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScopeName {
    /// Read the tenant's data.
    Read,
    /// Send sales.
    Ingest,
    /// Ask questions.
    Ask,
    /// Acknowledge alerts, approve and reject recommendations.
    Act,
}

impl From<ScopeName> for Scope {
    fn from(s: ScopeName) -> Self {
        match s {
            ScopeName::Read => Scope::Read,
            ScopeName::Ingest => Scope::Ingest,
            ScopeName::Ask => Scope::Ask,
            ScopeName::Act => Scope::Act,
        }
    }
}

/// Checks an email's shape (one @, something on each side, a dot in the domain, no spaces).
pub(crate) fn email_field(value: &str) -> Result<String, ApiError> {
    normalize_email(value).ok_or_else(|| {
        ApiError::unprocessable(
            "invalid_email",
            "El correo no tiene un formato válido.",
            "The email is not well formed.",
        )
    })
}

/// Checks a new password's length.
pub(crate) fn password_field(value: &str) -> Result<(), ApiError> {
    if !PASSWORD_CHARS.contains(&value.chars().count()) {
        return Err(ApiError::unprocessable(
            "weak_password",
            "La contraseña debe tener entre 10 y 256 caracteres.",
            "The password must have 10 to 256 characters.",
        ));
    }
    Ok(())
}

/// Lists the tenant's users.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "Users", body = Vec<UserView>),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
    ))]
async fn list_users(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let tenant = p.tenant_for(Permission::ManageAccounts)?;
    let users = api.store.accounts().users(Some(tenant.id)).await?;
    Ok(Json(users.iter().map(|u| UserView::of(u, Some(tenant))).collect()))
}

/// Adds a user to the tenant.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", security(("bearer" = [])), request_body = NewUserIn,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 409, description = "Email taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
async fn create_user(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Json(body): Json<NewUserIn>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let tenant = p.tenant_for(Permission::ManageAccounts)?.clone();
    let email = email_field(&body.email)?;
    let name = text_field(&body.name, "name", 120)?;
    password_field(&body.password)?;
    let role = match Role::parse(body.role.trim()) {
        Some(r @ (Role::Owner | Role::Manager | Role::Viewer)) => r,
        _ => {
            return Err(ApiError::unprocessable(
                "invalid_role",
                "El rol debe ser owner, manager o viewer.",
                "The role must be owner, manager or viewer.",
            ));
        }
    };
    let auth = api.auth.clone();
    let password = body.password;
    let password_hash = tokio::task::spawn_blocking(move || auth.hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())??;
    let user = UserRecord {
        id: Uuid::new_v4(),
        tenant: Some(tenant.id),
        email,
        name,
        role,
        password_hash,
        disabled: false,
        created_at: Utc::now(),
    };
    api.store.accounts().create_user(&user).await.map_err(|e| match e {
        fluxion_memory::StoreError::Conflict(_) => ApiError::conflict(
            "email_taken",
            "Ya existe un usuario con ese correo.",
            "A user with that email already exists.",
        ),
        other => other.into(),
    })?;
    Ok((StatusCode::CREATED, Json(UserView::of(&user, Some(&tenant)))))
}

/// Disables or enables a user of the tenant.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts", security(("bearer" = [])), request_body = UserPatch,
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "Updated", body = UserView),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such user in the tenant", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody),
    ))]
async fn update_user(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
    Json(body): Json<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    let tenant = p.tenant_for(Permission::ManageAccounts)?;
    if matches!(p.caller, crate::auth::Caller::User { id: me, .. } if me == id) && body.disabled {
        return Err(ApiError::unprocessable(
            "cannot_disable_self",
            "No puedes desactivarte a ti mismo.",
            "You cannot disable yourself.",
        ));
    }
    if !api.store.accounts().set_user_disabled(tenant.id, id, body.disabled).await? {
        return Err(ApiError::not_found("ese usuario", "user"));
    }
    let user = api.store.accounts().user(id).await?.ok_or_else(|| ApiError::not_found("ese usuario", "user"))?;
    Ok(Json(UserView::of(&user, Some(tenant))))
}

/// Lists the tenant's API keys (never their secrets).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "Keys", body = Vec<ApiKeyView>),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
    ))]
async fn list_keys(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Vec<ApiKeyView>>, ApiError> {
    let tenant = p.tenant_for(Permission::ManageAccounts)?;
    Ok(Json(api.store.accounts().api_keys(tenant.id).await?.iter().map(ApiKeyView::from).collect()))
}

/// Creates an API key. Its secret is in this response only.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "accounts", security(("bearer" = [])), request_body = NewApiKeyIn,
    responses(
        (status = 201, description = "Created; keep the secret now", body = NewApiKeyView),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
async fn create_key(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Json(body): Json<NewApiKeyIn>,
) -> Result<(StatusCode, Json<NewApiKeyView>), ApiError> {
    let tenant = p.tenant_for(Permission::ManageAccounts)?;
    let name = text_field(&body.name, "name", 120)?;
    let mut scopes = Vec::new();
    for s in &body.scopes {
        let scope = Scope::from(*s);
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(ApiError::unprocessable(
            "invalid_scope",
            "Indica al menos un alcance (read, ingest, ask, act).",
            "Give at least one scope (read, ingest, ask, act).",
        ));
    }
    scopes.sort();
    if body.rate_per_minute.is_some_and(|r| !(1..=100_000).contains(&r)) {
        return Err(ApiError::unprocessable(
            "invalid_rate",
            "rate_per_minute debe estar entre 1 y 100.000.",
            "rate_per_minute must be between 1 and 100,000.",
        ));
    }
    let created_by = match p.caller {
        crate::auth::Caller::User { id, .. } => Some(id),
        _ => None,
    };
    let (record, key) = issue_api_key(tenant.id, name, scopes, body.rate_per_minute, created_by);
    api.store.accounts().create_api_key(&record).await?;
    Ok((StatusCode::CREATED, Json(NewApiKeyView { key: ApiKeyView::from(&record), secret: key })))
}

/// Revokes an API key: it never works again.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not an owner", body = ErrorBody),
        (status = 404, description = "No such active key in the tenant", body = ErrorBody),
    ))]
async fn revoke_key(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let tenant = p.tenant_for(Permission::ManageAccounts)?;
    if !api.store.accounts().revoke_api_key(tenant.id, id, Utc::now()).await? {
        return Err(ApiError::not_found("esa clave activa", "active key"));
    }
    Ok(StatusCode::NO_CONTENT)
}
