//! `fluxion traces list|show`: the record of past requests — which agent ran, for how long, with
//! what input and output, what failed.

use crate::cli::TracesCommand;
use crate::settings::Settings;
use fluxion_domain::{Span, SpanStatus, TenantSlug, Trace, format};
use fluxion_memory::TraceQuery;

pub async fn run(settings: &Settings, cmd: TracesCommand, json: bool) -> anyhow::Result<()> {
    let store = crate::app::open_store(settings).await?;
    match cmd {
        TracesCommand::List { tenant, limit, channel, status, slow_ms } => {
            let slug = TenantSlug::parse(&tenant)?;
            if !(1..=1000).contains(&limit) {
                return Err(crate::bad_input("--limit must be between 1 and 1000"));
            }
            let status = match status.as_deref() {
                None => None,
                Some(s) => Some(SpanStatus::parse(s).ok_or_else(|| {
                    crate::bad_input(format!("--status must be ok, degraded, error or timeout, not {s:?}"))
                })?),
            };
            let scoped = store.scope(&slug).await?;
            let query =
                TraceQuery { limit, channel, status, min_duration_us: slow_ms.map(|ms| ms.saturating_mul(1000)) };
            let traces = scoped.traces(&query).await?;
            if json {
                return crate::commands::print_json(&traces);
            }
            if traces.is_empty() {
                println!("No hay trazas de {slug} con esos filtros.");
            }
            for t in traces {
                println!(
                    "{}  {}  {:>9} ms  {:<8} {:<9} {}",
                    t.id,
                    t.started_at.format("%Y-%m-%d %H:%M:%S"),
                    format::number(t.duration_us as f64 / 1000.0, 1),
                    t.status.as_str(),
                    t.channel,
                    t.question
                );
            }
            Ok(())
        }
        TracesCommand::Show { tenant, id } => {
            let slug = TenantSlug::parse(&tenant)?;
            let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| {
                crate::bad_input(format!("{id:?} is not a trace id (a UUID as printed by `fluxion ask`)"))
            })?;
            let scoped = store.scope(&slug).await?;
            let Some(trace) = scoped.trace(id).await? else {
                return Err(crate::bad_input(format!("tenant {slug} has no trace {id}")));
            };
            if json {
                return crate::commands::print_json(&trace);
            }
            print_tree(&trace);
            Ok(())
        }
    }
}

fn print_tree(t: &Trace) {
    println!(
        "Traza {} — {} — {} — {}",
        t.id,
        t.channel,
        t.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        t.status.as_str()
    );
    println!("Pregunta: {}", t.question);
    let total = t.duration_us.max(1) as f64;
    fn walk(t: &Trace, span: &Span, depth: usize, total: f64) {
        // A bar on the request's time line: where the span started and how long it ran.
        const WIDTH: usize = 30;
        let start = ((span.start_us as f64 / total) * WIDTH as f64).round() as usize;
        let len = (((span.duration_us as f64 / total) * WIDTH as f64).round() as usize).max(1);
        let bar: String = (0..WIDTH)
            .map(|k| if k >= start.min(WIDTH - 1) && k < (start + len).min(WIDTH) { '█' } else { '·' })
            .collect();
        let agent = span.agent.map(|a| format!(" [{}]", a.as_str())).unwrap_or_default();
        let mut line = format!(
            "{}{}{} {} +{} ms, {} ms {}",
            "  ".repeat(depth),
            span.name,
            agent,
            bar,
            format::number(span.start_us as f64 / 1000.0, 2),
            format::number(span.duration_us as f64 / 1000.0, 2),
            span.status.as_str()
        );
        if span.restarts > 0 {
            line.push_str(&format!(", {} reinicio(s)", span.restarts));
        }
        println!("{line}");
        let pad = "  ".repeat(depth + 1);
        if !span.input.is_empty() && depth > 0 {
            println!("{pad}entrada: {}", span.input);
        }
        if !span.output.is_empty() && depth > 0 {
            println!("{pad}salida:  {}", span.output.replace('\n', " "));
        }
        if let Some(e) = &span.error {
            println!("{pad}error:   {e}");
        }
        for child in t.spans.iter().filter(|c| c.parent == Some(span.id)) {
            walk(t, child, depth + 1, total);
        }
    }
    if let Some(root) = t.spans.iter().find(|s| s.parent.is_none()) {
        walk(t, root, 0, total);
    }
}
