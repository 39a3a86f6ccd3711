//! The day-by-day simulation of one product at one store: demand, receipts, expiry, censored sales
//! and (s, S) replenishment from the product's supplier.
//!
//! Each store × product series draws from its own random stream (seeded from the config seed, the
//! store and the product), and deliveries from a supplier to a store on a given order day share one
//! lead-time draw, seeded from the store, the supplier and the day. So a series comes out the same
//! whatever else is generated and in whatever order: the generator simulates every series once to
//! count rows and learn the final state, and again, identically, when it emits a batch.
//!
//! Quantities are integers in base units (pieces, or grams for goods sold by the kilogram), so stock
//! never drifts by floating-point dust and "out of stock" means exactly zero.

use super::catalog::{Catalog, ProductSpec, SupplierSpec};
use super::seasons::{Calendar, Promo};
use super::{Tag, sub_rng};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson, StandardNormal};
use std::collections::VecDeque;

/// An order placed with a supplier and not yet received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Day index it was ordered.
    pub ordered: usize,
    /// Day index it arrives (may be past the last simulated day).
    pub arrives: usize,
    /// Base units.
    pub quantity: i64,
}

/// What a series leaves behind at the end of the last day, and how many rows it produced.
#[derive(Debug, Clone, Default)]
pub(crate) struct SeriesEnd {
    /// Days with a sale (one sales line each).
    pub sales_lines: usize,
    /// Stock snapshots (stockout days, Sundays and the last day).
    pub snapshots: usize,
    /// Days closed with nothing on hand.
    pub stockout_days: usize,
    /// Base units written off because they expired.
    pub wasted: i64,
    /// Closing stock of the last day, in base units.
    pub on_hand: i64,
    /// Lots still on hand (received day index, base units), oldest first; perishables only.
    pub lots: Vec<(usize, i64)>,
    /// Orders in flight.
    pub pipeline: Vec<Pending>,
    /// The last reorder point, in base units.
    pub reorder_point: i64,
    /// Expected units (not base units) per day over the last four weeks.
    pub recent_rate: f64,
}

/// What happened to a series on one day (quantities in base units).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DayOutcome {
    /// Day index.
    pub t: usize,
    /// Delivered in the morning.
    pub received: i64,
    /// Sold (demand censored by stock on hand).
    pub sold: i64,
    /// On hand at closing.
    pub closing: i64,
    /// Shelf price that day in US cents per counting unit (promotions included).
    pub price_cents: f64,
}

/// Reusable buffers, so a batch does not allocate per series.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    lambda: Vec<f64>,
    prefix: Vec<f64>,
    lots: VecDeque<(usize, i64)>,
    pipeline: Vec<Pending>,
}

/// Average purchase of a weighed good, in kilograms.
const KG_PER_PURCHASE: f64 = 0.6;

/// Chance that an order of a perishable is keyed in three times too large (the source of lots that
/// will expire before they sell).
const OVERORDER_CHANCE: f64 = 0.02;

/// The simulated world: the catalog, the calendar and everything drawn once for all series.
#[derive(Debug)]
pub(crate) struct World {
    /// Config seed.
    pub seed: u64,
    /// Simulated days (the calendar runs further, for planning and future promotions).
    pub days: usize,
    /// Stores, suppliers and products.
    pub catalog: Catalog,
    /// Dates and demand multipliers.
    pub calendar: Calendar,
    /// Promotions sorted by store, product and first day.
    pub promos: Vec<Promo>,
    /// Per supplier: day-index windows in which it delivers nothing, sorted.
    pub outages: Vec<Vec<(usize, usize)>>,
    /// The store whose point-of-sale feed stopped [`QUIET_DAYS`] before the end (with two stores or more).
    pub quiet_store: Option<usize>,
    /// Per store: the product whose shelf stock went missing [`PHANTOM_DAYS`] before the end while
    /// the books still show it (a fast, non-perishable item sold by the piece).
    pub phantoms: Vec<Option<usize>>,
    /// Per store: a dry good of which [`OVERORDER_DAYS`] before the end a delivery brought four
    /// months of sales at once (an order keyed in with a wrong quantity).
    pub overorders: Vec<Option<usize>>,
}

/// Days before the end at which the over-ordered delivery arrived.
pub(crate) const OVERORDER_DAYS: usize = 20;

/// Days at the end without any data from the quiet store.
pub(crate) const QUIET_DAYS: usize = 3;

/// Days at the end in which a phantom item's shelf stock is missing: no sales, stock on the books.
pub(crate) const PHANTOM_DAYS: usize = 6;

impl World {
    /// Draws the suppliers' outage windows and assembles the world.
    pub(crate) fn new(seed: u64, days: usize, catalog: Catalog, calendar: Calendar, promos: Vec<Promo>) -> Self {
        let outages =
            catalog.suppliers.iter().enumerate().map(|(i, s)| outage_windows(seed, i, s, calendar.len())).collect();
        let stores = catalog.stores.len();
        let quiet_store = (stores >= 2).then_some(stores - 1);
        let phantoms: Vec<Option<usize>> = (0..stores)
            .map(|s| {
                if Some(s) == quiet_store || days < 60 {
                    return None;
                }
                let n = catalog.products.len();
                let offset = (splitmix_index(seed, s) % n as u64) as usize;
                (0..n).map(|k| (offset + k) % n).find(|&p| {
                    let spec = &catalog.products[p];
                    spec.shelf_life.is_none() && spec.scale == 1 && spec.rate * catalog.stores[s].size >= 3.0
                })
            })
            .collect();
        let overorders = (0..stores)
            .map(|s| {
                if days < 60 {
                    return None;
                }
                let n = catalog.products.len();
                let offset = (splitmix_index(seed ^ 0x6f76_6572, s) % n as u64) as usize;
                (0..n).map(|k| (offset + k) % n).find(|&p| {
                    let spec = &catalog.products[p];
                    let rate = spec.rate * catalog.stores[s].size;
                    spec.shelf_life.is_none() && spec.scale == 1 && (0.5..3.0).contains(&rate) && phantoms[s] != Some(p)
                })
            })
            .collect();
        Self { seed, days, catalog, calendar, promos, outages, quiet_store, phantoms, overorders }
    }

    /// Whether `store`'s feed delivered day `t`'s data.
    pub(crate) fn reports(&self, store: usize, t: usize) -> bool {
        self.quiet_store != Some(store) || t + QUIET_DAYS < self.days
    }

    /// The last day `store` reported.
    pub(crate) fn last_report(&self, store: usize) -> usize {
        if self.quiet_store == Some(store) { self.days.saturating_sub(QUIET_DAYS + 1) } else { self.days - 1 }
    }

    /// The promotions of one store × product.
    pub(crate) fn promos_of(&self, store: usize, product: usize) -> &[Promo] {
        let from = self.promos.partition_point(|p| (p.store, p.product) < (store, product));
        let to = self.promos.partition_point(|p| (p.store, p.product) <= (store, product));
        &self.promos[from..to]
    }

    /// Whether a series of `store` emits a stock snapshot for day `t` closing at `closing` base
    /// units: on every stockout day, every Sunday and the last day the store reported.
    pub(crate) fn needs_snapshot(&self, store: usize, t: usize, closing: i64) -> bool {
        self.reports(store, t) && (closing <= 0 || self.calendar.weekday[t] == 6 || t == self.last_report(store))
    }

    /// The day an order placed with `supplier` by `store` on day `t` arrives.
    pub(crate) fn arrival(&self, store: usize, supplier: usize, t: usize) -> usize {
        let spec = &self.catalog.suppliers[supplier];
        let mut rng = sub_rng(self.seed, Tag::Lead, &[store as u64, supplier as u64, t as u64]);
        let lead = spec.supplier.lead_time;
        let z: f64 = StandardNormal.sample(&mut rng);
        let mut days = (lead.mean_days() + z * lead.sd_days()).round().max(1.0) as usize;
        if rng.random_bool(spec.fail) {
            days += rng.random_range(3..=10);
        }
        let mut arrives = t + days;
        for &(from, to) in &self.outages[supplier] {
            if (from..=to).contains(&arrives) {
                arrives = to + 1 + rng.random_range(0..=2);
            }
        }
        arrives
    }

    /// Simulates one store × product over every day, calling `on_day` with each day's outcome, and
    /// returns what is left at the end.
    pub(crate) fn simulate(
        &self,
        store: usize,
        product: usize,
        scratch: &mut Scratch,
        mut on_day: impl FnMut(&DayOutcome),
    ) -> SeriesEnd {
        let spec = &self.catalog.products[product];
        let supplier = &self.catalog.suppliers[spec.supplier];
        let store_size = self.catalog.stores[store].size;
        let promos = self.promos_of(store, product);
        let mut rng = sub_rng(self.seed, Tag::Series, &[store as u64, product as u64]);

        // Series-level character: local taste, how well the buyer plans, how much safety stock.
        let local_taste: f64 = StandardNormal.sample(&mut rng);
        let affinity = (0.3 * local_taste).exp();
        let planner_bias: f64 = rng.random_range(0.85..1.1);
        let safety_z: f64 = rng.random_range(0.2..1.5);
        let mut cycle_days: f64 = rng.random_range(5.0..15.0);
        if let Some(life) = spec.shelf_life {
            cycle_days = cycle_days.min((f64::from(life) * 0.4).max(1.0));
        }

        let len = self.calendar.len();
        fill_lambda(&mut scratch.lambda, spec, store_size * affinity, &self.calendar, promos, self.days);
        scratch.prefix.clear();
        scratch.prefix.push(0.0);
        let mut running = 0.0;
        for &l in &scratch.lambda {
            running += l * planner_bias;
            scratch.prefix.push(running);
        }
        let prefix = &scratch.prefix;
        let window = |from: usize, n: usize| prefix[(from + n).min(len)] - prefix[from.min(len)];

        let gamma = Gamma::new(spec.shape, 1.0 / spec.shape).ok();
        let lead_mean = supplier.supplier.lead_time.mean_days();
        let lead_sd = supplier.supplier.lead_time.sd_days();
        let scale = spec.scale as f64;
        let cycle = cycle_days.round() as usize;

        // (s, S) levels in base units for an order placed at the end of day `t`.
        let levels = |t: usize| -> (i64, i64) {
            let gap = supplier.next_order_gap[self.calendar.weekday[t] as usize];
            let protection = (lead_mean + gap as f64).ceil().max(1.0) as usize;
            let expected = window(t + 1, protection);
            let per_day = expected / protection as f64;
            let variance = expected
                + expected * expected / (spec.shape * protection as f64)
                + (per_day * lead_sd) * (per_day * lead_sd);
            let reorder = expected + safety_z * variance.sqrt();
            let mut order_up_to = reorder + window(t + 1 + protection, cycle);
            if let Some(life) = spec.shelf_life {
                let sellable = window(t + 1, ((f64::from(life) * 0.8) as usize).max(1));
                order_up_to = order_up_to.min(reorder.max(sellable));
            }
            let s = ((reorder * scale).ceil() as i64).max(1);
            let big_s = ((order_up_to * scale).ceil() as i64).max(s + 1);
            (s, big_s)
        };

        let lots = &mut scratch.lots;
        let pipeline = &mut scratch.pipeline;
        lots.clear();
        pipeline.clear();

        // Open with a full shelf.
        let (_, opening) = levels(0);
        let mut on_hand = round_up(opening, spec.pack);
        if spec.shelf_life.is_some() {
            lots.push_back((0, on_hand));
        }

        let phantom_from = if self.phantoms.get(store).copied().flatten() == Some(product) {
            self.days - PHANTOM_DAYS
        } else {
            usize::MAX
        };
        let overorder_on = if self.overorders.get(store).copied().flatten() == Some(product) {
            self.days - OVERORDER_DAYS
        } else {
            usize::MAX
        };
        let mut end = SeriesEnd::default();
        let mut reorder_point = 0;
        for t in 0..self.days {
            // Morning: receive what arrives today.
            let mut received = 0;
            let mut i = 0;
            while i < pipeline.len() {
                if pipeline[i].arrives == t {
                    let q = pipeline[i].quantity;
                    on_hand += q;
                    received += q;
                    if spec.shelf_life.is_some() {
                        match lots.back_mut() {
                            Some(last) if last.0 == t => last.1 += q,
                            _ => lots.push_back((t, q)),
                        }
                    }
                    pipeline.remove(i);
                } else {
                    i += 1;
                }
            }
            if t == overorder_on {
                let q = round_up((window(t, 120) * scale).ceil() as i64, spec.pack);
                on_hand += q;
                received += q;
            }
            // Write off what expired yesterday.
            if let Some(life) = spec.shelf_life {
                while let Some(&(received, q)) = lots.front() {
                    if received + life as usize >= t {
                        break;
                    }
                    on_hand -= q;
                    end.wasted += q;
                    lots.pop_front();
                }
            }

            // The day's demand, censored by what is on the shelf.
            let noise = gamma.as_ref().map_or(1.0, |g| g.sample(&mut rng));
            let mean = scratch.lambda[t] * noise;
            let demand = if spec.scale > 1 {
                let purchases = poisson(&mut rng, mean / KG_PER_PURCHASE);
                let size: f64 = rng.random_range(0.85..1.15);
                (purchases * KG_PER_PURCHASE * size * scale).round() as i64
            } else {
                poisson(&mut rng, mean) as i64
            };
            // A phantom item's shelf is empty while the books say otherwise: nothing sells.
            let sold = if t >= phantom_from { 0 } else { demand.min(on_hand).max(0) };
            on_hand -= sold;
            let mut to_take = sold;
            while to_take > 0 {
                let Some(front) = lots.front_mut() else { break };
                let take = front.1.min(to_take);
                front.1 -= take;
                to_take -= take;
                if front.1 == 0 {
                    lots.pop_front();
                }
            }

            let price = match promos.iter().find(|p| (p.first..=p.last).contains(&t)) {
                Some(p) => (spec.price_cents * (1.0 - f64::from(p.discount_pct) / 100.0)).round(),
                None => spec.price_cents,
            };
            on_day(&DayOutcome { t, received, sold, closing: on_hand, price_cents: price });
            if sold > 0 && self.reports(store, t) {
                end.sales_lines += 1;
            }
            if on_hand <= 0 {
                end.stockout_days += 1;
            }
            if self.needs_snapshot(store, t, on_hand) {
                end.snapshots += 1;
            }

            // Evening: order if the supplier takes orders today and the position is at or below s.
            if supplier.supplier.order_days.mask() & (1 << self.calendar.weekday[t]) != 0 {
                let (s, big_s) = levels(t);
                reorder_point = s;
                let position = on_hand + pipeline.iter().map(|p| p.quantity).sum::<i64>();
                if position <= s {
                    let mut quantity = round_up((big_s - position).max(spec.moq), spec.pack);
                    if spec.shelf_life.is_some() && rng.random_bool(OVERORDER_CHANCE) {
                        quantity *= 3;
                    }
                    let arrives = self.arrival(store, spec.supplier, t);
                    pipeline.push(Pending { ordered: t, arrives, quantity });
                }
            }
        }

        let recent = self.days.min(28);
        end.recent_rate = scratch.lambda[self.days - recent..self.days].iter().sum::<f64>() / recent as f64;
        end.on_hand = on_hand;
        end.lots = lots.iter().copied().collect();
        end.pipeline = pipeline.clone();
        end.reorder_point = reorder_point;
        end
    }
}

/// Expected demand (units, or kg) of a series for every calendar day.
fn fill_lambda(
    lambda: &mut Vec<f64>,
    spec: &ProductSpec,
    size: f64,
    calendar: &Calendar,
    promos: &[Promo],
    days: usize,
) {
    let base = spec.rate * size;
    let profile = &calendar.profile_mult[spec.profile.index()];
    lambda.clear();
    lambda.extend((0..calendar.len()).map(|t| {
        // Trends run for at most three years back, so a ten-year history does not start at a trickle.
        let years_to_end = ((t as f64 - days as f64) / 365.0).max(-3.0);
        let festive = 1.0 + spec.festive * calendar.festive_ramp[t];
        base * profile[t] * festive * (spec.trend * years_to_end).exp()
    }));
    for promo in promos {
        for l in lambda.iter_mut().take(promo.last + 1).skip(promo.first) {
            *l *= promo.lift;
        }
        // Shoppers stocked up: the week after a promotion of a durable good is slower.
        if spec.shelf_life.is_none() {
            for l in lambda.iter_mut().skip(promo.last + 1).take(7) {
                *l *= 0.85;
            }
        }
    }
}

/// A Poisson draw (as a float count); zero for a non-positive mean.
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    match Poisson::new(mean) {
        Ok(p) => p.sample(rng),
        Err(_) => mean.max(0.0).round(),
    }
}

/// `q` rounded up to a multiple of `pack` (pack ≥ 1).
fn round_up(q: i64, pack: i64) -> i64 {
    let pack = pack.max(1);
    (q.max(0) + pack - 1) / pack * pack
}

/// A well-mixed number from the seed and an index (SplitMix64).
fn splitmix_index(seed: u64, index: usize) -> u64 {
    let mut z = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x0070_6861_6e74_6f6d;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Windows in which a supplier delivers nothing: a Poisson number of episodes of one to three weeks.
fn outage_windows(seed: u64, index: usize, spec: &SupplierSpec, len: usize) -> Vec<(usize, usize)> {
    let mut rng = sub_rng(seed, Tag::Outage, &[index as u64]);
    let count = poisson(&mut rng, spec.outages * len as f64 / 365.0) as usize;
    let mut windows: Vec<(usize, usize)> = (0..count)
        .map(|_| {
            let from = rng.random_range(0..len);
            (from, from + rng.random_range(6..=20))
        })
        .collect();
    windows.sort_unstable();
    windows
}
