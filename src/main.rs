//! `fluxion`: the binary. It parses the command line, loads the settings, sets up logging and
//! wires the crates together (the composition root); the work itself lives in the crates.
//!
//! # Layout
//! - [`cli`] — the command line (clap).
//! - [`settings`] — typed settings from `config/fluxion.toml`, a file, `FLUXION_*` variables.
//! - [`telemetry`] — logging.
//! - [`app`] — opening the configured backends.
//! - [`progress`] — progress bars and plain progress lines.
//! - [`commands`] — one file per command.
//!
//! Exit codes: 0 success, 2 bad input or usage (the message names what is wrong), 1 other failures.

mod app;
mod cli;
mod commands;
mod progress;
mod settings;
mod telemetry;

use clap::Parser;
use std::process::ExitCode;

/// An error caused by what the user gave (arguments, files, settings): exit code 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// Shorthand for returning a [`BadInput`] error.
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(BadInput(message.into()))
}

fn exit_code_of(err: &anyhow::Error) -> u8 {
    let usage = err.chain().any(|e| {
        e.is::<BadInput>()
            || e.is::<fluxion_domain::ParseError>()
            || matches!(
                e.downcast_ref::<fluxion_memory::StoreError>(),
                Some(
                    fluxion_memory::StoreError::UnknownTenant(_)
                        | fluxion_memory::StoreError::TenantExists(_)
                        | fluxion_memory::StoreError::UnknownReference { .. }
                )
            )
            || matches!(
                e.downcast_ref::<fluxion_connectors::csv::ImportError>(),
                Some(
                    fluxion_connectors::csv::ImportError::Open { .. }
                        | fluxion_connectors::csv::ImportError::Empty { .. }
                        | fluxion_connectors::csv::ImportError::MissingColumns { .. }
                        | fluxion_connectors::csv::ImportError::BadMapping { .. }
                        | fluxion_connectors::csv::ImportError::Read { .. }
                )
            )
            || e.is::<config::ConfigError>()
    });
    if usage { 2 } else { 1 }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code_of(&err))
        }
    }
}
