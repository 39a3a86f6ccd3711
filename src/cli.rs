//! The command line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Fluxion: inventory intelligence for retail chains.
#[derive(Debug, Parser)]
#[command(name = "fluxion", version, about, propagate_version = true)]
pub struct Cli {
    /// Folder of the embedded data (SQLite files). Default ./fluxion-data.
    #[arg(long, global = true, env = "FLUXION_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// A settings file (TOML) layered over the defaults of config/fluxion.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print results as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (/healthz, /readyz) until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Create the demo tenant and load the generated demo chain into it.
    Demo(DemoArgs),
    /// Import a CSV file (plain or gzip) into a tenant.
    Import(ImportArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Manage users (password read from FLUXION_NEW_PASSWORD or standard input).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage a tenant's API keys for integrations.
    #[command(subcommand, name = "api-keys")]
    ApiKeys(ApiKeysCommand),
    /// Forecast demand of a product at a store, or evaluate the forecasters (`forecast eval`).
    Forecast(ForecastArgs),
    /// Tonight's alerts of a tenant, with money impact, action and reason.
    Alerts(AlertsArgs),
    /// Orders to place and transfers to make, explained, with the margin they protect.
    Recommend(RecommendArgs),
    /// Replay a tenant's history day by day under a replenishment policy and measure it.
    Simulate(SimulateArgs),
    /// Ask the agents a question in Spanish and print the unified answer.
    Ask(AskArgs),
    /// Read the traces of past requests.
    #[command(subcommand)]
    Traces(TracesCommand),
    /// Print the effective settings, secrets redacted.
    Config,
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Load the demo chain first if the demo tenant is missing or incomplete.
    #[arg(long)]
    pub demo: bool,
    /// Port to listen on (0 picks a free one and logs it). Overrides server.port.
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on. Overrides server.host.
    #[arg(long)]
    pub host: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct DemoArgs {
    /// Tenant to load the demo into.
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// Random seed (default: demo.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of stores (default: demo.stores).
    #[arg(long)]
    pub stores: Option<usize>,
    /// Number of products (default: demo.products).
    #[arg(long)]
    pub products: Option<usize>,
    /// Days of history (default: demo.days).
    #[arg(long)]
    pub days: Option<u32>,
    /// Last day of history, YYYY-MM-DD (default: yesterday).
    #[arg(long)]
    pub end: Option<String>,
    /// Load again even if the tenant already holds a complete demo (loading is idempotent).
    #[arg(long)]
    pub reload: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// `[KIND] FILE`: what the file holds (products, locations, sales, stock, events; implied by
    /// --preset) and the CSV file itself (plain or gzip).
    #[arg(value_name = "KIND FILE", num_args = 1..=2, required = true)]
    pub items: Vec<String>,
    /// The tenant to import into.
    #[arg(long)]
    pub tenant: String,
    /// Create the tenant if it does not exist.
    #[arg(long)]
    pub create_tenant: bool,
    /// A known layout: m5, m5-calendar, store-item, carparts.
    #[arg(long)]
    pub preset: Option<String>,
    /// Map a field to a column: --map quantity=sales (repeatable).
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub mapping: Vec<String>,
    /// Commit every good row or nothing: any bad row aborts the whole file.
    #[arg(long)]
    pub atomic: bool,
    /// Create stores and products the file refers to but the tenant lacks.
    #[arg(long)]
    pub create_missing: bool,
    /// Rows per transaction (default: import.batch_size).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Date format: iso (YYYY-MM-DD), mdy (M/D/YYYY), dmy (D/M/YYYY), ym (YYYY-MM).
    #[arg(long)]
    pub date_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user (the password is read from FLUXION_NEW_PASSWORD or the first line of standard input).
    Add {
        /// The user's tenant (none for operators).
        #[arg(long)]
        tenant: Option<String>,
        /// Login.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// owner, manager, viewer or operator.
        #[arg(long)]
        role: String,
    },
    /// List a tenant's users (without --tenant: operators).
    List {
        /// The tenant.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Set (or with --remove, take away) a user's WhatsApp number: messages from it are that user's.
    Whatsapp {
        /// The user's login.
        #[arg(long)]
        email: String,
        /// The number with its country code (+58 414 123 4567).
        #[arg(long, required_unless_present = "remove")]
        phone: Option<String>,
        /// Comma-separated store codes whose alerts they get (default: every store).
        #[arg(long)]
        stores: Option<String>,
        /// Do not push alerts to them (they can still ask).
        #[arg(long)]
        no_alerts: bool,
        /// Remove the number.
        #[arg(long, conflicts_with_all = ["phone", "stores", "no_alerts"])]
        remove: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create a key; it is printed once.
    Create {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// What it is for.
        #[arg(long)]
        name: String,
        /// Comma-separated: read, ingest, ask, act.
        #[arg(long)]
        scopes: String,
        /// Its own budget, requests per minute.
        #[arg(long)]
        rate_per_minute: Option<u32>,
    },
    /// List a tenant's keys.
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a key.
    Revoke {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The key's id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant.
    Create {
        /// Short name: a-z, 0-9 and _, starting with a letter.
        slug: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
    },
    /// List tenants with their row counts.
    List,
    /// Delete a tenant and all of its data.
    Delete {
        /// The tenant's slug.
        slug: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ForecastArgs {
    #[command(subcommand)]
    pub command: Option<ForecastCommand>,
    /// The tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The product code.
    #[arg(long)]
    pub product: Option<String>,
    /// The store code.
    #[arg(long)]
    pub store: Option<String>,
    /// Days to forecast after the last day of history.
    #[arg(long, default_value_t = 15)]
    pub days: usize,
}

#[derive(Debug, Subcommand)]
pub enum ForecastCommand {
    /// Forecast every store × product of a tenant, in parallel, and store the forecasts.
    Run {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Days to forecast after the last day of history.
        #[arg(long, default_value_t = 56)]
        days: usize,
    },
    /// Rolling-origin evaluation of every model and of Fluxion's automatic choice.
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A sales file (M5, store-item, car parts or any sales CSV); or use --tenant.
    #[arg(long, value_name = "FILE", required_unless_present = "tenant", conflicts_with = "tenant")]
    pub data: Option<std::path::PathBuf>,
    /// Evaluate on a tenant's daily demand instead of a file.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Calendar events for the file (the M5 calendar, or date,name,kind).
    #[arg(long, value_name = "FILE")]
    pub calendar: Option<std::path::PathBuf>,
    /// Periods forecast at each origin.
    #[arg(long, default_value_t = 28)]
    pub horizon: usize,
    /// Rolling origins, one horizon apart.
    #[arg(long, default_value_t = 1)]
    pub origins: usize,
    /// Drop this many periods from the end before the latest origin.
    #[arg(long, conflicts_with = "holdout_end")]
    pub drop_last: Option<usize>,
    /// The last held-out day of the latest origin (YYYY-MM-DD): later periods are dropped.
    #[arg(long, value_name = "DATE")]
    pub holdout_end: Option<String>,
    /// Models to compare: all, fast, none, or a comma list (naive, seasonal_naive, ses, croston,
    /// sba, tsb, adida, imapa, ets, mstl).
    #[arg(long, default_value = "all")]
    pub models: String,
    /// Learn from leading zeros too (they are real zero demand, not "not yet listed"). Default:
    /// kept for monthly data, trimmed for daily data.
    #[arg(long)]
    pub keep_leading_zeros: Option<bool>,
    /// Score series with missing periods too.
    #[arg(long)]
    pub include_incomplete: bool,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// The tenant scanned.
    #[arg(long)]
    pub tenant: String,
    /// Only these kinds (comma list): imminent_stockout, overstock, sales_anomaly, phantom_stock,
    /// expiring_lot, transfer_opportunity, stale_data.
    #[arg(long)]
    pub kind: Option<String>,
    /// Alerts shown per kind (text output).
    #[arg(long, default_value_t = 5)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// The tenant.
    #[arg(long)]
    pub tenant: String,
    /// Cash available for orders this week, USD: only the orders that protect the most margin within it.
    #[arg(long)]
    pub budget: Option<f64>,
    /// Recommendations shown (text output).
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The tenant asked about.
    #[arg(long)]
    pub tenant: String,
    /// The question, in Spanish ("¿Cuánta harina PAN necesito para la quincena?").
    pub question: String,
    /// Ask as this user: the question follows on from their previous one ("¿y en Valencia?").
    /// Conversations outlive one command only when Redis is configured.
    #[arg(long)]
    pub user: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TracesCommand {
    /// Recent traces, newest first.
    List {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Only from this channel (cli, api, whatsapp, dashboard, job).
        #[arg(long)]
        channel: Option<String>,
        /// Only with this status (ok, degraded, error, timeout).
        #[arg(long)]
        status: Option<String>,
        /// Only those that took at least this many milliseconds.
        #[arg(long)]
        slow_ms: Option<u64>,
    },
    /// One trace as a tree of spans.
    Show {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// The trace id (as printed by `fluxion ask` and `traces list`).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The tenant whose history is replayed.
    #[arg(long)]
    pub tenant: String,
    /// fluxion (forecast-driven levels and transfers), minmax (common practice) or both.
    #[arg(long, default_value = "both")]
    pub policy: String,
    /// First scored day (YYYY-MM-DD). Default: the last --days days of the history.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Days scored.
    #[arg(long, default_value_t = 180)]
    pub days: usize,
    /// Days replayed before --from and not scored (both policies start from the same stock).
    #[arg(long, default_value_t = 28)]
    pub warmup: usize,
    /// Seed of the lead-time draws (common to both policies).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Days between the Fluxion policy's forecast refreshes.
    #[arg(long, default_value_t = 7)]
    pub refresh_days: usize,
    /// Do not move stock between stores (Fluxion policy).
    #[arg(long)]
    pub no_transfers: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// A mixed REST API workload over HTTP against the embedded server: requests per second,
    /// p50/p99, errors; then a key's rate limit under the same pressure.
    Api {
        /// The tenant read and written (load it first: `fluxion demo`).
        #[arg(long, default_value = "demo")]
        tenant: String,
        /// Seconds of the mixed workload.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Concurrent connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// The budget of the rate-limited key, requests per minute (its burst is a sixth of it).
        #[arg(long, default_value_t = 600)]
        limit_per_minute: u32,
    },
    /// How long each dashboard page takes, logged in as an owner: p50/p95/max per page.
    Dashboard {
        /// The tenant shown (load it first: `fluxion demo`).
        #[arg(long, default_value = "demo")]
        tenant: String,
        /// Requests per page (after one warm-up).
        #[arg(long, default_value_t = 100)]
        requests: usize,
    },
    /// A burst of signed WhatsApp webhooks against the real webhook and workers, with the fake of
    /// Meta: acknowledgement p50/p99, then the time until every message is answered, and losses.
    Whatsapp {
        /// The tenant asked about (load it first: `fluxion demo`).
        #[arg(long, default_value = "demo")]
        tenant: String,
        /// Messages per second.
        #[arg(long, default_value_t = 500)]
        rate: u32,
        /// Seconds of the burst.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Distinct users writing (bench managers with numbers, created once).
        #[arg(long, default_value_t = 200)]
        users: usize,
    },
    /// Sales ingest throughput (rows per second) into SQLite and PostgreSQL.
    Ingest {
        /// Sales lines to ingest.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Rows per transaction.
        #[arg(long, default_value_t = 50_000)]
        batch: usize,
        /// sqlite, postgres or all (postgres needs database.url).
        #[arg(long, default_value = "all")]
        backend: String,
    },
    /// Forecast throughput (series per second) of the automatic forecaster on all cores.
    Forecast {
        /// Daily series to forecast.
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        /// Days of history per series.
        #[arg(long, default_value_t = 730)]
        days: usize,
        /// Days forecast.
        #[arg(long, default_value_t = 28)]
        horizon: usize,
    },
    /// The transfer LP (to optimality) on a random chain.
    Transfers {
        /// Stores.
        #[arg(long, default_value_t = 50)]
        stores: usize,
        /// Products.
        #[arg(long, default_value_t = 2_000)]
        products: usize,
    },
    /// `ask` latency through the whole runtime (embedded unless Redis/PostgreSQL are configured):
    /// p50/p95 over a mix of questions, the orchestration overhead, and requests per second with
    /// concurrent askers.
    Ask {
        /// The tenant asked (load it first: `fluxion demo`).
        #[arg(long, default_value = "demo")]
        tenant: String,
        /// Requests in each phase.
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
        /// Concurrent askers in the throughput phase.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// Vector search over a tenant's product names (built-in n-gram embedder): p50/p95 latency of
    /// a tenant-filtered top-5 with this many products per tenant, on Qdrant's embedded engine
    /// (exact, and HNSW) and on the exact in-process index.
    Vectors {
        /// Products per tenant (the demo catalog's names, repeated in numbered presentations).
        #[arg(long, default_value_t = 10_000)]
        products: usize,
        /// Queries (misspelt catalog names).
        #[arg(long, default_value_t = 1_000)]
        queries: usize,
        /// Engines: "edge" (Qdrant's embedded engine, exact and HNSW), "exact" (the in-process index) or "both".
        #[arg(long, default_value = "both")]
        engine: String,
    },
    /// The purchase plan under a budget (0-1 knapsack MIP) on random candidate orders.
    Budget {
        /// Candidate orders.
        #[arg(long, default_value_t = 500)]
        candidates: usize,
    },
}
