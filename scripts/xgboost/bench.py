#!/usr/bin/env python3
"""XGBoost's own predict at the benchmark shape of docs/performance.md: 1,000 documents of 300 features, a model of
500 trees of up to 63 leaves, one thread. Also writes the model and the documents for the Lasthope side
(benchmarks/Lasthope.Benchmarks/Trees/TreesXGBoostBenchmarks.cs), so both score the same model on the same rows.

Run with Debian's XGBoost: /usr/bin/python3 scripts/xgboost/bench.py
"""
import os
import tempfile
import time

import numpy as np
import xgboost as xgb

FEATURES, TREES, LEAVES, DOCS = 300, 500, 63, 1000
folder = os.path.join(tempfile.gettempdir(), "lasthope-bench-models")
os.makedirs(folder, exist_ok=True)
model_path = os.path.join(folder, "xgboost-300f-500t-63l.json")

rng = np.random.default_rng(12345)
if not os.path.exists(model_path):
    x = rng.random((20000, FEATURES))
    y = sum(np.sin(x[:, f] * 6 + f) * np.where(x[:, (f + 1) % FEATURES] > 0.5, 1.0, -0.5) for f in range(0, FEATURES, 3))
    y = y + rng.random(20000) * 0.5
    params = {"objective": "reg:squarederror", "tree_method": "hist", "grow_policy": "lossguide", "max_leaves": LEAVES,
              "max_depth": 0, "eta": 0.05, "min_child_weight": 20, "nthread": 2, "seed": 1}
    booster = xgb.train(params, xgb.DMatrix(x, label=y), TREES)
    booster.save_model(model_path)

booster = xgb.Booster(model_file=model_path)
booster.set_param({"nthread": 1})
docs = np.random.default_rng(99).random((DOCS, FEATURES))
docs.astype("<f8").tofile(os.path.join(folder, "xgboost-300f-docs.f64"))


def best(f, repeats=30):
    f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times) * 1000, float(np.median(times)) * 1000


# Not timed: predict() on a DMatrix it has already seen, which XGBoost answers from its prediction cache.
print(f"xgboost {xgb.__version__}, {TREES} trees, max {LEAVES} leaves, {DOCS} docs x {FEATURES} features, 1 thread")
print("predict(DMatrix), DMatrix built per call: best %.3f ms, median %.3f ms" % best(lambda: booster.predict(xgb.DMatrix(docs, nthread=1))))
print("inplace_predict(numpy): best %.3f ms, median %.3f ms" % best(lambda: booster.inplace_predict(docs)))
