//! Dashboard sessions: login, logout, the session cookie, CSRF tokens.

use super::{Chrome, Form, PageError, Query, render, safe_path};
use crate::api::ApiState;
use crate::auth::{Caller, Principal, digest, new_refresh_token, random};
use crate::error::ApiError;
use askama::Template;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use fluxion_domain::Tenant;
use fluxion_memory::{RefreshRecord, UserRecord};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "fx_sesion";
/// The login form's double-submit cookie.
const LOGIN_COOKIE: &str = "fx_ingreso";

/// Dashboard settings.
#[derive(Debug, Clone)]
pub struct DashboardConfig {
    /// Serve the dashboard.
    pub enabled: bool,
    /// How long a session lasts after logging in.
    pub session_ttl: Duration,
    /// Mark cookies `Secure` (behind HTTPS; browsers then send them over HTTPS only).
    pub secure_cookies: bool,
    /// The tenants' local time, hours from UTC (Venezuela: −4).
    pub utc_offset_hours: i32,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self { enabled: true, session_ttl: Duration::from_secs(12 * 3600), secure_cookies: false, utc_offset_hours: -4 }
    }
}

/// A logged-in user of the dashboard.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Who.
    pub user: UserRecord,
    /// Their tenant (none for operators).
    pub tenant: Option<Tenant>,
    /// The same, as the API's permission checks take it.
    pub principal: Principal,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// The SHA-256 of the session's token.
    token_hash: [u8; 32],
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// The CSRF token of a session: it can only be known by reading one of the session's pages.
fn csrf_of(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("fluxion-csrf:{token}").as_bytes()))
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn set_cookie(api: &ApiState, name: &str, value: &str, max_age: u64, same_site: &str) -> HeaderValue {
    let secure = if api.dashboard.secure_cookies { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("fx=; Max-Age=0"))
}

fn refused() -> PageError {
    PageError::Api(ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "El formulario venció o no vino de Fluxion; recarga la página e intenta de nuevo.",
        "The form expired or did not come from Fluxion; reload the page and try again.",
    ))
}

/// Whether a request that changes something came from this site: its `Origin` (when the browser
/// sends one; "null" is an origin withheld by privacy settings, and the CSRF token decides alone)
/// names the host it was sent to.
fn same_origin(parts: &HeaderMap) -> bool {
    let Some(origin) = parts.get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| *o != "null") else {
        return true;
    };
    let host = parts.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin.split_once("://").is_some_and(|(_, rest)| rest == host)
}

impl Session {
    /// Refuses a form (or a script's request) without this session's CSRF token.
    pub(crate) fn check(&self, headers: &HeaderMap, token: Option<&str>) -> Result<(), PageError> {
        let presented =
            token.filter(|t| !t.is_empty()).or_else(|| headers.get("x-csrf-token").and_then(|v| v.to_str().ok()));
        match presented {
            Some(t) if same(t, &self.csrf) && same_origin(headers) => Ok(()),
            _ => Err(refused()),
        }
    }

    /// How records name this user (`user:<id>`).
    pub(crate) fn actor(&self) -> String {
        self.principal.actor()
    }
}

impl FromRequestParts<ApiState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, api: &ApiState) -> Result<Self, Self::Rejection> {
        // Back to the page after logging in; a form's target is not a page (it would be fetched
        // with GET), so an expired session's form goes to the summary instead.
        let next = if parts.method == axum::http::Method::GET { parts.uri.path().to_owned() } else { String::new() };
        let login = || PageError::Login { next: next.clone() };
        let token = cookie(&parts.headers, SESSION_COOKIE).filter(|t| !t.is_empty() && t.len() <= 128);
        let Some(token) = token else { return Err(login()) };
        let hash = digest(token);
        let Some(user) = api.store.accounts().session_user(&hash, Utc::now()).await? else { return Err(login()) };
        let tenant = match user.tenant {
            Some(t) => Some(api.store.tenant_by_id(t).await?.ok_or_else(login)?),
            None => None,
        };
        let principal = Principal { caller: Caller::User { id: user.id, role: user.role }, tenant: tenant.clone() };
        // Pages draw from the same budget as the tenant's API calls.
        crate::api::spend(api, &principal).await?;
        let csrf = csrf_of(token);
        Ok(Session { user, tenant, principal, csrf, token_hash: hash })
    }
}

impl OptionalFromRequestParts<ApiState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, api: &ApiState) -> Result<Option<Self>, Self::Rejection> {
        match <Session as FromRequestParts<ApiState>>::from_request_parts(parts, api).await {
            Ok(s) => Ok(Some(s)),
            Err(PageError::Login { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    token: String,
    next: String,
    email: String,
    error: Option<&'static str>,
}

fn anonymous(title: &str) -> Chrome {
    Chrome {
        title: title.to_owned(),
        user: String::new(),
        role: "",
        tenant: String::new(),
        csrf: String::new(),
        nav: Vec::new(),
        notice: None,
        can_act: false,
    }
}

/// Where to go after logging in.
#[derive(Debug, Deserialize)]
pub(crate) struct Next {
    volver: Option<String>,
}

fn login_form(
    api: &ApiState,
    next: String,
    email: String,
    error: Option<&'static str>,
    status: StatusCode,
) -> Response {
    let mut bytes = [0u8; 24];
    random(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let page = LoginPage { c: anonymous("Ingresar"), token: token.clone(), next, email, error };
    match render(&page) {
        Ok(mut r) => {
            *r.status_mut() = status;
            r.headers_mut().append(header::SET_COOKIE, set_cookie(api, LOGIN_COOKIE, &token, 3600, "Strict"));
            r
        }
        Err(e) => e.into_response(),
    }
}

/// The login page.
pub(crate) async fn login_page(State(api): State<ApiState>, Query(q): Query<Next>) -> Response {
    let next = q.volver.filter(|p| safe_path(p)).unwrap_or_default();
    login_form(&api, next, String::new(), None, StatusCode::OK)
}

/// The login form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    token: String,
    #[serde(default)]
    volver: String,
}

/// Logs in: a new session, then to the page asked for (or the summary).
pub(crate) async fn login(State(api): State<ApiState>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let next = Some(form.volver.clone()).filter(|p| safe_path(p)).unwrap_or_default();
    let double_submit = cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same(c, &form.token));
    if !double_submit || !same_origin(&headers) {
        return refused().into_response();
    }
    let email = form.email.chars().take(254).collect::<String>();
    let user = match crate::api::auth_routes::check_password(&api, &form.email, form.password).await {
        Ok(u) => u,
        Err(e) if e.code() == "rate_limited" => {
            return login_form(
                &api,
                next,
                email,
                Some("Demasiados intentos con este correo: espera un minuto e intenta de nuevo."),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(e) if e.status().is_client_error() => {
            return login_form(&api, next, email, Some("Correo o contraseña incorrectos."), StatusCode::UNAUTHORIZED);
        }
        Err(e) => return PageError::Api(e).into_response(),
    };
    let token = new_refresh_token();
    let now = Utc::now();
    let ttl = api.dashboard.session_ttl;
    let record = RefreshRecord {
        id: Uuid::new_v4(),
        family: Uuid::new_v4(),
        user: user.id,
        token_hash: digest(&token),
        issued_at: now,
        expires_at: now + chrono::Duration::seconds(i64::try_from(ttl.as_secs()).unwrap_or(43_200)),
    };
    if let Err(e) = api.store.accounts().insert_refresh(&record).await {
        return PageError::from(e).into_response();
    }
    tracing::info!(user = %user.id, "logged in to the dashboard");
    let to = if !next.is_empty() && next != "/ingresar" {
        next
    } else if user.tenant.is_none() {
        "/trazas".into()
    } else {
        "/resumen".into()
    };
    let mut r = Redirect::to(&to).into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&api, SESSION_COOKIE, &token, ttl.as_secs(), "Lax"));
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&api, LOGIN_COOKIE, "", 0, "Strict"));
    r
}

/// A form that carries only its CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    pub csrf: String,
}

/// Logs out: the session stops working everywhere.
pub(crate) async fn logout(
    State(api): State<ApiState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    session.check(&headers, Some(&form.csrf))?;
    api.store.accounts().revoke_refresh_family(&session.token_hash, Utc::now()).await?;
    let mut r = Redirect::to("/ingresar").into_response();
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&api, SESSION_COOKIE, "", 0, "Lax"));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; fx_sesion_x=no; fx_sesion=abc"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&h, "fx_sesion"), Some("abc"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn only_this_sites_paths_are_followed() {
        assert!(safe_path("/alertas"));
        assert!(!safe_path("//evil.example/x"));
        assert!(!safe_path("https://evil.example"));
        assert!(!safe_path("/a?b=<script>"));
        assert!(!safe_path("/a b"));
    }

    #[test]
    fn origins_must_name_the_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&h));
    }

    proptest! {
        #[test]
        fn cookie_parsing_never_panics(header_text in "[ -~]{0,200}", name in "[a-z_]{1,12}") {
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&header_text) {
                h.insert(header::COOKIE, v);
            }
            let _ = cookie(&h, &name);
        }

        #[test]
        fn csrf_tokens_differ_per_session(a in "[A-Za-z0-9_-]{20,60}", b in "[A-Za-z0-9_-]{20,60}") {
            prop_assume!(a != b);
            prop_assert_ne!(csrf_of(&a), csrf_of(&b));
        }
    }
}
