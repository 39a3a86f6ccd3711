"""The best imminent-stockout alerts any forecaster could raise on demand like the demo's.

Daily demand is gamma-Poisson with a known mean and shape, independent from day to day (as the
demo generator draws it): means 0.3 to 30 a day, shapes 1.2 to 13. Stock follows a periodic-review
order-up-to policy (reviews every 3 or 7 days, lead times of 2, 4 or 7 days, the level at the
given service level over review + lead time). Every evening, before ordering, the alert's
probability that demand runs the shelf dry before the next possible replenishment is computed from
the TRUE distribution (Monte Carlo), and scored against what the demand then did: precision and
recall by evening and by stockout episode, as `fluxion simulate` scores them.

    python3 alert_oracle.py 0.97 1095   (service level of the policy; evenings per item, 365 by default)
"""
import numpy as np, itertools, sys
rng = np.random.default_rng(7)
MC = 4000
DAYS = int(sys.argv[2]) if len(sys.argv) > 2 else 365
def demand(mu, k, size):
    return rng.poisson(mu * rng.gamma(k, 1.0 / k, size=size))
def up_to(mu, k, days, service):
    return np.quantile(demand(mu, k, (20000, days)).sum(axis=1), service)
def simulate(mu, k, R, L, service):
    S = up_to(mu, k, R + L, service)
    d = demand(mu, k, DAYS + 40)
    on_hand = S
    inbound = []  # (arrival day, units)
    evenings = []  # (p, truth, t, horizon)
    short = np.zeros(DAYS + 40, dtype=bool)
    for t in range(DAYS):
        on_hand += sum(u for a, u in inbound if a == t)
        inbound = [(a, u) for a, u in inbound if a > t]
        short[t] = d[t] > on_hand
        on_hand = max(on_hand - d[t], 0)
        to_order = (-t) % R  # days until the next order day (0 = tonight)
        H = to_order + L - 1
        if H >= 1:
            paths = demand(mu, k, (MC, H))
            stock = np.full(MC, float(on_hand))
            out = np.zeros(MC, dtype=bool)
            real_stock = float(on_hand); real_out = False
            for j in range(H):
                day = t + 1 + j
                arr = sum(u for a, u in inbound if a == day)
                stock += arr; real_stock += arr
                out |= paths[:, j] > stock
                stock = np.maximum(stock - paths[:, j], 0)
                if d[day] > real_stock: real_out = True
                real_stock = max(real_stock - d[day], 0)
            evenings.append((out.mean(), real_out, t, H))
        if t % R == 0:
            pos = on_hand + sum(u for _, u in inbound)
            if pos < S:
                inbound.append((t + L, S - pos))
    return evenings, short[:DAYS]
rows = []; episodes = []
for mu, k, R, L in itertools.product([0.3, 1, 3, 10, 30], [1.2, 3, 8, 13], [3, 7], [2, 4, 7]):
    ev, short = simulate(mu, k, R, L, float(sys.argv[1]) if len(sys.argv) > 1 else 0.97)
    rows += ev
    # episode: first short day after a day that was not short; warned at tau if some evening before
    # it whose horizon reaches it had p >= tau
    for t in range(1, len(short)):
        if short[t] and not short[t - 1]:
            episodes.append([p for p, _, e, H in ev if e < t <= e + H])
p = np.array([r[0] for r in rows]); truth = np.array([r[1] for r in rows])
print(f"evenings {len(rows)}, would-run-out evenings {truth.sum()}, episodes {len(episodes)}")
for tau in [0.3, 0.5, 0.7, 0.8, 0.9]:
    sel = p >= tau
    prec = truth[sel].mean() if sel.any() else float('nan')
    rec = (sel & truth).sum() / truth.sum()
    erec = np.mean([any(x >= tau for x in e) for e in episodes])
    print(f"tau {tau}: precision {prec:.3f}  recall (evenings) {rec:.3f}  recall (episodes) {erec:.3f}")
