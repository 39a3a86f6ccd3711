//! `fluxion recommend`: the orders to place (on each supplier's next order day) and the transfers to
//! make tonight, each explained with its numbers and the margin it protects; with `--budget`, the
//! purchase plan that protects the most margin within the cash available.

use crate::cli::RecommendArgs;
use crate::settings::Settings;
use fluxion_agents::alert::scan_tenant;
use fluxion_agents::optimizer::{Candidate, plan_purchases};
use fluxion_domain::{Recommendation, TenantSlug, format};
use serde::Serialize;

#[derive(Debug, Serialize)]
struct Output<'a> {
    tenant: String,
    today: chrono::NaiveDate,
    orders: &'a [Recommendation],
    transfers: &'a [Recommendation],
    /// With --budget: the plan (indices into `orders`).
    budget: Option<BudgetOutput>,
}

#[derive(Debug, Serialize)]
struct BudgetOutput {
    budget_usd: f64,
    spent_usd: f64,
    benefit_usd: f64,
    chosen: Vec<usize>,
    deferred: Vec<usize>,
}

pub async fn run(settings: &Settings, args: RecommendArgs, json: bool) -> anyhow::Result<()> {
    let slug = TenantSlug::parse(&args.tenant)?;
    if let Some(b) = args.budget
        && !(b.is_finite() && b >= 0.0)
    {
        return Err(crate::bad_input(format!("--budget must be an amount in USD, zero or more, not {b}")));
    }
    let backend = crate::app::open_store(settings).await?;
    let scoped = backend.scope(&slug).await?;
    let scan = scan_tenant(&*scoped, &settings.alerts, &settings.optimizer).await?;
    let budget = match args.budget {
        None => None,
        Some(budget) => {
            let candidates: Vec<Candidate> = scan
                .orders
                .iter()
                .enumerate()
                .map(|(id, r)| Candidate { id, value: r.value_usd, benefit: r.benefit_usd })
                .collect();
            let plan = plan_purchases(&candidates, budget)?;
            Some(BudgetOutput {
                budget_usd: budget,
                spent_usd: plan.spent,
                benefit_usd: plan.benefit,
                chosen: plan.chosen,
                deferred: plan.deferred,
            })
        }
    };
    if json {
        return crate::commands::print_json(&Output {
            tenant: slug.to_string(),
            today: scan.today,
            orders: &scan.orders,
            transfers: &scan.transfers,
            budget,
        });
    }
    let total = |r: &[Recommendation]| {
        (r.iter().map(|x| x.value_usd).sum::<f64>(), r.iter().map(|x| x.benefit_usd).sum::<f64>())
    };
    let (value, benefit) = total(&scan.orders);
    println!(
        "Recomendaciones de {} al {}: {} pedidos por US$ {} que protegen US$ {} de margen; {} transferencias.",
        slug,
        format::date(scan.today),
        scan.orders.len(),
        format::number(value, 2),
        format::number(benefit, 2),
        scan.transfers.len()
    );
    let shown: Vec<usize> = match &budget {
        Some(b) => {
            println!(
                "Con un presupuesto de US$ {}: {} pedidos por US$ {} protegen US$ {}; {} quedan para después.",
                format::number(b.budget_usd, 2),
                b.chosen.len(),
                format::number(b.spent_usd, 2),
                format::number(b.benefit_usd, 2),
                b.deferred.len()
            );
            b.chosen.clone()
        }
        None => (0..scan.orders.len()).collect(),
    };
    println!("\nPedidos");
    for &i in shown.iter().take(args.limit) {
        let r = &scan.orders[i];
        println!("  {} {}  US$ {}", r.store, r.product, format::number(r.value_usd, 2));
        println!("      {}", r.explanation_es);
    }
    if shown.len() > args.limit {
        println!("  … y {} más", shown.len() - args.limit);
    }
    if !scan.transfers.is_empty() {
        println!("\nTransferencias");
        for r in scan.transfers.iter().take(args.limit) {
            println!("  {} {}", r.store, r.product);
            println!("      {}", r.explanation_es);
        }
        if scan.transfers.len() > args.limit {
            println!("  … y {} más", scan.transfers.len() - args.limit);
        }
    }
    Ok(())
}
