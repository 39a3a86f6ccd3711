"""How far can a forecast of the level go on an M5 hold-out? Scores, on the last 28 days, forecasts
that know what no forecaster can: each series' own mean over the held-out days (flat), and every
series scaled by the store's real change. RMSSE as `fluxion forecast eval` computes it (M5 scaling:
lag-1 differences from the first sale), averaged over series.

    python3 level_oracle.py /work/shared/data/m5_foods3_tx3_daily.csv.gz
"""
import collections
import csv
import gzip
import math
import sys

H = 28
series = collections.defaultdict(list)
for row in csv.DictReader(gzip.open(sys.argv[1], "rt")):
    series[row["id"]].append(float(row["qty"]))


def scored():
    """(train from the first sale, held-out days, M5 scale) of every scorable series."""
    for y in series.values():
        train, test = y[:-H], y[-H:]
        first = next((i for i, v in enumerate(train) if v > 0), None)
        if first is None or len(train) - first < 2:
            continue
        train = train[first:]
        scale = sum((train[i] - train[i - 1]) ** 2 for i in range(1, len(train))) / (len(train) - 1)
        if scale > 0:
            yield train, test, scale


def rmsse(test, forecast, scale):
    return math.sqrt(sum((a - f) ** 2 for a, f in zip(test, forecast)) / H / scale)


rows = list(scored())
held_out = sum(sum(t) for _, t, _ in rows)
results = collections.defaultdict(list)
for name, window in [("mean of the last 28 days", 28), ("mean of the last 56 days", 56)]:
    before = sum(sum(tr[-window:]) / window for tr, _, _ in rows) * H
    store_change = held_out / before
    for tr, te, sc in rows:
        level = sum(tr[-window:]) / window
        results[name].append(rmsse(te, [level] * H, sc))
        results[f"{name} × the store's real change ({store_change:.3f})"].append(rmsse(te, [level * store_change] * H, sc))
for tr, te, sc in rows:
    results["hindsight: each series' own held-out mean"].append(rmsse(te, [sum(te) / H] * H, sc))
    results["all zeros"].append(rmsse(te, [0.0] * H, sc))
print(f"{sys.argv[1]}: {len(rows)} series, last {H} days held out")
for name, values in results.items():
    print(f"  {sum(values) / len(values):.4f}  {name}")
