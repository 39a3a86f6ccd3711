//! Tenants: the deployment's administrator creates, lists and deletes them; anyone sees their own.

use super::accounts::{email_field, password_field};
use super::views::{TenantView, UserView};
use super::{ApiState, text_field};
use crate::auth::{Caller, Principal};
use crate::error::{ApiError, ErrorBody, Json, Path};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use fluxion_domain::TenantSlug;
use fluxion_memory::{Role, UserRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub(super) fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants, create_tenant))
        .routes(routes!(delete_tenant))
        .routes(routes!(own_tenant))
}

fn admin_only(p: &Principal) -> Result<(), ApiError> {
    if matches!(p.caller, Caller::Admin) { Ok(()) } else { Err(ApiError::forbidden()) }
}

/// The first owner of a new tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerIn {
    /// Login.
    pub email: String,
    /// Display name.
    pub name: String,
    /// At least 10 characters.
    pub password: String,
}

/// A new tenant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantIn {
    /// Short name: lower-case letters, digits and `_`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Its first owner.
    pub owner: OwnerIn,
}

/// A created tenant and its owner.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewTenantView {
    /// The tenant.
    pub tenant: TenantView,
    /// Its owner.
    pub owner: UserView,
}

/// Lists every tenant (administrator only).
#[utoipa::path(get, path = "/api/v1/tenants", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "Tenants", body = Vec<TenantView>),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not the administrator", body = ErrorBody),
    ))]
async fn list_tenants(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Vec<TenantView>>, ApiError> {
    admin_only(&p)?;
    Ok(Json(api.store.tenants().await?.iter().map(TenantView::from).collect()))
}

/// Creates a tenant with its first owner (administrator only).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "admin", security(("bearer" = [])), request_body = NewTenantIn,
    responses(
        (status = 201, description = "Created", body = NewTenantView),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not the administrator", body = ErrorBody),
        (status = 409, description = "Slug or email taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ))]
async fn create_tenant(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Json(body): Json<NewTenantIn>,
) -> Result<(StatusCode, Json<NewTenantView>), ApiError> {
    admin_only(&p)?;
    let slug = TenantSlug::parse(body.slug.trim()).map_err(|e| {
        ApiError::unprocessable("invalid_slug", format!("Nombre corto inválido: {e}"), format!("Invalid slug: {e}"))
    })?;
    let name = text_field(&body.name, "name", 120)?;
    let email = email_field(&body.owner.email)?;
    let owner_name = text_field(&body.owner.name, "owner.name", 120)?;
    password_field(&body.owner.password)?;
    if api.store.accounts().user_by_email(&email).await?.is_some() {
        return Err(ApiError::conflict(
            "email_taken",
            "Ya existe un usuario con ese correo.",
            "A user with that email already exists.",
        ));
    }
    let auth = api.auth.clone();
    let password = body.owner.password;
    let password_hash = tokio::task::spawn_blocking(move || auth.hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())??;
    let tenant = api.store.create_tenant(&slug, &name).await?;
    let owner = UserRecord {
        id: Uuid::new_v4(),
        tenant: Some(tenant.id),
        email,
        name: owner_name,
        role: Role::Owner,
        password_hash,
        disabled: false,
        created_at: Utc::now(),
    };
    if let Err(e) = api.store.accounts().create_user(&owner).await {
        // No tenant without an owner: undo.
        let _ = api.store.delete_tenant(&slug).await;
        return Err(match e {
            fluxion_memory::StoreError::Conflict(_) => ApiError::conflict(
                "email_taken",
                "Ya existe un usuario con ese correo.",
                "A user with that email already exists.",
            ),
            other => other.into(),
        });
    }
    tracing::info!(tenant = %slug, "tenant created through the API");
    Ok((
        StatusCode::CREATED,
        Json(NewTenantView { owner: UserView::of(&owner, Some(&tenant)), tenant: TenantView::from(&tenant) }),
    ))
}

/// Deletes a tenant and all of its data (administrator only).
#[utoipa::path(delete, path = "/api/v1/tenants/{slug}", tag = "admin", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Tenant slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "Not the administrator", body = ErrorBody),
        (status = 404, description = "No such tenant", body = ErrorBody),
    ))]
async fn delete_tenant(
    State(api): State<ApiState>,
    Extension(p): Extension<Principal>,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin_only(&p)?;
    let not_found = || ApiError::not_found("esa cadena", "tenant");
    let slug = TenantSlug::parse(&slug).map_err(|_| not_found())?;
    match api.store.delete_tenant(&slug).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(fluxion_memory::StoreError::UnknownTenant(_)) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// The caller's own tenant.
#[utoipa::path(get, path = "/api/v1/tenant", tag = "admin", security(("bearer" = [])),
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        (status = 401, description = "No valid credential", body = ErrorBody),
        (status = 403, description = "The credential has no tenant", body = ErrorBody),
    ))]
async fn own_tenant(Extension(p): Extension<Principal>) -> Result<Json<TenantView>, ApiError> {
    p.tenant.as_ref().map(|t| Json(TenantView::from(t))).ok_or_else(ApiError::forbidden)
}
