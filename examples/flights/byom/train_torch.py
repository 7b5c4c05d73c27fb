"""Bring your own model: a small PyTorch network on the flights features, exported to ONNX.

Runs as a Keel `command` step. Reads the training split from $KEEL_INPUT_TRAIN (Parquet), writes
model.onnx and metrics.json to $KEEL_OUTPUT_DIR. The ONNX graph takes one float32 [batch, 1]
input per feature, named after it, and outputs `probability` [batch, 1]: the same signature as
Keel's built-in models, so Keel evaluates, registers and serves it the same way.
"""
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

params = json.loads(os.environ.get("KEEL_PARAMS", "{}"))
features = params["features"]
label_threshold = float(params.get("late_minutes", 15))
epochs = int(params.get("epochs", 3))
torch.manual_seed(int(params.get("seed", 0)))
np.random.seed(int(params.get("seed", 0)))

table = pq.read_table(os.environ["KEEL_INPUT_TRAIN"], columns=features + ["delay"])


def column(name: str) -> np.ndarray:
    # Cast to float first so nulls become NaN (the graph imputes them).
    return table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)


x = np.stack([column(f) for f in features], axis=1).astype(np.float32)
y = (column("delay") > label_threshold).astype(np.float32)
mean = np.nanmean(x, axis=0)
std = np.nanstd(x, axis=0)
std[std == 0] = 1.0


class DelayNet(torch.nn.Module):
    """Imputation and standardisation live in the graph, so serving sends raw feature values."""

    def __init__(self, n: int):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean))
        self.register_buffer("std", torch.tensor(std))
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1)
        )

    def forward(self, *columns):
        x = torch.cat(columns, dim=1)
        x = torch.where(torch.isnan(x), self.mean, x)
        return torch.sigmoid(self.body((x - self.mean) / self.std))


model = DelayNet(len(features))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.BCELoss()
xt = torch.from_numpy(x)
yt = torch.from_numpy(y).unsqueeze(1)
batch = 1024
losses = []
for epoch in range(epochs):
    order = torch.randperm(len(xt))
    total = 0.0
    for start in range(0, len(xt), batch):
        idx = order[start : start + batch]
        cols = [xt[idx, i : i + 1] for i in range(len(features))]
        opt.zero_grad()
        loss = loss_fn(model(*cols), yt[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    losses.append(total / len(xt))
    print(f"epoch {epoch + 1}/{epochs}: train log loss {losses[-1]:.4f}", flush=True)

out = os.environ["KEEL_OUTPUT_DIR"]
model.eval()
example = tuple(torch.zeros(2, 1) for _ in features)
torch.onnx.export(
    model,
    example,
    os.path.join(out, "model.onnx"),
    input_names=features,
    output_names=["probability"],
    dynamic_axes={**{f: {0: "batch"} for f in features}, "probability": {0: "batch"}},
    opset_version=17,
    dynamo=False,
)
with open(os.path.join(out, "metrics.json"), "w") as f:
    json.dump({"train_log_loss": losses[-1], "train_rows": int(len(xt)), "epochs": epochs}, f)
