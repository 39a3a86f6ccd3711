//! A purchase plan under a cash budget: which of the recommended orders to place this week when the
//! money does not reach for all of them.
//!
//! Each candidate order has a value (what it costs to place) and a return (the margin it protects:
//! the lost sales it avoids, in USD). Choosing orders whole is a 0-1 knapsack, solved exactly as a
//! mixed integer program with good_lp: maximise the margin protected subject to the budget. Orders
//! that the LP bound already proves in or out are fixed first, so the solver only sees the few
//! undecided ones around the critical return per dollar. The chosen orders are listed by return per
//! dollar, so a buyer who must cut further cuts from the bottom.

use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, variable};
use serde::Serialize;

/// A candidate order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The caller's id for it.
    pub id: usize,
    /// What placing it costs, USD.
    pub value: f64,
    /// Margin it protects, USD.
    pub benefit: f64,
}

impl Candidate {
    /// Margin protected per dollar spent.
    pub fn ratio(&self) -> f64 {
        if self.value > 0.0 { self.benefit / self.value } else { f64::INFINITY }
    }
}

/// The plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BudgetPlan {
    /// Chosen candidates' ids, best return per dollar first.
    pub chosen: Vec<usize>,
    /// Candidates left for later, best return per dollar first.
    pub deferred: Vec<usize>,
    /// Money spent, USD (never above the budget).
    pub spent: f64,
    /// Margin protected, USD.
    pub benefit: f64,
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    /// A budget that is negative or not a number.
    #[error("the budget must be zero or more, not {0}")]
    Budget(f64),
    /// The solver failed.
    #[error("the purchase plan could not be solved: {0}")]
    Solver(String),
}

/// The best set of whole orders within `budget`.
pub fn plan_purchases(candidates: &[Candidate], budget: f64) -> Result<BudgetPlan, BudgetError> {
    if !(budget.is_finite() && budget >= 0.0) {
        return Err(BudgetError::Budget(budget));
    }
    // Orders that cost nothing or return nothing need no solver; the rest compete for the money.
    let useful: Vec<&Candidate> = candidates.iter().filter(|c| c.benefit > 0.0 && c.value.is_finite()).collect();
    let free: Vec<&Candidate> = useful.iter().copied().filter(|c| c.value <= 0.0).collect();
    let costly: Vec<&Candidate> = useful.iter().copied().filter(|c| c.value > 0.0 && c.value <= budget).collect();
    let mut chosen: Vec<&Candidate> = free;
    let total: f64 = costly.iter().map(|c| c.value).sum();
    if total <= budget {
        chosen.extend(costly.iter().copied());
    } else if !costly.is_empty() {
        chosen.extend(knapsack(&costly, budget)?);
    }
    let by_ratio = |a: &&Candidate, b: &&Candidate| b.ratio().total_cmp(&a.ratio()).then(a.id.cmp(&b.id));
    chosen.sort_by(by_ratio);
    let mut deferred: Vec<&Candidate> =
        candidates.iter().filter(|c| !chosen.iter().any(|k| std::ptr::eq(*k, *c))).collect();
    deferred.sort_by(by_ratio);
    Ok(BudgetPlan {
        spent: chosen.iter().map(|c| c.value.max(0.0)).sum(),
        benefit: chosen.iter().map(|c| c.benefit).sum(),
        chosen: chosen.iter().map(|c| c.id).collect(),
        deferred: deferred.iter().map(|c| c.id).collect(),
    })
}

/// The 0-1 knapsack, exactly: items that the LP bound proves in (or out) are fixed first (the
/// Dembo–Hammer reduction around the critical ratio), and only the undecided core goes to the MIP.
fn knapsack<'a>(items: &[&'a Candidate], budget: f64) -> Result<Vec<&'a Candidate>, BudgetError> {
    let mut sorted: Vec<&Candidate> = items.to_vec();
    sorted.sort_by(|a, b| b.ratio().total_cmp(&a.ratio()));
    // The LP relaxation: whole items by ratio until the break item, which is taken in part.
    let mut left = budget;
    let mut lp = 0.0;
    let mut critical = 0.0;
    for c in &sorted {
        if c.value <= left {
            left -= c.value;
            lp += c.benefit;
        } else {
            critical = c.ratio();
            lp += left * critical;
            break;
        }
    }
    // A feasible solution: greedy by ratio, skipping what does not fit.
    let mut left = budget;
    let mut greedy: Vec<&Candidate> = Vec::new();
    for c in &sorted {
        if c.value <= left {
            left -= c.value;
            greedy.push(c);
        }
    }
    let lower: f64 = greedy.iter().map(|c| c.benefit).sum();
    // Fixing an item against its LP value costs at least |p − r·w| of the bound.
    let (mut fixed_in, mut core) = (Vec::new(), Vec::new());
    for c in sorted {
        let bound = lp - (c.benefit - critical * c.value).abs();
        if bound < lower - 1e-9 {
            if c.ratio() >= critical {
                fixed_in.push(c);
            }
        } else {
            core.push(c);
        }
    }
    let spent: f64 = fixed_in.iter().map(|c| c.value).sum();
    let mut best: Vec<&Candidate> = fixed_in.clone();
    let room = budget - spent;
    let core: Vec<&Candidate> = core.into_iter().filter(|c| c.value <= room).collect();
    if !core.is_empty() && room >= 0.0 {
        let mut vars = ProblemVariables::new();
        let take: Vec<Variable> = core.iter().map(|_| vars.add(variable().binary())).collect();
        let mut objective = Expression::with_capacity(core.len());
        let mut spend = Expression::with_capacity(core.len());
        for (c, v) in core.iter().zip(&take) {
            objective.add_mul(c.benefit, *v);
            spend.add_mul(c.value, *v);
        }
        let solution = vars
            .maximise(objective)
            .using(good_lp::microlp)
            .with(spend.leq(room))
            .solve()
            .map_err(|e| BudgetError::Solver(e.to_string()))?;
        best.extend(core.iter().zip(&take).filter(|(_, v)| solution.value(**v) > 0.5).map(|(c, _)| *c));
    }
    let value: f64 = best.iter().map(|c| c.benefit).sum();
    Ok(if value + 1e-9 >= lower { best } else { greedy })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(id: usize, value: f64, benefit: f64) -> Candidate {
        Candidate { id, value, benefit }
    }

    #[test]
    fn a_short_budget_picks_the_best_return_and_never_overspends() {
        let cands = vec![c(0, 500.0, 50.0), c(1, 300.0, 90.0), c(2, 200.0, 70.0), c(3, 400.0, 60.0)];
        let plan = plan_purchases(&cands, 600.0).expect("plan");
        assert!(plan.spent <= 600.0);
        // 1 + 2 cost 500 and protect 160; nothing else fits beside them.
        assert_eq!(plan.chosen, vec![2, 1]);
        assert!((plan.benefit - 160.0).abs() < 1e-9);
        assert_eq!(plan.deferred, vec![3, 0]);
    }

    #[test]
    fn the_knapsack_beats_greedy_when_greedy_wastes_the_budget() {
        // Greedy by ratio takes 0 (ratio 2.0) and can then afford nothing; 1 + 2 protect more.
        let cands = vec![c(0, 60.0, 120.0), c(1, 50.0, 95.0), c(2, 50.0, 95.0)];
        let plan = plan_purchases(&cands, 100.0).expect("plan");
        assert_eq!(plan.chosen, vec![1, 2]);
        assert!((plan.benefit - 190.0).abs() < 1e-9);
    }

    #[test]
    fn enough_money_takes_everything_useful_and_bad_budgets_are_refused() {
        let cands = vec![c(0, 10.0, 5.0), c(1, 10.0, 0.0), c(2, 0.0, 3.0)];
        let plan = plan_purchases(&cands, 1_000.0).expect("plan");
        assert_eq!(plan.chosen, vec![2, 0]);
        assert_eq!(plan.deferred, vec![1]);
        assert!(plan_purchases(&cands, -1.0).is_err());
        assert!(plan_purchases(&cands, f64::NAN).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn matches_brute_force_and_ranks_by_return(
            items in proptest::collection::vec((1u32..500, 0u32..300), 1..11),
            budget in 0u32..1500,
        ) {
            let cands: Vec<Candidate> =
                items.iter().enumerate().map(|(i, &(v, b))| c(i, f64::from(v), f64::from(b))).collect();
            let budget = f64::from(budget);
            let plan = plan_purchases(&cands, budget).expect("plan");
            prop_assert!(plan.spent <= budget + 1e-9);
            let mut best = 0.0f64;
            for mask in 0u32..(1 << cands.len()) {
                let (v, b) = cands.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0)
                    .fold((0.0, 0.0), |(v, b), (_, c)| (v + c.value, b + c.benefit));
                if v <= budget { best = best.max(b); }
            }
            prop_assert!((plan.benefit - best).abs() < 1e-6, "plan {} vs best {}", plan.benefit, best);
            let ratios: Vec<f64> = plan.chosen.iter().map(|&i| cands[i].ratio()).collect();
            prop_assert!(ratios.windows(2).all(|w| w[0] >= w[1]));
        }
    }
}
