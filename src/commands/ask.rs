//! `fluxion ask`: one question through the whole runtime — Chat understands it, Forecast, Alert and
//! Optimizer answer, Chat composes — and the unified answer (with its trace id) is printed.

use crate::cli::AskArgs;
use crate::settings::Settings;
use fluxion_domain::{AgentStatus, TenantSlug, format};

pub async fn run(settings: &Settings, args: AskArgs, json: bool) -> anyhow::Result<()> {
    let slug = TenantSlug::parse(&args.tenant)?;
    if args.question.trim().is_empty() {
        return Err(crate::bad_input("the question is empty: ask something like \"¿Qué se va a agotar esta semana?\""));
    }
    let store = crate::app::open_store(settings).await?;
    // An unknown tenant is the caller's mistake, said before anything starts.
    store.scope(&slug).await?;
    let runtime = crate::app::start_runtime(settings, store).await?;
    // The catalog's vectors before the question (a no-op when they are current).
    if let Err(e) = runtime.index_catalog(&slug).await {
        tracing::warn!(error = %e, "the catalog could not be indexed; products are matched by their words");
    }
    let answer = match &args.user {
        Some(user) if user.trim().is_empty() || user.len() > 128 => {
            return Err(crate::bad_input("--user must be 1 to 128 characters"));
        }
        Some(user) => runtime.ask_as(&slug, user.trim(), &args.question, "cli").await,
        None => runtime.ask(&slug, &args.question, "cli").await,
    };
    runtime.shutdown().await;
    let answer = answer?;
    if json {
        return crate::commands::print_json(&answer);
    }
    println!("{}", answer.text_es);
    println!();
    let parts: Vec<String> = answer
        .agents
        .iter()
        .map(|r| {
            let status = match &r.status {
                AgentStatus::Ok => format!("{} ms", format::number(r.millis, 1)),
                AgentStatus::Skipped => "no hizo falta".to_owned(),
                AgentStatus::Failed { .. } => "falló".to_owned(),
                AgentStatus::TimedOut { deadline_ms } => format!("sin respuesta en {deadline_ms} ms"),
            };
            format!("{} {status}", r.agent.as_str())
        })
        .collect();
    println!("Agentes: {}", parts.join(" · "));
    println!(
        "Traza {} ({} ms{}): fluxion traces show --tenant {} {}",
        answer.trace_id,
        format::number(answer.millis, 1),
        if answer.degraded { ", respuesta incompleta" } else { "" },
        slug,
        answer.trace_id
    );
    Ok(())
}
