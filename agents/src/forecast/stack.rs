//! Learning across series: one small regression, fitted on every series of a batch at many past
//! origins, that turns an item's recent statistics into its level for the coming periods.
//!
//! Each series alone has too little history to tell how much weight its last week deserves
//! against its last quarter, or how fast demand comes back after a run of zeros. Pooled over a
//! store's hundreds of items and a year of weekly origins, those weights are learned precisely.
//! Features are scale-free (divided by the item's mean over the past year), so a slow mover and a
//! best seller share one model; rows are weighted as RMSSE weighs errors.

/// TSB smoothing constants whose states are features.
const TSB_ALPHAS: [f64; 4] = [0.02, 0.05, 0.1, 0.2];
/// Number of recent-mean features.
const MEANS: usize = 4;
/// Intercept, TSB states, means, share of zeros lately, trailing zero run.
pub const FEATURES: usize = 1 + TSB_ALPHAS.len() + MEANS + 2 + 3;

/// The time scales of the features, by frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Windows of the recent means.
    pub means: [usize; MEANS],
    /// Observations the scale (mean over the past year) is taken on.
    pub scale_window: usize,
    /// Periods in a year (the lag of the year-over-year features).
    pub year: usize,
    /// The "lately" of the zero share and the unit of the zero run (4 weeks, a quarter).
    pub recent: usize,
}

impl Shape {
    /// Days: a week to four months, scaled by the past year, "lately" = 4 weeks.
    pub const DAILY: Shape = Shape { means: [7, 28, 56, 112], scale_window: 364, year: 364, recent: 28 };
    /// Months: a quarter to two years, scaled by the past year, "lately" = a quarter.
    pub const MONTHLY: Shape = Shape { means: [3, 6, 12, 24], scale_window: 12, year: 12, recent: 3 };
}

/// The fitted weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Stacker {
    weights: [f64; FEATURES],
}

/// Features of `z[..t]` for every `t`, in one pass: the callback gets `t`, the scale and the features.
fn walk(z: &[f64], shape: Shape, h: usize, mut visit: impl FnMut(usize, f64, &[f64; FEATURES])) {
    let n = z.len();
    let mut prefix = vec![0.0; n + 1];
    let mut zeros = vec![0usize; n + 1];
    for (i, v) in z.iter().enumerate() {
        prefix[i + 1] = prefix[i] + v;
        zeros[i + 1] = zeros[i] + usize::from(*v == 0.0);
    }
    let Some(first_sale) = z.iter().position(|v| *v > 0.0) else { return };
    let mut p = [0.0; TSB_ALPHAS.len()];
    let mut size = [z[first_sale]; TSB_ALPHAS.len()];
    let start_p = {
        let k = n.min(shape.recent);
        z[..k].iter().filter(|v| **v > 0.0).count() as f64 / k.max(1) as f64
    };
    p.fill(start_p);
    let mut run = 0usize;
    for t in 0..=n {
        if t >= shape.recent {
            let lo = t.saturating_sub(shape.scale_window);
            let scale = (prefix[t] - prefix[lo]) / (t - lo) as f64;
            if scale > 0.0 {
                let mut f = [0.0; FEATURES];
                f[0] = 1.0;
                for (j, a) in TSB_ALPHAS.iter().enumerate() {
                    let _ = a;
                    f[1 + j] = p[j] * size[j] / scale;
                }
                for (j, w) in shape.means.iter().enumerate() {
                    let k = (*w).min(t);
                    f[1 + TSB_ALPHAS.len() + j] = (prefix[t] - prefix[t - k]) / k as f64 / scale;
                }
                let k = shape.recent.min(t);
                f[FEATURES - 5] = (zeros[t] - zeros[t - k]) as f64 / k as f64;
                f[FEATURES - 4] = (run as f64 / shape.recent as f64).min(2.0);
                // The same window a year ago and the weeks before it: the item's own seasonality,
                // with a weight the regression learns.
                if t >= shape.year + shape.recent {
                    let a = t - shape.year;
                    let b = (a + h).min(t);
                    f[FEATURES - 3] = 1.0;
                    f[FEATURES - 2] = (prefix[b] - prefix[a]) / (b - a).max(1) as f64 / scale;
                    f[FEATURES - 1] = (prefix[a] - prefix[a - shape.recent]) / shape.recent as f64 / scale;
                }
                visit(t, scale, &f);
            }
        }
        if t == n {
            break;
        }
        let v = z[t];
        let occurred = if v > 0.0 { 1.0 } else { 0.0 };
        for (j, a) in TSB_ALPHAS.iter().enumerate() {
            p[j] += a * (occurred - p[j]);
            if v > 0.0 {
                size[j] += a * (v - size[j]);
            }
        }
        run = if v == 0.0 { run + 1 } else { 0 };
    }
}

/// Sums of the weighted normal equations.
#[derive(Debug, Clone)]
pub struct Normal {
    xtx: [[f64; FEATURES]; FEATURES],
    xty: [f64; FEATURES],
    rows: usize,
}

impl Default for Normal {
    fn default() -> Self {
        Normal { xtx: [[0.0; FEATURES]; FEATURES], xty: [0.0; FEATURES], rows: 0 }
    }
}

impl Normal {
    /// Adds the training rows of one series: origins every `step` periods over the last `span`
    /// periods before the last `h`, each predicting the mean of the next `h` observations.
    pub fn add_series(&mut self, z: &[f64], shape: Shape, h: usize, step: usize, span: usize) {
        let n = z.len();
        if n < h + 2 * shape.recent {
            return;
        }
        let diffs: Vec<f64> = z.windows(2).map(|w| (w[1] - w[0]) * (w[1] - w[0])).collect();
        let rmsse_scale = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
        if rmsse_scale <= 0.0 {
            return;
        }
        let last = n - h;
        let first = last.saturating_sub(span);
        let mut prefix = vec![0.0; n + 1];
        for (i, v) in z.iter().enumerate() {
            prefix[i + 1] = prefix[i] + v;
        }
        walk(z, shape, h, |t, scale, f| {
            if t < first || t > last || !(last - t).is_multiple_of(step) {
                return;
            }
            let target = (prefix[t + h] - prefix[t]) / h as f64 / scale;
            let w = scale * scale / rmsse_scale;
            for i in 0..FEATURES {
                self.xty[i] += w * f[i] * target;
                for j in 0..FEATURES {
                    self.xtx[i][j] += w * f[i] * f[j];
                }
            }
            self.rows += 1;
        });
    }

    /// Merges another's sums.
    pub fn merge(&mut self, o: &Normal) {
        for i in 0..FEATURES {
            self.xty[i] += o.xty[i];
            for j in 0..FEATURES {
                self.xtx[i][j] += o.xtx[i][j];
            }
        }
        self.rows += o.rows;
    }

    /// Ridge solution (`ridge` times the mean diagonal added to every weight but the intercept);
    /// `None` with too few rows or a singular system.
    pub fn solve(&self, ridge: f64, min_rows: usize) -> Option<Stacker> {
        if self.rows < min_rows {
            return None;
        }
        let mut a = self.xtx;
        let mut b = self.xty;
        let diag = (0..FEATURES).map(|i| a[i][i]).sum::<f64>() / FEATURES as f64;
        for (i, row) in a.iter_mut().enumerate().skip(1) {
            row[i] += ridge * diag;
        }
        // Gaussian elimination with partial pivoting.
        for col in 0..FEATURES {
            let pivot = (col..FEATURES).max_by(|x, y| a[*x][col].abs().total_cmp(&a[*y][col].abs()))?;
            if a[pivot][col].abs() < 1e-12 {
                return None;
            }
            a.swap(col, pivot);
            b.swap(col, pivot);
            let (top, bottom) = a.split_at_mut(col + 1);
            let pivot_row = &top[col];
            for (r, row) in bottom.iter_mut().enumerate() {
                let m = row[col] / pivot_row[col];
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= m * p;
                }
                b[col + 1 + r] -= m * b[col];
            }
        }
        let mut w = [0.0; FEATURES];
        for r in (0..FEATURES).rev() {
            let s: f64 = (r + 1..FEATURES).map(|c| a[r][c] * w[c]).sum();
            w[r] = (b[r] - s) / a[r][r];
        }
        w.iter().all(|v| v.is_finite()).then_some(Stacker { weights: w })
    }
}

impl Stacker {
    /// The level of the periods after `z`, in `z`'s units; `None` without a usable scale.
    pub fn level(&self, z: &[f64], shape: Shape, h: usize) -> Option<f64> {
        let mut out = None;
        walk(z, shape, h, |t, scale, f| {
            if t == z.len() {
                let y: f64 = f.iter().zip(&self.weights).map(|(x, w)| x * w).sum();
                out = Some((y * scale).max(0.0));
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_constant_level() {
        // Every series is flat at its own level: the stacked level must reproduce it.
        let mut normal = Normal::default();
        let series: Vec<Vec<f64>> = (1..40)
            .map(|k| (0..400).map(|i| k as f64 * (1.0 + 0.2 * ((i % 7) as f64 - 3.0) / 3.0)).collect())
            .collect();
        for z in &series {
            normal.add_series(z, Shape::DAILY, 28, 7, 364);
        }
        let stacker = normal.solve(1e-6, 50).expect("solvable");
        for z in &series {
            let level = stacker.level(z, Shape::DAILY, 28).expect("level");
            let mean = z.iter().sum::<f64>() / z.len() as f64;
            assert!((level - mean).abs() / mean < 0.1, "{level} vs {mean}");
        }
    }

    #[test]
    fn too_few_rows_give_no_model() {
        let mut normal = Normal::default();
        normal.add_series(&[1.0; 60], Shape::DAILY, 28, 7, 364);
        assert!(normal.solve(1e-3, 100).is_none());
        assert!(Normal::default().solve(1e-3, 0).is_none());
    }
}
