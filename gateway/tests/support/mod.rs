//! A real API server for tests: two demo tenants on SQLite (or on a fresh PostgreSQL database, with
//! rate limits in Redis), their forecasts, alerts and recommendations computed by the real runtime,
//! users of every role, served on 127.0.0.1:0 and called over HTTP.
#![allow(dead_code, clippy::unwrap_used)]

use chrono::{NaiveDate, Utc};
use fluxion_connectors::demo::{DemoConfig, generate};
use fluxion_domain::product::ProductFields;
use fluxion_domain::*;
use fluxion_gateway::{Api, AppState, AuthConfig, HttpLimits, RateLimits};
use fluxion_memory::{
    ChangeSet, InProcessBus, InProcessLimiter, Job, JobKind, Limit, RateLimiter, RedisLimiter, Role, Store, UserRecord,
};
use fluxion_orchestrator::{JobRunner, Runtime, RuntimeConfig};
use serde_json::Value;
use sqlx::Connection;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub const PASSWORD: &str = "clave-de-prueba-123";
pub const SECRET: &[u8] = b"a test signing secret of at least 32 bytes!";
pub const ADMIN_TOKEN: &str = "admin-token-for-tests-0123456789";
/// A store and a product only tenant B has: no response to tenant A may ever contain them.
pub const B_ONLY_STORE: &str = "SOLO-B-TIENDA";
pub const B_ONLY_PRODUCT: &str = "SOLO-B-PRODUCTO";

pub fn services_required() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
        || std::env::var("FLUXION_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

fn env_or_skip(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if services_required() => panic!("{name} must be set: these tests are mandatory here"),
        _ => {
            eprintln!("{name} not set: skipping this run");
            None
        }
    }
}

/// Which backends a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backends {
    /// SQLite files, in-process limits: the embedded mode.
    Embedded,
    /// PostgreSQL and Redis (skipped unless configured; mandatory in CI).
    Services,
}

/// Options of a test server.
#[derive(Debug, Clone)]
pub struct Options {
    pub limits: RateLimits,
    pub http: HttpLimits,
    /// Serve WhatsApp against a fake of Meta (with these fake settings).
    pub whatsapp: Option<fluxion_gateway::whatsapp::fake::FakeConfig>,
    /// Give tenant A one product that is long at one store and out at the other, so that the
    /// optimizer recommends a transfer.
    pub imbalance: bool,
    /// Scan tenant A's alerts before serving (off: its first scan raises every alert as new).
    pub scan_a: bool,
}

pub const WA_SECRET: &str = "test-app-secret";
pub const WA_TOKEN: &str = "test-access-token";
pub const WA_VERIFY: &str = "test-verify-token";
pub const WA_NUMBER_ID: &str = "106540352242922";

/// Options with WhatsApp on.
pub fn with_whatsapp() -> Options {
    Options {
        whatsapp: Some(fluxion_gateway::whatsapp::fake::FakeConfig::new(WA_SECRET, WA_TOKEN, WA_NUMBER_ID)),
        ..Options::default()
    }
}

/// The WhatsApp number of a role's user in tenant A or B.
pub fn phone(role: Role, tenant_b: bool) -> String {
    let n = match role {
        Role::Owner => 0,
        Role::Manager => 1,
        Role::Viewer => 2,
        Role::Operator => 3,
    };
    format!("58{}000000{n}", if tenant_b { "424" } else { "414" })
}

impl Default for Options {
    fn default() -> Self {
        let mut limits = RateLimits::default();
        // Tests make many requests quickly: budgets large enough not to interfere, except where a
        // test sets its own.
        limits.tiers.insert("standard".into(), Limit::new(100_000, 10_000));
        limits.login = Limit::new(1_000, 200);
        let http = HttpLimits { cors_origins: vec!["https://panel.example.com".into()], ..HttpLimits::default() };
        Self { limits, http, whatsapp: None, imbalance: false, scan_a: true }
    }
}

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub runtime: Runtime,
    pub auth: AuthConfig,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
    /// Tenant A's slug, tenant B's slug, and this run's suffix.
    tenants: (String, String, String),
    /// The WhatsApp channel and the fake of Meta, when asked for.
    pub wa: Option<(Arc<fluxion_gateway::whatsapp::WhatsApp>, fluxion_gateway::whatsapp::fake::MetaFake)>,
}

pub fn slug(s: &str) -> TenantSlug {
    TenantSlug::parse(s).unwrap()
}

pub fn email(role: &str, tenant: &str) -> String {
    format!("{role}@{tenant}.test")
}

pub fn auth_config() -> AuthConfig {
    let mut a = AuthConfig::new(SECRET).unwrap().with_admin_token(ADMIN_TOKEN);
    // Cheap hashes: the tests log in often.
    a.argon2_memory_kib = 256;
    a.argon2_iterations = 1;
    a
}

async fn load_tenant(store: &Arc<dyn Store>, name: &str, seed: u64) {
    store.create_tenant(&slug(name), name).await.unwrap();
    let scoped = store.scope(&slug(name)).await.unwrap();
    let end = Utc::now().date_naive() - chrono::Duration::days(1);
    for batch in generate(&DemoConfig::new(seed, 2, 25, 200, end).unwrap()).unwrap().batches() {
        scoped.apply(&batch).await.unwrap();
    }
}

fn b_only() -> ChangeSet {
    let store = Location {
        code: LocationCode::parse(B_ONLY_STORE).unwrap(),
        name: "Tienda sólo de B".into(),
        city: "Maracaibo".into(),
        kind: LocationKind::Store,
    };
    let product = Product::new(ProductFields {
        code: ProductCode::parse(B_ONLY_PRODUCT).unwrap(),
        barcodes: vec![],
        name: "Producto sólo de B".into(),
        brand: "Marca B".into(),
        category: "Víveres".into(),
        unit: Unit::Each,
        pack_size: 1,
        shelf_life_days: None,
        cost: Money::usd_cents(100),
        price: Money::usd_cents(150),
        supplier: None,
    })
    .unwrap();
    ChangeSet { locations: vec![store], products: vec![product], ..ChangeSet::default() }
}

impl Server {
    /// A server on `backends`, or `None` when those backends are not configured (and not required).
    pub async fn start(backends: Backends, options: Options) -> Option<Server> {
        let dir = tempfile::tempdir().unwrap();
        let (store, pg, limiter): (Arc<dyn Store>, _, Arc<dyn RateLimiter>) = match backends {
            Backends::Embedded => {
                (fluxion_memory::open_sqlite(dir.path()).await.unwrap(), None, Arc::new(InProcessLimiter::new()))
            }
            Backends::Services => {
                let admin_url = env_or_skip("FLUXION_TEST_DATABASE_URL")?;
                let redis = env_or_skip("FLUXION_TEST_REDIS_URL")?;
                let db = format!("fluxion_test_{}", Uuid::new_v4().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}"))).execute(&mut admin).await.unwrap();
                admin.close().await.unwrap();
                let url = with_database(&admin_url, &db);
                let store = fluxion_memory::open_postgres(&fluxion_memory::PostgresOptions::new(url)).await.unwrap();
                (store, Some((admin_url, db)), Arc::new(RedisLimiter::new(&redis).unwrap()))
            }
        };
        // Tenants' slugs are unique per test run so that Redis budgets of parallel tests never meet.
        let run = Uuid::new_v4().simple().to_string()[..6].to_owned();
        let (a, b) = (format!("cadena_a_{run}"), format!("cadena_b_{run}"));
        load_tenant(&store, &a, 11).await;
        load_tenant(&store, &b, 12).await;
        store.scope(&slug(&b)).await.unwrap().apply(&b_only()).await.unwrap();
        if options.imbalance {
            imbalance(&store, &a).await;
        }
        let runtime =
            Runtime::start(store.clone(), Arc::new(InProcessBus::new()), RuntimeConfig::default()).await.unwrap();
        let runner = JobRunner::new(runtime.clone(), store.clone());
        for tenant in [&a, &b] {
            for kind in [JobKind::RefreshForecasts, JobKind::ScanAlerts, JobKind::Optimize] {
                if kind == JobKind::ScanAlerts && tenant == &a && !options.scan_a {
                    continue;
                }
                let job = Job {
                    id: Uuid::new_v4().to_string(),
                    tenant: slug(tenant),
                    kind,
                    key: format!("{}:{tenant}", kind.as_str()),
                    attempt: 1,
                };
                runner.run(&job).await.unwrap();
            }
        }
        let auth = auth_config();
        for (i, tenant) in [&a, &b].into_iter().enumerate() {
            let t = store.tenant(&slug(tenant)).await.unwrap().unwrap();
            for role in [Role::Owner, Role::Manager, Role::Viewer] {
                let user = add_user(&store, &auth, Some(t.id), &email(role.as_str(), tenant), role).await;
                let contact = fluxion_memory::Contact {
                    phone: phone(role, i == 1),
                    user,
                    tenant: t.id,
                    stores: Vec::new(),
                    alerts: true,
                    created_at: Utc::now(),
                };
                store.messaging().save_contact(&contact).await.unwrap();
            }
        }
        add_user(&store, &auth, None, &email("operator", &run), Role::Operator).await;
        let mut api = Api::new(store.clone(), runtime.clone(), auth.clone(), limiter);
        api.limits = options.limits;
        api.http = options.http;
        let mut state = AppState::new(vec![], Duration::from_secs(1)).with_api(api).with_metrics(Arc::new(NoGauges));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let mut wa = None;
        if let Some(fake_config) = options.whatsapp {
            use fluxion_gateway::whatsapp::{GraphConfig, WhatsApp, WhatsAppConfig, fake::MetaFake};
            let fake = MetaFake::start(fake_config).await.unwrap();
            fake.set_webhook(&format!("{base}/webhooks/whatsapp"));
            let graph = GraphConfig {
                base_url: fake.base_url().to_owned(),
                version: "v23.0".into(),
                phone_number_id: WA_NUMBER_ID.into(),
                access_token: WA_TOKEN.into(),
                timeout: Duration::from_secs(1),
            };
            let mut config = WhatsAppConfig::new(WA_VERIFY, WA_SECRET, graph);
            config.lease = Duration::from_secs(2);
            config.poll = Duration::from_millis(100);
            config.reconcile_after = Duration::from_secs(2);
            config.push.enabled = false;
            // Managers approve nothing above US$ 0 here: the limit is exercised; owners approve.
            config.manager_limit_usd = 0.0;
            config.push.quiet_from = 0;
            config.push.quiet_until = 0;
            let channel = WhatsApp::new(config, store.clone(), runtime.clone()).unwrap();
            channel.start(&shutdown);
            state = state.with_whatsapp(channel.clone());
            wa = Some((channel, fake));
        }
        let task = tokio::spawn(fluxion_gateway::serve(listener, state, shutdown.clone()));
        let client = fluxion_memory::http_client(Duration::from_secs(60)).unwrap();
        Some(Server { base, client, store, runtime, auth, shutdown, task, _dir: dir, pg, tenants: (a, b, run), wa })
    }
}

/// The product that sells most at both of a tenant's stores gets two months of stock at the first
/// and none at the second (counted on the last day).
async fn imbalance(store: &Arc<dyn Store>, tenant: &str) {
    let scoped = store.scope(&slug(tenant)).await.unwrap();
    let stores: Vec<LocationCode> = scoped
        .locations()
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.kind == LocationKind::Store)
        .map(|l| l.code)
        .collect();
    let end = Utc::now().date_naive() - chrono::Duration::days(1);
    let query = fluxion_memory::DemandQuery { from: Some(end - chrono::Duration::days(27)), ..Default::default() };
    let demand = scoped.daily_demand(&query).await.unwrap();
    let sold = |store: &LocationCode, product: &ProductCode| -> f64 {
        demand.iter().filter(|d| &d.store == store && &d.product == product).map(|d| d.units).sum()
    };
    let products: Vec<ProductCode> = scoped.products().await.unwrap().iter().map(|p| p.code().clone()).collect();
    let (long, short) = (&stores[0], &stores[1]);
    let product = products
        .iter()
        .max_by(|x, y| sold(long, x).min(sold(short, x)).total_cmp(&sold(long, y).min(sold(short, y))))
        .unwrap()
        .clone();
    let snap = |location: &LocationCode, units: f64| StockSnapshot {
        location: location.clone(),
        product: product.clone(),
        day: end,
        on_hand: StockQuantity::new(units).unwrap(),
    };
    let rate = sold(long, &product) / 28.0;
    let changes = ChangeSet { stock: vec![snap(long, (rate * 90.0).ceil()), snap(short, 0.0)], ..ChangeSet::default() };
    scoped.apply(&changes).await.unwrap();
}

struct NoGauges;

#[async_trait::async_trait]
impl fluxion_gateway::MetricsSource for NoGauges {
    async fn collect(&self) {}
}

pub async fn add_user(
    store: &Arc<dyn Store>,
    auth: &AuthConfig,
    tenant: Option<TenantId>,
    email: &str,
    role: Role,
) -> Uuid {
    let user = UserRecord {
        id: Uuid::new_v4(),
        tenant,
        email: email.to_owned(),
        name: email.to_owned(),
        role,
        password_hash: auth.hash_password(PASSWORD).unwrap(),
        disabled: false,
        created_at: Utc::now(),
    };
    store.accounts().create_user(&user).await.unwrap();
    user.id
}

pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{db}{query}")
}

/// A response: status, headers, body as JSON (Null when empty or not JSON), raw text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Reply {
    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, showing the body otherwise.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.text);
        &self.json
    }
}

impl Server {
    pub fn tenant_a(&self) -> &str {
        &self.tenants.0
    }

    pub fn tenant_b(&self) -> &str {
        &self.tenants.1
    }

    pub fn operator_email(&self) -> String {
        email("operator", &self.tenants.2)
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(reqwest::Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(token), Some(body)).await
    }

    /// Logs in; the (access, refresh) tokens.
    pub async fn login(&self, email: &str) -> (String, String) {
        let r = self
            .send(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(serde_json::json!({"email": email, "password": PASSWORD})),
            )
            .await;
        let body = r.expect(200);
        (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
    }

    /// An access token of `role` in tenant A or B.
    pub async fn token(&self, role: &str, tenant_b: bool) -> String {
        let tenant = if tenant_b { self.tenant_b() } else { self.tenant_a() };
        self.login(&email(role, tenant)).await.0
    }

    /// Begins the server's graceful shutdown (`stop` finishes it).
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        self.runtime.shutdown().await;
        drop(self.store);
        if let Some((admin_url, db)) = self.pg {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")))
                .execute(&mut admin)
                .await
                .unwrap();
        }
    }
}

/// A client that opens a connection per request: the server closes a connection whose request body
/// it did not read (an early 401 or 404), and a pooled client would then reuse a closed connection.
pub fn unpooled_client() -> reqwest::Client {
    // The product's client first: it installs the TLS provider every reqwest client needs.
    fluxion_memory::http_client(Duration::from_secs(60)).unwrap();
    reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(60)).build().unwrap()
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, json, text }
}

/// Percent-encodes a string for a URL or a form body (unreserved bytes as they are).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A day for fixtures.
pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Runs the test function `$name(&Server)` on the embedded server and on PostgreSQL + Redis.
#[macro_export]
macro_rules! on_both {
    ($name:ident) => {
        on_both!($name, support::Options::default());
    };
    ($name:ident, $options:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                let s = support::Server::start(support::Backends::Embedded, $options).await.unwrap();
                super::$name(&s).await;
                s.stop().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn services() {
                if let Some(s) = support::Server::start(support::Backends::Services, $options).await {
                    super::$name(&s).await;
                    s.stop().await;
                }
            }
        }
    };
}
