"""A global gradient-boosted model in the style of the M5 winners, as a reference for Fluxion's
forecaster: one LightGBM model over every series of the file, trained at 104 weekly origins before
the hold-out on scale-free features (recent means, zero share, days since the last sale, the same
window a year earlier, the weekday's share, SNAP, events, day of month, step ahead), its squared
errors weighted as RMSSE weighs them. Scores the last 28 days like `fluxion forecast eval`.

    python3 m5_lightgbm.py /work/shared/data/m5_foods3_tx3_daily.csv.gz tweedie 300
    (objective: l2 or tweedie; boosting rounds)
"""
import numpy as np, pandas as pd, lightgbm as lgb, sys, datetime as dt
f = sys.argv[1]; obj = sys.argv[2] if len(sys.argv) > 2 else 'l2'
df = pd.read_csv(f)
Y = df.pivot(index='id', columns='date', values='qty').sort_index(axis=1)
dates = pd.to_datetime(Y.columns); Y = Y.to_numpy(float)
cal = pd.read_csv('/work/shared/data/m5_calendar_afcs2023.csv'); cal['date'] = pd.to_datetime(cal['date'])
cal = cal.set_index('date').reindex(dates)
snap = cal['snap_TX'].fillna(0).to_numpy() if 'TX' in f else np.zeros(len(dates))
event = cal['event_name_1'].notna().to_numpy().astype(float)
wd = dates.day_of_week.to_numpy(); dom = dates.day.to_numpy()
N, T = Y.shape; H = 28; test0 = T - H
first = np.array([np.argmax(y > 0) if (y > 0).any() else T for y in Y])
P = np.concatenate([np.zeros((N, 1)), Y.cumsum(1)], 1)
Z = np.concatenate([np.zeros((N, 1)), (Y == 0).cumsum(1)], 1)
def feats(o):  # features of every series at origin o (history y[:o])
    cols = {}
    for w in (7, 14, 28, 56, 112, 364):
        lo = np.maximum(o - w, first); n = np.maximum(o - lo, 1)
        cols[f'm{w}'] = (P[:, o] - P[np.arange(N), lo]) / n
    lo = np.maximum(o - 28, first); cols['z28'] = (Z[:, o] - Z[np.arange(N), lo]) / np.maximum(o - lo, 1)
    # days since last sale
    last = np.array([o - 1 - np.max(np.nonzero(Y[i, :o])[0]) if (Y[i, :o] > 0).any() else 9999 for i in range(N)])
    cols['since'] = last
    cols['age'] = o - first
    # same window a year ago / weeks before it
    cols['ya'] = (P[:, min(o - 364 + H, o)] - P[:, o - 364]) / H
    cols['yb'] = (P[:, o - 364] - P[:, o - 364 - 28]) / 28
    # weekday profile over the last year (ratio), per weekday
    prof = np.zeros((N, 7))
    lo = max(o - 364, 0)
    for d in range(7):
        m = (wd[lo:o] == d)
        prof[:, d] = Y[:, lo:o][:, m].mean(1)
    base = cols['m364'] + 1e-9
    # scale
    diffs = np.array([np.mean(np.diff(Y[i, first[i]:o]) ** 2) if o - first[i] > 2 else np.nan for i in range(N)])
    return cols, prof / base[:, None], base, diffs
def rows(o, with_target=True):
    cols, prof, base, scale = feats(o)
    out = []
    ok = (first < o - 28) & np.isfinite(scale) & (scale > 0)
    for k in range(H):
        t = o + k
        d = {c: v / base for c, v in cols.items() if c.startswith(('m', 'ya', 'yb'))}
        d.update({'z28': cols['z28'], 'since': cols['since'], 'age': cols['age'], 'k': np.full(N, k),
                  'wd': np.full(N, wd[t]), 'snap': np.full(N, snap[t]), 'event': np.full(N, event[t]),
                  'dom': np.full(N, dom[t]), 'prof': prof[:, wd[t]], 'logbase': np.log(base)})
        frame = pd.DataFrame(d); frame['base'] = base; frame['scale'] = scale; frame['item'] = np.arange(N)
        if with_target: frame['y'] = Y[:, t] / base
        out.append(frame[ok])
    return pd.concat(out)
train = pd.concat([rows(test0 - H - 7 * j) for j in range(0, 104)])
test = rows(test0)
X = [c for c in train.columns if c not in ('y', 'base', 'scale', 'item')]
w = train['base'] ** 2 / train['scale']  # RMSSE weighting of errors on the scaled target
params = dict(objective=obj, learning_rate=0.05, num_leaves=63, min_data_in_leaf=200, feature_fraction=0.8,
              bagging_fraction=0.8, bagging_freq=1, verbose=-1, num_threads=2)
if obj == 'tweedie': params['tweedie_variance_power'] = 1.1
model = lgb.train(params, lgb.Dataset(train[X], train['y'], weight=w), num_boost_round=int(sys.argv[3]) if len(sys.argv) > 3 else 300)
test['f'] = np.maximum(model.predict(test[X]), 0) * test['base']
test['a'] = test['y'] * test['base']
r = test.groupby('item').apply(lambda g: np.sqrt(((g['a'] - g['f']) ** 2).mean() / g['scale'].iloc[0]))
bias = 100 * (test['f'].sum() - test['a'].sum()) / test['a'].sum()
print(f"{f.split('/')[-1]} {obj}: series {len(r)} RMSSE {r.mean():.4f} bias {bias:+.1f}%")
