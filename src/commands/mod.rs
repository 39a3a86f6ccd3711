//! One file per command; [`run`] dispatches.

mod alerts;
mod ask;
mod bench;
mod bench_api;
mod bench_dashboard;
mod bench_whatsapp;
mod config;
mod demo;
mod forecast;
mod import;
mod recommend;
mod serve;
mod simulate;
mod tenants;
mod traces;
pub mod users;

use crate::cli::{Cli, Command};
use crate::settings::Settings;

/// Loads settings and logging, then runs the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref()).map_err(|e| crate::bad_input(format!("{e:#}")))?;
    if let Some(dir) = &cli.data_dir {
        settings.data_dir = dir.clone();
    }
    crate::telemetry::init(&settings.telemetry).map_err(|e| crate::bad_input(format!("telemetry.filter: {e}")))?;
    match cli.command {
        Command::Serve(args) => serve::run(settings, args).await,
        Command::Demo(args) => demo::run(&settings, &args, cli.json).await.map(|_| ()),
        Command::Import(args) => import::run(&settings, args, cli.json).await,
        Command::Tenants(cmd) => tenants::run(&settings, cmd, cli.json).await,
        Command::Users(cmd) => users::run_users(&settings, cmd, cli.json).await,
        Command::ApiKeys(cmd) => users::run_keys(&settings, cmd, cli.json).await,
        Command::Forecast(args) => forecast::run(&settings, args, cli.json).await,
        Command::Alerts(args) => alerts::run(&settings, args, cli.json).await,
        Command::Recommend(args) => recommend::run(&settings, args, cli.json).await,
        Command::Simulate(args) => simulate::run(&settings, args, cli.json).await,
        Command::Ask(args) => ask::run(&settings, args, cli.json).await,
        Command::Traces(cmd) => traces::run(&settings, cmd, cli.json).await,
        Command::Config => config::run(&settings, cli.json),
        Command::Bench(cmd) => bench::run(&settings, cmd, cli.json).await,
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
