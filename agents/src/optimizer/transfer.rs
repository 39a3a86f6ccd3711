//! Transfers between stores as a linear program (good_lp, microlp by default).
//!
//! For each product, some stores hold a surplus (stock beyond what they need until their next
//! delivery, so giving it away never leaves them short) and some face a shortage (expected demand
//! before their next delivery that their stock does not cover), each unit short costing its lost
//! margin. Moving a unit from `i` to `j` costs the lane's transport cost. The program minimises
//! transport cost plus the cost of the shortage left:
//!
//! ```text
//! min Σ c_ij·x_ij + Σ p_j·s_j   s.t.  Σ_j x_ij ≤ surplus_i,   s_j + Σ_i x_ij ≥ shortage_j,   x, s ≥ 0
//! ```
//!
//! The structure is exploited: products are independent, so each is its own small program, solved
//! in parallel; only surplus → shortage lanes exist, and of those only the ones that can pay for
//! themselves (`c_ij < p_j`). A product with no such lane is not sent to the solver at all. The
//! data are whole units, so this transportation problem has whole-unit optima.

use super::demand::{DemandAhead, Incoming};
use super::reorder::{ItemTerms, ReorderSettings, days_to_order, review_days, service_level};
use super::shelf::{ShelfOutlook, replenishment_horizon};
use chrono::NaiveDate;
use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, variable};
use rayon::prelude::*;
use serde::Serialize;

/// What a store has of a product: on hand, and on its way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Supply<'a> {
    /// Units on the shelf tonight.
    pub on_hand: f64,
    /// Goods on their way, as the books have them.
    pub inbound: &'a [Incoming],
}

/// When a store counts as short, and the service level it is brought back to.
#[derive(Debug, Clone, PartialEq)]
pub struct ShortageRule {
    /// Reorder settings (service levels).
    pub reorder: ReorderSettings,
    /// Short when the chance of running out before the next possible delivery is above this.
    pub shortage_probability: f64,
}

impl Default for ShortageRule {
    fn default() -> Self {
        Self { reorder: ReorderSettings::default(), shortage_probability: 0.1 }
    }
}

/// The chance of running dry a store may be left with after giving stock away.
const SOURCE_RISK: f64 = 0.01;

/// One store's position in one product tonight, for the transfer program.
///
/// Both sides read the shelf's [`ShelfOutlook`], as the imminent-stockout alert does: each delivery
/// on its way counts from the morning it may arrive, and one already late may not come in time.
/// The store is **short** when the chance of running dry before a replenishment ordered at the
/// first chance arrives (the supplier's next order day plus its usual lead time) is above
/// `shortage_probability`: it needs the fewest units that, arriving tomorrow morning, bring it back
/// to its service level, each worth its margin times the average chance it would be needed (the
/// lost margin it is expected to save — so a lane is used only where that beats its transport
/// cost). Otherwise it may give a **surplus**: the most on-hand units it can spare and still run
/// dry with at most a 1% chance until the delivery after next — so giving them away never leaves
/// the source short.
pub fn store_position(item: &StoreItem<'_, '_>, today: NaiveDate, rule: &ShortageRule) -> StorePosition {
    shortage_position(item, today, rule).unwrap_or_else(|| surplus_position(item, today))
}

fn empty_position(store: usize, terms: &ItemTerms) -> StorePosition {
    StorePosition { store, surplus: 0.0, shortage: 0.0, shortage_cost: (terms.unit_price - terms.unit_cost).max(0.0) }
}

/// The store's position when it is short (see [`store_position`]), `None` otherwise.
fn shortage_position(item: &StoreItem<'_, '_>, today: NaiveDate, rule: &ShortageRule) -> Option<StorePosition> {
    let StoreItem { store, ahead, terms, supply, .. } = item;
    let on_hand = supply.on_hand.max(0.0);
    let horizon = replenishment_horizon(terms, today);
    // Deliveries only lower the risk: a shelf that lasts without them is not short (most are not,
    // and this spares weighing when each delivery may come).
    if !supply.inbound.is_empty()
        && ShelfOutlook::new(ahead, &[], &terms.lead, today, horizon).stockout_probability(on_hand, &[])
            <= rule.shortage_probability
    {
        return None;
    }
    let mut shelf = ShelfOutlook::new(ahead, supply.inbound, &terms.lead, today, horizon);
    if shelf.stockout_probability(on_hand, &[]) <= rule.shortage_probability {
        return None;
    }
    let mut position = empty_position(*store, terms);
    let service = service_level(terms, days_to_order(terms.order_days, today).max(1), &rule.reorder);
    position.shortage = shelf.units_to_cover(on_hand, 1.0 - service);
    // A unit sent is worth its margin only as often as it would be needed.
    position.shortage_cost *= shelf.mean_need(on_hand, position.shortage);
    Some(position)
}

/// The position of a store that is not short: what it can spare (see [`store_position`]).
fn surplus_position(item: &StoreItem<'_, '_>, today: NaiveDate) -> StorePosition {
    let StoreItem { store, ahead, terms, supply, .. } = item;
    let horizon = replenishment_horizon(terms, today) + review_days(terms.order_days, today);
    let mut until_next = ShelfOutlook::new(ahead, supply.inbound, &terms.lead, today, horizon);
    StorePosition { surplus: until_next.units_to_spare(supply.on_hand, SOURCE_RISK), ..empty_position(*store, terms) }
}

/// One store's stock of one product, as the transfer program reads it.
#[derive(Debug, Clone)]
pub struct StoreItem<'a, 'b> {
    /// The caller's id of this store × product.
    pub id: usize,
    /// Index of the product.
    pub product: usize,
    /// Index of the store.
    pub store: usize,
    /// Its demand from tomorrow on.
    pub ahead: DemandAhead<'a>,
    /// Its ordering terms.
    pub terms: &'b ItemTerms,
    /// On hand and on its way.
    pub supply: Supply<'b>,
}

/// The positions of every product with a store short: the short stores with their shortage, the
/// others with what they can spare (`product → [(id, position)]`), for [`plan_moves`]. What a store
/// can spare is only worked out where another store needs it.
pub fn positions(
    items: &[StoreItem<'_, '_>],
    today: NaiveDate,
    rule: &ShortageRule,
) -> std::collections::BTreeMap<usize, Vec<(usize, StorePosition)>> {
    let short: Vec<Option<StorePosition>> = items.iter().map(|x| shortage_position(x, today, rule)).collect();
    let mut out: std::collections::BTreeMap<usize, Vec<(usize, StorePosition)>> = std::collections::BTreeMap::new();
    for (x, p) in items.iter().zip(&short) {
        if let Some(p) = p.as_ref().filter(|p| p.shortage > 0.0) {
            out.entry(x.product).or_default().push((x.id, p.clone()));
        }
    }
    for (x, p) in items.iter().zip(&short) {
        if p.is_some() {
            continue;
        }
        if let Some(list) = out.get_mut(&x.product) {
            let p = surplus_position(x, today);
            if p.surplus >= 1.0 {
                list.push((x.id, p));
            }
        }
    }
    out
}

/// One store's position in one product.
#[derive(Debug, Clone, PartialEq)]
pub struct StorePosition {
    /// Index of the store (into the caller's store list).
    pub store: usize,
    /// Units it can give away and still cover its own needs.
    pub surplus: f64,
    /// Units it is expected to be short of before its next delivery.
    pub shortage: f64,
    /// Expected cost of each unit of the shortage left uncovered: its margin times the average
    /// chance it would be needed, USD.
    pub shortage_cost: f64,
}

/// One product's transfer problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductTransfers {
    /// Index of the product (into the caller's product list).
    pub product: usize,
    /// The stores with a surplus or a shortage (others may be left out).
    pub stores: Vec<StorePosition>,
}

/// A recommended move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    /// Product index.
    pub product: usize,
    /// Source store index.
    pub from: usize,
    /// Destination store index.
    pub to: usize,
    /// Whole units.
    pub units: f64,
    /// Transport cost, USD.
    pub cost: f64,
    /// Shortage cost avoided minus transport cost, USD.
    pub benefit: f64,
}

/// The plan for a set of products.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TransferPlan {
    /// Moves, largest benefit first.
    pub moves: Vec<Move>,
    /// Cost of all shortages if nothing moves, USD.
    pub cost_without: f64,
    /// Transport plus the shortage left after the moves (the LP's objective), USD.
    pub objective: f64,
    /// Products that went to the solver.
    pub programs: usize,
    /// Variables over all programs.
    pub variables: usize,
}

/// Why the plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The solver failed (it should not on these programs: they are always feasible and bounded).
    #[error("the transfer program for product {product} could not be solved: {message}")]
    Solver {
        /// Product index.
        product: usize,
        /// The solver's message.
        message: String,
    },
}

/// Plans transfers for every product; `lane_cost(from, to)` is the cost of moving one unit between
/// two stores, `None` where there is no lane.
pub fn plan_transfers(
    problems: &[ProductTransfers],
    lane_cost: &(dyn Fn(usize, usize) -> Option<f64> + Sync),
) -> Result<TransferPlan, TransferError> {
    let parts: Vec<TransferPlan> =
        problems.par_iter().map(|p| solve_product(p, lane_cost)).collect::<Result<_, _>>()?;
    let mut plan = TransferPlan::default();
    for p in parts {
        plan.moves.extend(p.moves);
        plan.cost_without += p.cost_without;
        plan.objective += p.objective;
        plan.programs += p.programs;
        plan.variables += p.variables;
    }
    plan.moves.sort_by(|a, b| b.benefit.total_cmp(&a.benefit));
    Ok(plan)
}

/// The moves of every product that has a store short and another long. `positions` maps a product
/// to its `(caller's item id, position)` pairs; `unit_cost_of(product)` prices a unit's move between
/// any two stores. Returns `(from item, to item, move)`, products in order.
pub fn plan_moves(
    positions: &std::collections::BTreeMap<usize, Vec<(usize, StorePosition)>>,
    unit_cost_of: impl Fn(usize) -> f64,
) -> Vec<(usize, usize, Move)> {
    let mut out = Vec::new();
    for (&product, items) in positions {
        if !(items.iter().any(|p| p.1.shortage > 0.0) && items.iter().any(|p| p.1.surplus >= 1.0)) {
            continue;
        }
        let problem = ProductTransfers { product, stores: items.iter().map(|p| p.1.clone()).collect() };
        let per_unit = unit_cost_of(product);
        let lane = move |_: usize, _: usize| Some(per_unit);
        let Ok(plan) = solve_product(&problem, &lane) else { continue };
        for m in plan.moves {
            let from = items.iter().find(|x| x.1.store == m.from).map(|x| x.0);
            let to = items.iter().find(|x| x.1.store == m.to).map(|x| x.0);
            if let (Some(a), Some(b)) = (from, to) {
                out.push((a, b, m));
            }
        }
    }
    out
}

/// One product's program.
pub fn solve_product(
    problem: &ProductTransfers,
    lane_cost: &(dyn Fn(usize, usize) -> Option<f64> + Sync),
) -> Result<TransferPlan, TransferError> {
    let sources: Vec<&StorePosition> = problem.stores.iter().filter(|s| s.surplus >= 1.0).collect();
    let sinks: Vec<&StorePosition> = problem.stores.iter().filter(|s| s.shortage > 0.0).collect();
    let cost_without: f64 = sinks.iter().map(|s| s.shortage * s.shortage_cost).sum();
    let mut plan = TransferPlan { cost_without, objective: cost_without, ..Default::default() };
    // Lanes that can pay for themselves.
    let mut lanes: Vec<(usize, usize, f64)> = Vec::new();
    for (a, src) in sources.iter().enumerate() {
        for (b, dst) in sinks.iter().enumerate() {
            if src.store == dst.store {
                continue;
            }
            if let Some(c) = lane_cost(src.store, dst.store)
                && c.is_finite()
                && c >= 0.0
                && c < dst.shortage_cost
            {
                lanes.push((a, b, c));
            }
        }
    }
    if lanes.is_empty() {
        return Ok(plan);
    }
    let mut vars = ProblemVariables::new();
    let mut objective = Expression::with_capacity(lanes.len() + sinks.len());
    let x: Vec<Variable> = lanes
        .iter()
        .map(|&(_, _, c)| {
            let v = vars.add(variable().min(0.0));
            objective.add_mul(c, v);
            v
        })
        .collect();
    let short: Vec<Variable> = sinks
        .iter()
        .map(|s| {
            let v = vars.add(variable().min(0.0));
            objective.add_mul(s.shortage_cost, v);
            v
        })
        .collect();
    let mut model = vars.minimise(objective.clone()).using(good_lp::microlp);
    for (a, src) in sources.iter().enumerate() {
        let mut out = Expression::with_capacity(sinks.len());
        let mut any = false;
        for (k, &(la, _, _)) in lanes.iter().enumerate() {
            if la == a {
                out.add_mul(1.0, x[k]);
                any = true;
            }
        }
        if any {
            model.add_constraint(out.leq(src.surplus.floor()));
        }
    }
    for (b, dst) in sinks.iter().enumerate() {
        let mut cover = Expression::with_capacity(sources.len() + 1);
        cover.add_mul(1.0, short[b]);
        for (k, &(_, lb, _)) in lanes.iter().enumerate() {
            if lb == b {
                cover.add_mul(1.0, x[k]);
            }
        }
        model.add_constraint(cover.geq(dst.shortage));
    }
    let solution =
        model.solve().map_err(|e| TransferError::Solver { product: problem.product, message: e.to_string() })?;
    plan.programs = 1;
    plan.variables = lanes.len() + sinks.len();
    plan.objective = solution.eval(&objective);
    for (k, &(a, b, c)) in lanes.iter().enumerate() {
        let units = solution.value(x[k]).round();
        if units >= 1.0 {
            let dst = sinks[b];
            plan.moves.push(Move {
                product: problem.product,
                from: sources[a].store,
                to: dst.store,
                units,
                cost: units * c,
                benefit: units * (dst.shortage_cost - c),
            });
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pos(store: usize, surplus: f64, shortage: f64, cost: f64) -> StorePosition {
        StorePosition { store, surplus, shortage, shortage_cost: cost }
    }

    /// Every whole-unit plan, enumerated: the least transport + shortage cost.
    fn brute_force(p: &ProductTransfers, lane: &dyn Fn(usize, usize) -> Option<f64>) -> f64 {
        let sources: Vec<&StorePosition> = p.stores.iter().filter(|s| s.surplus >= 1.0).collect();
        let sinks: Vec<&StorePosition> = p.stores.iter().filter(|s| s.shortage > 0.0).collect();
        let pairs: Vec<(usize, usize)> = (0..sources.len())
            .flat_map(|a| (0..sinks.len()).map(move |b| (a, b)))
            .filter(|&(a, b)| sources[a].store != sinks[b].store && lane(sources[a].store, sinks[b].store).is_some())
            .collect();
        let mut best = f64::INFINITY;
        let mut units = vec![0usize; pairs.len()];
        loop {
            let mut out = vec![0.0; sources.len()];
            let mut inflow = vec![0.0; sinks.len()];
            let mut cost = 0.0;
            for (k, &(a, b)) in pairs.iter().enumerate() {
                out[a] += units[k] as f64;
                inflow[b] += units[k] as f64;
                cost += units[k] as f64 * lane(sources[a].store, sinks[b].store).unwrap_or(0.0);
            }
            if out.iter().zip(&sources).all(|(o, s)| *o <= s.surplus.floor()) {
                for (b, s) in sinks.iter().enumerate() {
                    cost += (s.shortage - inflow[b]).max(0.0) * s.shortage_cost;
                }
                best = best.min(cost);
            }
            // Next combination (each lane 0..=4 units).
            let mut k = 0;
            while k < units.len() {
                units[k] += 1;
                if units[k] <= 4 {
                    break;
                }
                units[k] = 0;
                k += 1;
            }
            if k == units.len() {
                return best;
            }
        }
    }

    fn distance(a: usize, b: usize) -> Option<f64> {
        Some(0.2 + 0.3 * (a as f64 - b as f64).abs())
    }

    #[test]
    fn moves_go_from_surplus_to_shortage_and_never_past_the_surplus() {
        let p = ProductTransfers {
            product: 0,
            stores: vec![pos(0, 10.0, 0.0, 1.0), pos(1, 0.0, 6.0, 1.0), pos(2, 0.0, 8.0, 1.0), pos(3, 0.0, 0.0, 1.0)],
        };
        let plan = plan_transfers(std::slice::from_ref(&p), &distance).expect("solved");
        let sent: f64 = plan.moves.iter().map(|m| m.units).sum();
        assert_eq!(sent, 10.0);
        assert!(plan.moves.iter().all(|m| m.from == 0 && m.to != 0 && m.to != 3));
        // The nearer store is served first: 6 to store 1 (0.5/unit), 4 to store 2 (0.8/unit).
        let to1: f64 = plan.moves.iter().filter(|m| m.to == 1).map(|m| m.units).sum();
        assert_eq!(to1, 6.0);
        assert!((plan.objective - (6.0 * 0.5 + 4.0 * 0.8 + 4.0 * 1.0)).abs() < 1e-6, "{}", plan.objective);
        assert!((plan.cost_without - 14.0).abs() < 1e-9);
    }

    #[test]
    fn lanes_that_cost_more_than_the_shortage_are_never_used() {
        let p = ProductTransfers { product: 7, stores: vec![pos(0, 5.0, 0.0, 0.1), pos(9, 0.0, 5.0, 0.1)] };
        let plan = plan_transfers(&[p], &distance).expect("solved");
        assert!(plan.moves.is_empty());
        assert_eq!(plan.programs, 0);
    }

    #[test]
    fn a_delivery_running_late_makes_a_store_short_and_keeps_a_source_from_giving_away() {
        use super::super::demand::LeadTimeDays;
        use chrono::Days;
        use fluxion_domain::OrderDays;
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
        let means = vec![20.0; 40];
        let ahead = DemandAhead { means: &means, size: f64::INFINITY, level_uncertainty: 0.0 };
        // An importer: seven days on average, often three more or less.
        let terms = ItemTerms {
            unit_cost: 1.0,
            unit_price: 2.0,
            pack: 1.0,
            moq: 0.0,
            lead: LeadTimeDays::normal(7.0, 3.0),
            order_days: OrderDays::EVERY_DAY,
            shelf_life_days: None,
        };
        let rule = ShortageRule { shortage_probability: 0.3, ..ShortageRule::default() };
        let late = [Incoming { expected: today - Days::new(3), units: 300.0, from_supplier: true }];
        // The same goods on a van between the chain's stores come tomorrow morning.
        let van = [Incoming { expected: today + Days::new(1), units: 300.0, from_supplier: false }];
        let at = |on_hand: f64, inbound: &[Incoming]| {
            let item = StoreItem {
                id: 0,
                product: 0,
                store: 0,
                ahead: ahead.clone(),
                terms: &terms,
                supply: Supply { on_hand, inbound },
            };
            store_position(&item, today, &rule)
        };
        // An empty shelf: three days late, the delivery may well not come tomorrow either.
        let waiting = at(0.0, &late);
        assert!(waiting.shortage >= 20.0, "{waiting:?}");
        assert_eq!(at(0.0, &van).shortage, 0.0);
        // A full shelf gives less away while its own delivery is late than with it on the van.
        let (source_late, source_van) = (at(250.0, &late), at(250.0, &van));
        assert!(source_late.surplus < source_van.surplus, "{source_late:?} vs {source_van:?}");
        assert!(source_late.surplus >= 0.0 && source_van.surplus <= 250.0);
    }

    #[test]
    fn surpluses_are_worked_out_only_where_a_store_is_short() {
        use super::super::demand::LeadTimeDays;
        use fluxion_domain::OrderDays;
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
        let means = vec![20.0; 40];
        let ahead = DemandAhead { means: &means, size: 5.0, level_uncertainty: 0.02 };
        let terms = ItemTerms {
            unit_cost: 1.0,
            unit_price: 2.0,
            pack: 1.0,
            moq: 0.0,
            lead: LeadTimeDays::normal(4.0, 1.0),
            order_days: OrderDays::EVERY_DAY,
            shelf_life_days: None,
        };
        let rule = ShortageRule::default();
        let item = |id: usize, product: usize, store: usize, on_hand: f64| StoreItem {
            id,
            product,
            store,
            ahead: ahead.clone(),
            terms: &terms,
            supply: Supply { on_hand, inbound: &[] },
        };
        // Product 0: store 0 is empty, store 1 full, store 2 just covered. Product 1: nobody short.
        let items = [item(10, 0, 0, 0.0), item(11, 0, 1, 600.0), item(12, 0, 2, 90.0), item(13, 1, 0, 600.0)];
        let by_product = positions(&items, today, &rule);
        assert_eq!(by_product.keys().copied().collect::<Vec<_>>(), vec![0]);
        let ids: Vec<usize> = by_product[&0].iter().map(|p| p.0).collect();
        assert_eq!(ids, vec![10, 11]);
        for (id, p) in &by_product[&0] {
            let x = &items[id - 10];
            assert_eq!(*p, store_position(x, today, &rule));
        }
        assert!(by_product[&0][0].1.shortage > 0.0 && by_product[&0][1].1.surplus >= 1.0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn small_instances_match_brute_force(
            stores in proptest::collection::vec((0u8..4, 0u8..5, 1u8..6), 2..5),
        ) {
            // Each store: a surplus or a shortage (not both), a shortage cost.
            let p = ProductTransfers {
                product: 0,
                stores: stores
                    .iter()
                    .enumerate()
                    .map(|(i, &(kind, q, c))| {
                        let q = f64::from(q);
                        if kind % 2 == 0 { pos(i, q, 0.0, f64::from(c)) } else { pos(i, 0.0, q, f64::from(c)) }
                    })
                    .collect(),
            };
            // Brute force enumerates at most 4 units per lane: keep instances within that.
            prop_assume!(p.stores.iter().all(|s| s.surplus <= 4.0 && s.shortage <= 4.0));
            let plan = plan_transfers(std::slice::from_ref(&p), &distance).expect("solved");
            let best = brute_force(&p, &distance);
            prop_assert!((plan.objective - best).abs() < 1e-6, "lp {} vs brute force {}", plan.objective, best);
            // Whole units, within each source's surplus.
            for s in &p.stores {
                let out: f64 = plan.moves.iter().filter(|m| m.from == s.store).map(|m| m.units).sum();
                prop_assert!(out <= s.surplus + 1e-9);
            }
            prop_assert!(plan.moves.iter().all(|m| m.units.fract() == 0.0));
        }
    }
}
