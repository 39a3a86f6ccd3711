//! The web dashboard: server-rendered Spanish pages (askama templates in `gateway/templates/`),
//! charts drawn as SVG on the server, a little plain JavaScript (`assets/fluxion.js`) for the live
//! parts (Server-Sent Events). Every page reads without JavaScript.
//!
//! - **Sessions** ([`session`]): logging in with the gateway's passwords opens a session, an
//!   HttpOnly cookie holding a refresh token of its own family (stored as its SHA-256, never rotated
//!   while in use; logging out or disabling the user revokes it). Every form carries a CSRF token
//!   derived from the session; the login form a double-submit token.
//! - **Tenancy:** every page reads the session's tenant only; an id from another tenant is "not
//!   found". Operators see the Trazas pages (of every tenant) and nothing else.
//! - **Acting** (acknowledging, feedback, approving, rejecting) needs the `Act` permission: viewers
//!   read and ask.

mod agents;
mod alerts;
mod catalog;
mod connectors;
mod forecasts;
mod orders;
mod session;
mod summary;
mod traces;

pub use session::DashboardConfig;

use crate::api::ApiState;
use crate::auth::Permission;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, FixedOffset, Utc};
use fluxion_domain::Tenant;
use fluxion_memory::{Role, StoreError};
pub(crate) use session::Session;

/// The pages' Content-Security-Policy: scripts, styles and connections from this origin only, no
/// inline script or style.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The dashboard's routes.
pub(crate) fn routes(api: ApiState) -> Router {
    let limit = api.http.request_timeout;
    let within = middleware::from_fn(move |req: Request, next: Next| crate::api::time_limit(limit, req, next));
    let pages = Router::new()
        .route("/", get(home))
        .route("/ingresar", get(session::login_page).post(session::login))
        .route("/salir", post(session::logout))
        .route("/resumen", get(summary::page))
        .route("/agentes", get(agents::page).post(agents::ask))
        .route("/alertas", get(alerts::page))
        .route("/alertas/{id}/reconocer", post(alerts::acknowledge))
        .route("/alertas/{id}/opinion", post(alerts::feedback))
        .route("/pronosticos", get(forecasts::page))
        .route("/pedidos", get(orders::page))
        .route("/pedidos/{id}/aprobar", post(orders::approve))
        .route("/pedidos/{id}/rechazar", post(orders::reject))
        .route("/conectores", get(connectors::page))
        .route("/trazas", get(traces::list))
        .route("/trazas/{id}", get(traces::show))
        .route("/static/{file}", get(asset))
        .layer(within)
        .layer(middleware::from_fn(server_timing));
    // Streams live as long as the page (or the question) does.
    let streams =
        Router::new().route("/agentes/preguntar", post(agents::stream)).route("/alertas/eventos", get(alerts::events));
    pages.merge(streams).with_state(api)
}

/// `Server-Timing: app;dur=<ms>`: how long the server took to make the page (what the page-time
/// goal and `fluxion bench dashboard` measure; browsers' developer tools show it too).
async fn server_timing(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let mut r = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        r.headers_mut().insert("server-timing", v);
    }
    r
}

async fn home(session: Option<Session>) -> Redirect {
    match session {
        Some(s) if s.is_operator() => Redirect::to("/trazas"),
        Some(_) => Redirect::to("/resumen"),
        None => Redirect::to("/ingresar"),
    }
}

/// The stylesheet and the script, built into the binary.
async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "fluxion.css" => (include_str!("../../assets/fluxion.css"), "text/css; charset=utf-8"),
        "fluxion.js" => (include_str!("../../assets/fluxion.js"), "text/javascript; charset=utf-8"),
        _ => return PageError::Api(ApiError::route_not_found()).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        body,
    )
        .into_response()
}

/// Why a page could not be shown.
#[derive(Debug)]
pub(crate) enum PageError {
    /// No session (or an expired one): to the login page, then back to `next`.
    Login {
        /// Where to come back to (a path of this site).
        next: String,
    },
    /// Any error, shown as a page with its status, code and message.
    Api(ApiError),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Api(ApiError::from(e))
    }
}

impl From<QueryRejection> for PageError {
    fn from(r: QueryRejection) -> Self {
        PageError::Api(ApiError::from(r))
    }
}

impl From<PathRejection> for PageError {
    fn from(r: PathRejection) -> Self {
        PageError::Api(ApiError::from(r))
    }
}

impl From<FormRejection> for PageError {
    fn from(r: FormRejection) -> Self {
        PageError::Api(ApiError::from(r))
    }
}

/// `axum::extract::Query` whose rejection is an error page (that never repeats the values sent).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(PageError))]
pub(crate) struct Query<T>(pub T);

/// `axum::extract::Path` whose rejection is an error page.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(PageError))]
pub(crate) struct Path<T>(pub T);

/// `axum::Form` whose rejection is an error page.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Form), rejection(PageError))]
pub(crate) struct Form<T>(pub T);

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "a page could not be rendered");
        PageError::Api(ApiError::internal())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    code: &'a str,
    es: &'a str,
    en: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login { next } => {
                let to = if safe_path(&next) && next != "/" {
                    format!("/ingresar?volver={next}")
                } else {
                    "/ingresar".into()
                };
                Redirect::to(&to).into_response()
            }
            PageError::Api(e) => {
                let page =
                    ErrorPage { status: e.status().as_u16(), code: e.code(), es: e.message_es(), en: e.message_en() };
                match page.render() {
                    Ok(body) => {
                        let mut r = html_response(body);
                        *r.status_mut() = e.status();
                        if let Some(s) = e.retry_after() {
                            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
                        }
                        r
                    }
                    Err(_) => e.into_response(),
                }
            }
        }
    }
}

/// A path of this site that is safe to redirect to and to write into a URL unescaped.
pub(crate) fn safe_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && p.len() <= 200
        && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'))
}

/// An HTML page with the dashboard's security headers.
pub(crate) fn html_response(body: String) -> Response {
    let mut r = ([(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], body).into_response();
    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    // Browsers then send the page's origin with its forms (checked against the host).
    r.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    r
}

/// Renders a page.
pub(crate) fn render(t: &impl Template) -> Result<Response, PageError> {
    Ok(html_response(t.render()?))
}

/// A link of the navigation bar.
#[derive(Debug, Clone)]
pub(crate) struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What every page shows around its content: who is logged in, the tenant, the navigation, the
/// CSRF token for its forms, and a notice after an action.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub title: String,
    pub user: String,
    pub role: &'static str,
    pub tenant: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub notice: Option<Notice>,
    pub can_act: bool,
}

/// A message after an action (Post/Redirect/Get: the redirect names it by code, never with text
/// that was sent).
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub ok: bool,
    pub text: String,
}

impl Notice {
    /// The notice a code names.
    pub(crate) fn of(code: Option<&str>) -> Option<Notice> {
        let (ok, text) = match code? {
            "reconocida" => (true, "Alerta marcada como vista."),
            "opinion" => (true, "Gracias: tu opinión ayuda a afinar las alertas."),
            "aprobada" => (true, "Aprobada: se creó el pedido o la transferencia."),
            "ya-aprobada" => (true, "Ya la habías aprobado: no se creó nada nuevo."),
            "rechazada" => (true, "Recomendación rechazada."),
            "ya-decidida" => (false, "Esa recomendación ya estaba decidida."),
            "no-ejecutable" => (false, "No se puede ejecutar: revisa los datos del proveedor."),
            _ => return None,
        };
        Some(Notice { ok, text: text.to_owned() })
    }
}

const TENANT_NAV: [(&str, &str); 6] = [
    ("/resumen", "Resumen"),
    ("/agentes", "Agentes"),
    ("/alertas", "Alertas"),
    ("/pronosticos", "Pronósticos"),
    ("/pedidos", "Pedidos y transferencias"),
    ("/conectores", "Conectores"),
];

impl Session {
    /// The page frame for `current` (a path of the navigation).
    pub(crate) fn chrome(&self, title: &str, current: &str, notice: Option<&str>) -> Chrome {
        let mut nav: Vec<NavItem> = Vec::new();
        if !self.is_operator() {
            nav.extend(TENANT_NAV.iter().map(|(href, label)| NavItem { href, label, current: *href == current }));
        }
        if self.is_operator() || self.principal.allows(Permission::ReadTraces) {
            nav.push(NavItem { href: "/trazas", label: "Trazas", current: current == "/trazas" });
        }
        Chrome {
            title: title.to_owned(),
            user: self.user.name.clone(),
            role: role_es(self.user.role),
            tenant: self.tenant.as_ref().map_or_else(|| "Operación Fluxion".to_owned(), |t| t.name.clone()),
            csrf: self.csrf.clone(),
            nav,
            notice: Notice::of(notice),
            can_act: self.principal.allows(Permission::Act),
        }
    }

    /// The tenant, when the user may do `p` there (operators have none: 403).
    pub(crate) fn tenant_for(&self, p: Permission) -> Result<&Tenant, PageError> {
        Ok(self.principal.tenant_for(p)?)
    }

    /// The store of the session's tenant for a form that changes something: the form's CSRF token
    /// checked, and the `Act` permission (viewers and operators: 403).
    pub(crate) async fn acting(
        &self,
        api: &ApiState,
        headers: &axum::http::HeaderMap,
        csrf: &str,
    ) -> Result<std::sync::Arc<dyn fluxion_memory::TenantStore>, PageError> {
        self.check(headers, Some(csrf))?;
        Ok(api.scoped(self.tenant_for(Permission::Act)?).await?)
    }

    /// Whether this is a Fluxion operator.
    pub(crate) fn is_operator(&self) -> bool {
        self.user.role == Role::Operator
    }
}

fn role_es(role: Role) -> &'static str {
    match role {
        Role::Owner => "Dueño",
        Role::Manager => "Gerente",
        Role::Viewer => "Consulta",
        Role::Operator => "Operador",
    }
}

/// The tenant's live context (items, books, tonight's forecasts), as the agents read it.
pub(crate) async fn live(
    api: &ApiState,
    tenant: &Tenant,
) -> Result<std::sync::Arc<fluxion_orchestrator::Live>, PageError> {
    api.runtime.live(&tenant.slug).await.map_err(|e| {
        tracing::error!(error = %e, "the tenant's context could not be loaded");
        PageError::Api(ApiError::unavailable())
    })
}

/// Venezuela's time (UTC−4) unless configured otherwise.
pub(crate) fn local(at: DateTime<Utc>, offset_hours: i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_hours * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC"));
    at.with_timezone(&offset)
}

/// `28/11/2026 14:05`, local time.
pub(crate) fn when(at: DateTime<Utc>, offset_hours: i32) -> String {
    local(at, offset_hours).format("%d/%m/%Y %H:%M").to_string()
}

/// The text with its first letter in upper case ("aprobada" → "Aprobada").
pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().collect::<String>() + c.as_str())
}

/// `US$ 1.234,56`.
pub(crate) fn usd(v: f64) -> String {
    format!("US$ {}", fluxion_domain::format::number(v, 2))
}

/// A 303 back to `to` with a notice.
pub(crate) fn back(to: &str, notice: &str) -> Response {
    Redirect::to(&format!("{to}?aviso={notice}")).into_response()
}

/// 404 for an id that is not in the session's tenant (whether it exists elsewhere is not said).
pub(crate) fn not_found(what_es: &'static str, what_en: &'static str) -> PageError {
    PageError::Api(ApiError::not_found(what_es, what_en))
}

/// A status for a page that answered nothing useful.
pub(crate) fn bad_request(es: &'static str, en: &'static str) -> PageError {
    PageError::Api(ApiError::new(StatusCode::BAD_REQUEST, "invalid_filter", es, en))
}
