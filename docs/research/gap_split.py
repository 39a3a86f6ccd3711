"""Where does Fluxion lose to hindsight on an M5 hold-out, and could any rule without hindsight win it?

Reads a data file and Fluxion's forecasts of its last 28 days (written by the tuning harness:
`DUMP=flux.csv MODELS= target/release/examples/forecast_lab FILE 28 CALENDAR`) and prints:

1. the store's total over the held-out weeks against the 28 days before them, in the same weeks of
   every year of the file (how unusual the held-out jump is);
2. Fluxion's RMSSE against each series' own held-out mean (the hindsight floor), split by how long
   a run of zeros the series was in at the origin;
3. the mean RMSSE if the forecasts of series in such a run were scaled by a constant (0 = forecast
   nothing until the item sells again).

    python3 gap_split.py /work/shared/data/m5_foods3_tx3_daily.csv.gz flux.csv
"""
import collections
import csv
import datetime as dt
import gzip
import math
import sys

H = 28
series = collections.defaultdict(list)
days = []
for row in csv.DictReader(gzip.open(sys.argv[1], "rt")):
    series[row["id"]].append(float(row["qty"]))
    if len(series) == 1:
        days.append(dt.date.fromisoformat(row["date"]))
store = next(iter(series)).rsplit("_", 2)[-2:]
suffix = "_" + "_".join(store)
forecasts = collections.defaultdict(dict)
for row in csv.DictReader(open(sys.argv[2])):
    # The harness writes `STORE:ITEM`; the file's ids are `ITEM_STORE`.
    forecasts[row["id"].split(":")[1] + suffix][int(row["step"])] = float(row["mean"])

total = [sum(y[i] for y in series.values()) for i in range(len(days))]
print("store total, held-out weeks against the 28 days before, by year:")
end = len(days) - H
while end - H >= 0:
    before, after = sum(total[end - H:end]), sum(total[end:end + H])
    print(f"  from {days[end]}: {after / before:.3f}")
    end -= 364


def trailing_zeros(y):
    run = 0
    for v in reversed(y):
        if v != 0:
            break
        run += 1
    return run


rows = []
for sid, y in series.items():
    train, test = y[:-H], y[-H:]
    first = next((i for i, v in enumerate(train) if v > 0), None)
    if first is None or len(train) - first < 2:
        continue
    train = train[first:]
    scale = sum((train[i] - train[i - 1]) ** 2 for i in range(1, len(train))) / (len(train) - 1)
    if scale <= 0:
        continue
    f = [forecasts[sid].get(k, 0.0) for k in range(H)]
    rows.append((trailing_zeros(train), test, scale, f))


def rmsse(test, f, scale):
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(test, f)) / H / scale)


n = len(rows)
groups = collections.defaultdict(lambda: [0, 0.0, 0.0])
for run, test, scale, f in rows:
    key = "zero run >= 28 days" if run >= 28 else "zero run 14-27 days" if run >= 14 else "other"
    mean = sum(test) / H
    groups[key][0] += 1
    groups[key][1] += rmsse(test, f, scale)
    groups[key][2] += rmsse(test, [mean] * H, scale)
print(f"mean RMSSE over {n} series: Fluxion {sum(g[1] for g in groups.values()) / n:.4f},"
      f" hindsight {sum(g[2] for g in groups.values()) / n:.4f}")
for key, (count, flux, hind) in sorted(groups.items()):
    print(f"  {key}: {count} series, their share of the gap {(flux - hind) / n:.4f}")
print("series in a zero run of 14 days or more, forecast scaled by c:")
for c in [0.0, 0.25, 0.5, 1.0, 2.0]:
    score = sum(rmsse(test, [v * c for v in f] if run >= 14 else f, scale) for run, test, scale, f in rows) / n
    print(f"  c = {c}: {score:.4f}")
