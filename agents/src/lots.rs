//! Lots of perishables, first-expiring first.

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

#[cfg(test)]
mod tests {
    use super::*;

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
