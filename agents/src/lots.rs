//! Lots of perishables, first-expiring first.

use chrono::NaiveDate;

/// Takes `units` from `lots` (oldest first, as `(key, units)`), dropping emptied lots; returns
/// what was taken from each lot. Takes less when the lots run out.
pub fn take_first<K: Copy>(lots: &mut Vec<(K, f64)>, units: f64) -> Vec<(K, f64)> {
    let mut taken = Vec::new();
    let mut left = units;
    while left > 1e-12 {
        let Some(front) = lots.first_mut() else { break };
        let used = front.1.min(left);
        front.1 -= used;
        left -= used;
        taken.push((front.0, used));
        if front.1 <= 1e-12 {
            lots.remove(0);
        }
    }
    taken
}

/// Units of `lots` expected to expire unsold by the end of each of the next `days` days, when
/// sales take the first-expiring lots at `demand(k)` units on day `k` (0 = tomorrow). A lot is
/// `(last day it can be sold, counted from today: 1 = tomorrow, units)`; it is thrown away on the
/// morning after that day. Index `k` of the result is after `k` days (index 0 is tonight's zero).
pub fn expected_waste(lots: &[(i64, f64)], days: usize, demand: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut waste = vec![0.0; days + 1];
    let mut lots: Vec<(i64, f64)> = lots.iter().copied().filter(|l| l.1 > 0.0).collect();
    if lots.is_empty() {
        return waste;
    }
    lots.sort_by_key(|l| l.0);
    let mut wasted = 0.0;
    for (k, slot) in waste.iter_mut().enumerate().skip(1) {
        // Morning: lots past their last day are thrown away.
        while let Some(&(last, units)) = lots.first() {
            if last >= k as i64 {
                break;
            }
            wasted += units;
            lots.remove(0);
        }
        // Day: sales take the first-expiring lots.
        take_first(&mut lots, demand(k - 1));
        *slot = wasted;
    }
    waste
}

/// [`expected_waste`] of lots given as `(last date it can be sold, units)`, seen from `today`.
pub fn expected_waste_dated(
    lots: &[(NaiveDate, f64)],
    today: NaiveDate,
    days: usize,
    demand: impl Fn(usize) -> f64,
) -> Vec<f64> {
    let offsets: Vec<(i64, f64)> = lots.iter().map(|(last, units)| ((*last - today).num_days(), *units)).collect();
    expected_waste(&offsets, days, demand)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_does_not_sell_before_its_last_day_is_wasted() {
        // 10 units sellable through tomorrow, 10 through the day after; 4 sell a day.
        let waste = expected_waste(&[(2, 10.0), (1, 10.0)], 4, |_| 4.0);
        // Tomorrow 4 of the first lot sell; the morning after, its other 6 go; the second lot
        // sells 4 then goes with 6 left on the third morning.
        assert_eq!(waste, [0.0, 0.0, 6.0, 12.0, 12.0]);
        assert_eq!(expected_waste(&[], 3, |_| 1.0), [0.0; 4]);
        // A lot already past its last day goes on the first morning.
        assert_eq!(expected_waste(&[(0, 5.0)], 1, |_| 0.0), [0.0, 5.0]);
    }

    #[test]
    fn the_oldest_lots_go_first_and_empty_ones_are_dropped() {
        let mut lots = vec![(1, 3.0), (2, 5.0)];
        assert_eq!(take_first(&mut lots, 4.0), [(1, 3.0), (2, 1.0)]);
        assert_eq!(lots, [(2, 4.0)]);
        assert_eq!(take_first(&mut lots, 10.0), [(2, 4.0)]);
        assert!(lots.is_empty());
        assert!(take_first(&mut lots, 1.0).is_empty());
    }
}
