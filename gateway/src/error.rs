//! The one error body every endpoint returns: `{"error":{"code":"…","message":"<es> / <en>"}}`.
//!
//! Codes are stable (clients match on them); messages are for people, in Spanish then English.
//! Extractor rejections (malformed JSON, wrong types, bodies over the limit, bad paths and query
//! strings) are turned into the same body by the [`Json`], [`Query`] and [`Path`] wrappers.

use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fluxion_memory::StoreError;
use serde::Serialize;
use std::borrow::Cow;
use utoipa::ToSchema;

/// The error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// A stable code and a bilingual message.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable (`invalid_token`, `rate_limited` …).
    #[schema(example = "not_found")]
    pub code: String,
    /// Spanish, then English, separated by " / ".
    #[schema(example = "No existe. / Not found.")]
    pub message: String,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    es: Cow<'static, str>,
    en: Cow<'static, str>,
    retry_after: Option<u64>,
}

impl ApiError {
    /// Any error.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        es: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self { status, code, es: es.into(), en: en.into(), retry_after: None }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Seconds to wait before trying again (rate limits, unavailability).
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The message in Spanish.
    pub fn message_es(&self) -> &str {
        &self.es
    }

    /// The message in English.
    pub fn message_en(&self) -> &str {
        &self.en
    }

    /// No such route.
    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "No existe esa ruta.", "There is no such route.")
    }

    /// No such thing (in the caller's tenant: another tenant's ids are "not found" too).
    pub fn not_found(what_es: &'static str, what_en: &'static str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No existe {what_es}."),
            format!("There is no such {what_en}."),
        )
    }

    /// A 400 about one input.
    pub fn invalid(code: &'static str, es: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, es, en)
    }

    /// A 422: well-formed but unusable.
    pub fn unprocessable(
        code: &'static str,
        es: impl Into<Cow<'static, str>>,
        en: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, es, en)
    }

    /// A 401.
    pub fn unauthorized(code: &'static str, es: &'static str, en: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, es, en)
    }

    /// No credentials at all.
    pub fn missing_credentials() -> Self {
        Self::unauthorized(
            "missing_credentials",
            "Falta la credencial (Authorization: Bearer …).",
            "Credentials are missing (Authorization: Bearer …).",
        )
    }

    /// A token that does not verify (signature, audience, issuer, type, shape).
    pub fn invalid_token() -> Self {
        Self::unauthorized("invalid_token", "La credencial no es válida.", "The credential is not valid.")
    }

    /// The credential is not allowed to do this.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Tu rol o tu clave no permite esta acción.",
            "Your role or key does not allow this action.",
        )
    }

    /// A 409.
    pub fn conflict(code: &'static str, es: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, es, en)
    }

    /// Over the request budget.
    pub fn rate_limited(retry_after_seconds: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Demasiadas solicitudes; intenta de nuevo en unos segundos.",
            "Too many requests; try again in a few seconds.",
        );
        e.retry_after = Some(retry_after_seconds.max(1));
        e
    }

    /// The request took longer than the server allows.
    pub fn timeout() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "La solicitud tardó demasiado; intenta de nuevo.",
            "The request took too long; try again.",
        );
        e.retry_after = Some(1);
        e
    }

    /// A backend did not answer.
    pub fn unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Un servicio interno no responde; intenta de nuevo en un momento.",
            "An internal service is not answering; try again shortly.",
        );
        e.retry_after = Some(5);
        e
    }

    /// A bug (never for bad input).
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Error interno.", "Internal error.")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail { code: self.code.to_owned(), message: format!("{} / {}", self.es, self.en) },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownTenant(_) => ApiError::invalid_token(),
            StoreError::UnknownReference { kind, code } => ApiError::unprocessable(
                "unknown_reference",
                format!("No existe {kind} {code:?} en tu cadena."),
                format!("There is no {kind} {code:?} in your chain."),
            ),
            StoreError::Conflict(what) => {
                ApiError::conflict("conflict", format!("Ya existe: {what}."), format!("Already exists: {what}."))
            }
            StoreError::TenantExists(slug) => ApiError::conflict(
                "tenant_exists",
                format!("Ya existe la cadena {slug}."),
                format!("Tenant {slug} already exists."),
            ),
            StoreError::Database(_) | StoreError::Io { .. } => {
                tracing::error!(error = %e, "store error");
                ApiError::unavailable()
            }
            StoreError::Corrupt(_) | StoreError::Migration(_) => {
                tracing::error!(error = %e, "store error");
                ApiError::internal()
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match &r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "El cuerpo debe ser JSON (Content-Type: application/json).",
                "The body must be JSON (Content-Type: application/json).",
            ),
            JsonRejection::JsonSyntaxError(_) => ApiError::invalid(
                "invalid_json",
                format!("El cuerpo no es JSON válido: {}", clip(&r.body_text())),
                format!("The body is not valid JSON: {}", clip(&r.body_text())),
            ),
            JsonRejection::JsonDataError(_) => ApiError::unprocessable(
                "invalid_body",
                format!("El cuerpo no tiene la forma esperada: {}", clip(&r.body_text())),
                format!("The body does not have the expected shape: {}", clip(&r.body_text())),
            ),
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
            _ => ApiError::invalid("invalid_body", "No se pudo leer el cuerpo.", "The body could not be read."),
        }
    }
}

/// A body over the limit.
pub fn body_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "El cuerpo es demasiado grande.",
        "The body is too large.",
    )
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::invalid(
            "invalid_query",
            format!("Parámetros de consulta inválidos: {}", clip(&r.body_text())),
            format!("Invalid query parameters: {}", clip(&r.body_text())),
        )
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        match r.status() {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "El formulario debe enviarse como application/x-www-form-urlencoded.",
                "The form must be sent as application/x-www-form-urlencoded.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
            _ => ApiError::unprocessable(
                "invalid_form",
                format!("El formulario no tiene la forma esperada: {}", clip(&r.body_text())),
                format!("The form does not have the expected shape: {}", clip(&r.body_text())),
            ),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::invalid(
            "invalid_path",
            format!("Ruta inválida: {}", clip(&r.body_text())),
            format!("Invalid path: {}", clip(&r.body_text())),
        )
    }
}

/// Rejection texts name the field and what was expected, and would echo the value sent: the value
/// (anything quoted) is left out, and the text kept short.
fn clip(s: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    quote = Some(c);
                }
            }
        }
    }
    if out.chars().count() > 200 {
        out = out.chars().take(200).collect();
        out.push('…');
    }
    out
}

/// `axum::Json` with the error body on rejection.
#[cfg(test)]
mod tests {
    #[test]
    fn rejection_texts_do_not_echo_values() {
        let t = super::clip("Cannot parse `id` with value `ca12de1a `: invalid type: string \"secreto\", expected u32");
        assert!(!t.contains("ca12de1a") && !t.contains("secreto"), "{t}");
        assert!(t.contains("expected u32"));
    }
}

#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` with the error body on rejection.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` with the error body on rejection.
#[derive(Debug, Clone, Copy, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);
