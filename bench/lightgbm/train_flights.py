"""LightGBM on Parquet files Keel wrote: the peer baseline for Keel's GBDT.

argv[1]: JSON with train/test paths (and valid for early stopping), features (name, kind), the
label (`label` column, or `late_minutes` over `delay`) and params. Prints one JSON line: seconds
to load the training data, seconds to train (Dataset binning + boosting, as Keel's trainer bins
too), their sum as `seconds`, iterations, test AUC.
"""
import json
import sys
import time

import lightgbm as lgb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

cfg = json.loads(sys.argv[1])
features = cfg["features"]
names = [f["name"] for f in features]
categorical = [f["name"] for f in features if f["kind"] == "categorical"]
label = cfg.get("label")


def load(path, vocab=None):
    t = pq.read_table(path, columns=names + [label or "delay"])
    cols = []
    vocab = vocab if vocab is not None else {}
    for f in names:
        col = t.column(f)
        if f in categorical:
            values = col.to_pylist()
            codes = vocab.setdefault(f, {})
            if not vocab.get("__frozen__"):
                for v in values:
                    if v is not None and v not in codes:
                        codes[v] = len(codes)
            cols.append(np.array([codes.get(v, np.nan) if v is not None else np.nan for v in values], dtype=np.float64))
        else:
            cols.append(col.cast(pa.float64()).to_numpy(zero_copy_only=False))
    raw = t.column(label or "delay").cast(pa.float64()).to_numpy(zero_copy_only=False)
    y = raw if label else (raw > cfg["late_minutes"]).astype(np.float64)
    return np.stack(cols, axis=1), y, vocab


t0 = time.perf_counter()
x_train, y_train, vocab = load(cfg["train"])
vocab["__frozen__"] = True
valid = load(cfg["valid"], vocab) if cfg.get("valid") else None
t1 = time.perf_counter()
params = {
    "objective": "binary",
    "learning_rate": cfg["learning_rate"],
    "num_leaves": cfg["num_leaves"],
    "max_depth": cfg["max_depth"],
    "min_data_in_leaf": cfg["min_data_in_leaf"],
    "min_sum_hessian_in_leaf": 1e-3,
    "max_bin": 255,
    "num_threads": cfg["threads"],
    "verbose": -1,
    "seed": 0,
}
train_set = lgb.Dataset(x_train, y_train, feature_name=names, categorical_feature=categorical or "auto")
extra = {}
if valid is not None:
    extra = {
        "valid_sets": [lgb.Dataset(valid[0], valid[1], reference=train_set)],
        "callbacks": [lgb.early_stopping(20, verbose=False)],
    }
booster = lgb.train(params, train_set, num_boost_round=cfg["num_trees"], **extra)
t2 = time.perf_counter()
x_test, y_test, _ = load(cfg["test"], vocab)
best = booster.best_iteration if valid is not None else booster.current_iteration()
auc = roc_auc_score(y_test, booster.predict(x_test, num_iteration=best))
print(json.dumps({
    "seconds": t2 - t0,
    "load_seconds": t1 - t0,
    "train_seconds": t2 - t1,
    "iterations": booster.current_iteration(),
    "best": best,
    "auc": auc,
}))
