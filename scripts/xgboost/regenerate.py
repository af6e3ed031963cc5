#!/usr/bin/env python3
"""Regenerates the XGBoost fixtures of tests/Lasthope.Trees.Tests/Fixtures/xgboost.

Each fixture is a model saved by XGBoost itself (Booster.save_model, JSON) and a file of inputs with XGBoost's own
margins (predict(output_margin=True); one list per row for multiclass models), transformed predictions (class
probabilities for multi:softprob, the class for multi:softmax), leaf ids (pred_leaf=True) and, for the regression and
multiclass models, SHAP contributions (pred_contribs=True), so the tests compare Lasthope's evaluator with XGBoost
without XGBoost installed. Also writes models Lasthope must refuse (dart, gblinear).

Run with Debian's XGBoost (apt-get install python3-xgboost): /usr/bin/python3 scripts/xgboost/regenerate.py
"""
import json
import os

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "Lasthope.Trees.Tests", "Fixtures", "xgboost")
FEATURES = 6


def data(rows, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES)).astype(np.float64)
    # Values that are not floats (the evaluator must round them as XGBoost does), NaN (missing) and zeros.
    x[:, 1] = np.round(x[:, 1], 1) + 1e-9
    x[rng.random((rows, FEATURES)) < 0.12] = np.nan
    x[rng.random((rows, FEATURES)) < 0.08] = 0.0
    signal = np.nan_to_num(x[:, 0]) * 1.5 - np.nan_to_num(x[:, 1]) ** 2 + np.where(np.isnan(x[:, 2]), 1.0, x[:, 2] * np.nan_to_num(x[:, 3]))
    signal += rng.normal(scale=0.3, size=rows)
    return x, signal


def nested(values):
    """Floats, or lists of floats for per-class outputs, as JSON numbers."""
    return [nested(v) if np.ndim(v) > 0 else float(v) for v in values]


def save(name, booster, x, contributions=False):
    path = os.path.join(OUT, name + ".json")
    booster.save_model(path)
    d = xgb.DMatrix(x, missing=np.nan, feature_names=booster.feature_names)
    expected = {
        "xgboost": xgb.__version__,
        "features": FEATURES,
        "rows": [[None if np.isnan(v) else float(v) for v in row] for row in x],
        "margins": nested(booster.predict(d, output_margin=True)),
        "predictions": nested(booster.predict(d)),
        "leaves": [[int(l) for l in row] for row in np.atleast_2d(booster.predict(d, pred_leaf=True))],
    }
    if contributions:
        # (rows, features + 1), or (rows, classes, features + 1): the bias last, as LightGBM lays them out.
        expected["contributions"] = nested(booster.predict(d, pred_contribs=True))
    with open(os.path.join(OUT, name + ".expected.json"), "w") as f:
        json.dump(expected, f)


def main():
    os.makedirs(OUT, exist_ok=True)
    x, signal = data(2000, 1)
    test, _ = data(300, 2)
    names = [f"f{i}" for i in range(FEATURES)]
    common = {"max_depth": 5, "eta": 0.2, "seed": 1, "nthread": 1, "tree_method": "hist"}

    binary = xgb.train({**common, "objective": "binary:logistic", "base_score": 0.3},
                       xgb.DMatrix(x, label=(signal > 0).astype(float), missing=np.nan, feature_names=names), 30)
    save("binary", binary, test)

    regression = xgb.train({**common, "objective": "reg:squarederror"},
                           xgb.DMatrix(x, label=signal, missing=np.nan), 40)
    save("regression", regression, test, contributions=True)

    groups = [20] * 100
    ranking_dm = xgb.DMatrix(x, label=np.clip(np.floor(signal + 1.5), 0, 4), missing=np.nan)
    ranking_dm.set_group(groups)
    ranking = xgb.train({**common, "objective": "rank:ndcg"}, ranking_dm, 25)
    save("ranking", ranking, test)

    # Models Lasthope refuses, each with an error that names why.
    dart = xgb.train({**common, "booster": "dart", "objective": "reg:squarederror", "rate_drop": 0.1},
                     xgb.DMatrix(x, label=signal, missing=np.nan), 5)
    dart.save_model(os.path.join(OUT, "refused-dart.json"))
    linear = xgb.train({"booster": "gblinear", "objective": "reg:squarederror"}, xgb.DMatrix(x, label=signal, missing=np.nan), 3)
    linear.save_model(os.path.join(OUT, "refused-gblinear.json"))

    # Multiclass: num_class trees per iteration, softmax over the classes' margins.
    classes = np.clip(np.floor(signal + 1), 0, 3)
    softprob = xgb.train({**common, "objective": "multi:softprob", "num_class": 4},
                         xgb.DMatrix(x, label=classes, missing=np.nan), 20)
    save("multiclass-softprob", softprob, test, contributions=True)
    softmax = xgb.train({**common, "objective": "multi:softmax", "num_class": 3, "base_score": 0.2},
                        xgb.DMatrix(x, label=np.clip(classes, 0, 2), missing=np.nan), 15)
    save("multiclass-softmax", softmax, test)


if __name__ == "__main__":
    main()
