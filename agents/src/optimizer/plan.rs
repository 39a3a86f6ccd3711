//! The Optimizer's answers about a tenant tonight: orders for the supplier's next order day and
//! transfers between stores, for a set of its items (from the shared [`TenantContext`]).

use super::budget::{BudgetError, Candidate, plan_purchases};
use super::transfer::{Move, StoreItem, Supply, plan_moves, positions};
use super::{OptimizerSettings, OrderContext, recommend_order};
use crate::context::TenantContext;
use chrono::NaiveDate;
use fluxion_domain::format::{number, units};
use fluxion_domain::{OrderList, ProposedOrder, Recommendation, RecommendedAction};

/// Orders to place for `items`, largest benefit first.
pub fn orders_for(ctx: &TenantContext, items: &[usize], optimizer: &OptimizerSettings) -> Vec<Recommendation> {
    let reorder = optimizer.reorder();
    let world = &ctx.world;
    let mut orders: Vec<Recommendation> = items
        .iter()
        .filter_map(|&i| {
            let item = &world.items[i];
            let ahead = ctx.demand_ahead(i)?;
            let on_hand = ctx.on_hand(i)?;
            let order = OrderContext {
                store: &world.stores[item.store],
                product: &world.products[item.product],
                supplier: world.suppliers.get(item.supplier),
                terms: &item.terms,
                on_hand,
                inbound: ctx.inbound(i).iter().map(|g| g.units).sum(),
                lots: ctx.lots(i),
                ahead: &ahead,
            };
            recommend_order(&order, ctx.today, &reorder)
        })
        .collect();
    orders.sort_by(|a, b| b.benefit_usd.total_cmp(&a.benefit_usd));
    orders
}

/// The orders of `recommendations` due by `until` as a list with the names people read, and, with
/// a `budget`, the ones to place first: the purchase plan that protects the most margin within it.
pub fn order_list(
    ctx: &TenantContext,
    recommendations: &[Recommendation],
    until: NaiveDate,
    budget: Option<f64>,
) -> Result<OrderList, BudgetError> {
    let world = &ctx.world;
    let mut lines: Vec<ProposedOrder> = recommendations
        .iter()
        .filter(|r| matches!(r.action, RecommendedAction::Order { .. }) && r.on <= until)
        .filter_map(|r| {
            let item = &world.items[ctx.item(&r.store, &r.product)?];
            let (store, product) = (item.store, item.product);
            Some(ProposedOrder {
                store: r.store.clone(),
                store_name: world.store_names[store].clone(),
                product: r.product.clone(),
                product_name: world.product_names[product].clone(),
                unit: world.product_units.get(product).copied().unwrap_or(fluxion_domain::Unit::Each),
                units: r.units,
                value_usd: r.value_usd,
                benefit_usd: r.benefit_usd,
                on: r.on,
                chosen: true,
            })
        })
        .collect();
    lines.sort_by(|a, b| b.benefit_usd.total_cmp(&a.benefit_usd));
    if let Some(budget) = budget {
        let candidates: Vec<Candidate> = lines
            .iter()
            .enumerate()
            .map(|(id, l)| Candidate { id, value: l.value_usd, benefit: l.benefit_usd })
            .collect();
        let plan = plan_purchases(&candidates, budget)?;
        let mut ordered: Vec<ProposedOrder> = Vec::with_capacity(lines.len());
        for (ids, chosen) in [(&plan.chosen, true), (&plan.deferred, false)] {
            ordered.extend(ids.iter().map(|&id| ProposedOrder { chosen, ..lines[id].clone() }));
        }
        lines = ordered;
    }
    Ok(OrderList { budget_usd: budget, lines })
}

/// Tonight's moves for the products of `items`, between every store that has them:
/// `(from item, to item, move)`.
pub fn moves_for(ctx: &TenantContext, items: &[usize], optimizer: &OptimizerSettings) -> Vec<(usize, usize, Move)> {
    let world = &ctx.world;
    let rule = optimizer.shortage_rule();
    let mut products: Vec<usize> = items.iter().map(|&i| world.items[i].product).collect();
    products.sort_unstable();
    products.dedup();
    let items: Vec<StoreItem<'_, '_>> = world
        .items
        .iter()
        .enumerate()
        .filter(|(_, item)| products.binary_search(&item.product).is_ok())
        .filter_map(|(i, item)| {
            Some(StoreItem {
                id: i,
                product: item.product,
                store: item.store,
                ahead: ctx.demand_ahead(i)?,
                terms: &item.terms,
                supply: Supply { on_hand: ctx.on_hand(i)?, inbound: ctx.inbound(i) },
            })
        })
        .collect();
    let by_product = positions(&items, ctx.today, &rule);
    plan_moves(&by_product, |p| optimizer.transfer_cost(world.unit_cost(p)))
}

/// Transfers to make tonight for the products of `items`, largest benefit first.
pub fn transfers_for(ctx: &TenantContext, items: &[usize], optimizer: &OptimizerSettings) -> Vec<Recommendation> {
    transfers_of(ctx, moves_for(ctx, items, optimizer))
}

/// `moves` (from [`moves_for`]) as recommendations, explained, largest benefit first.
pub fn transfers_of(ctx: &TenantContext, moves: Vec<(usize, usize, Move)>) -> Vec<Recommendation> {
    let world = &ctx.world;
    let mut transfers: Vec<Recommendation> = moves
        .into_iter()
        .map(|(from_item, _, m)| {
            let product = world.items[from_item].product;
            let unit_cost = world.unit_cost(product);
            Recommendation {
                action: RecommendedAction::Transfer { from: world.stores[m.from].clone() },
                store: world.stores[m.to].clone(),
                product: world.products[product].clone(),
                units: m.units,
                value_usd: m.units * unit_cost,
                benefit_usd: m.benefit,
                on: ctx.today,
                explanation_es: format!(
                    "Transferir {} de {} de {} a {}: {} puede quedarse sin existencia antes de su próxima entrega \
                     y {} tiene de más; evita perder, en promedio, US$ {} de margen con un traslado de US$ {}.",
                    units(m.units),
                    world.product_names[product],
                    world.store_names[m.from],
                    world.store_names[m.to],
                    world.store_names[m.to],
                    world.store_names[m.from],
                    number(m.benefit + m.cost, 2),
                    number(m.cost, 2),
                ),
            }
        })
        .collect();
    transfers.sort_by(|a, b| b.benefit_usd.total_cmp(&a.benefit_usd));
    transfers
}
