//! The OpenAPI 3.1 document, generated from the handlers (utoipa), served at
//! `/api/v1/openapi.json`, and its documentation page at `/api/v1/docs/` (Swagger UI, built into the
//! binary: it works without internet).

use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fluxion API",
        version = "1",
        description = "Inventory intelligence for retail chains. Every call is scoped to the tenant of its \
            credential: a user's access token (`POST /api/v1/auth/login`) or an integration's API key. \
            Errors are `{\"error\":{\"code\",\"message\"}}` with a stable code and a message in Spanish and English."
    ),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Login, refresh with rotation, logout"),
        (name = "accounts", description = "Users and API keys (owners)"),
        (name = "admin", description = "Tenants (the deployment's administrator)"),
        (name = "data", description = "Stores, products, stock, sales, forecasts"),
        (name = "decisions", description = "Alerts and recommendations"),
        (name = "ask", description = "Questions and answers"),
        (name = "traces", description = "What the agents did"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An access token from /api/v1/auth/login, or an API key (fxk_…)"))
                    .build(),
            ),
        );
        components
            .add_security_scheme("api_key", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))));
    }
}

/// The document's fixed parts (info, security schemes, tags); the routes add their paths.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Adds the answers every operation can give whatever its handler does — the middleware's:
/// 401 (secured operations), 429 (rate limits), 503 (timeouts, a backend down) and, for operations
/// with a JSON body, 400 (malformed), 413 (too large), 415 (not JSON) and 422 (wrong shape).
pub fn complete(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build()
    };
    for item in doc.paths.paths.values_mut() {
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_body = op.request_body.is_some();
            let responses = &mut op.responses.responses;
            let mut add = |code: &str, description: &str| {
                responses.entry(code.to_owned()).or_insert_with(|| error(description).into());
            };
            if secured {
                add("401", "No valid credential");
                add("429", "Over the request budget (see Retry-After)");
            }
            if has_body {
                add("400", "Malformed JSON");
                add("413", "Body too large");
                add("415", "The body is not JSON");
                add("422", "The body does not have the expected shape");
            }
            add("503", "Timed out, or a backend is not answering (see Retry-After)");
        }
    }
    doc
}

/// The JSON document and the docs page.
pub fn docs(doc: utoipa::openapi::OpenApi) -> axum::Router {
    axum::Router::from(SwaggerUi::new("/api/v1/docs").url("/api/v1/openapi.json", doc)).layer(
        SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
                 img-src 'self' data:; frame-ancestors 'none'",
            ),
        ),
    )
}
