#!/usr/bin/python3
"""Golden values for sigmtl from an independent implementation: PyTorch autograd and torch.optim.

    /usr/bin/python3 scripts/golden/make.py     # Debian: apt-get install python3-torch

Writes test/fixtures/golden.json: for a few shapes, the parameters, a batch, the forward outputs,
the per-task losses, the gradients (autograd of the masked, weighted loss, and of the
uncertainty-weighted loss with its log-variances s) and the parameters after 1 and 5 steps of
torch.optim.SGD, SGD with momentum, Adam and AdamW, with the coupling regularisers written as
explicit loss terms so that autograd differentiates them, and with uncertainty weighting. Nothing here
uses sigmtl's formulas: the model is y = A·σ(W·x + b) + c in torch's own operations.

Inputs and initial parameters are rounded to float32 (and stored as float64), so a float32 GPU
and the float64 reference start from exactly the same numbers.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def f32(array):
    return np.asarray(array, dtype=np.float32).astype(np.float64)


def make_case(name, d, H, T, N, losses, weights, seed, mask_rate=0.0, a_init="random", empty_task=None):
    rng = np.random.default_rng(seed)
    X = f32(rng.normal(size=(N, d)))
    mask = (rng.random((N, T)) >= mask_rate).astype(np.float64)
    if empty_task is not None:
        mask[:, empty_task] = 0.0
    Y = np.zeros((N, T))
    for t, loss in enumerate(losses):
        Y[:, t] = (rng.random(N) < 0.4).astype(np.float64) if kind_of(loss) == "bce" else f32(rng.normal(1.0, 2.0, size=N))
    Y *= mask  # missing targets are stored as 0
    W = f32(rng.normal(scale=1 / np.sqrt(d), size=(H, d)))
    b = f32(rng.normal(scale=0.3, size=H))
    A = np.eye(T, H) if a_init == "identity" else f32(rng.normal(scale=1 / np.sqrt(H), size=(T, H)))
    c = f32(rng.normal(scale=0.3, size=T))
    s = f32(rng.normal(scale=0.5, size=T))  # log-variances of uncertainty weighting
    return {
        "name": name, "d": d, "H": H, "T": T, "N": N, "losses": losses, "weights": weights,
        "X": X, "Y": Y, "mask": mask, "params": {"W": W, "b": b, "A": A, "c": c, "s": s},
    }


def tensors(params, grad=True):
    return {k: torch.tensor(v, requires_grad=grad) for k, v in params.items()}


# Uncertainty weighting's c_t (Kendall, Gal & Cipolla 2018): 1/(2σ²) for a Gaussian likelihood,
# 1/σ² for a Bernoulli or (asymmetric) Laplace one.
UNCERTAINTY_SCALE = {"mse": 0.5, "bce": 1.0, "huber": 0.5, "quantile": 1.0}


def kind_of(spec):
    """'quantile:0.9' → 'quantile'."""
    return spec.split(":")[0]


def parameter_of(spec, default):
    """'quantile:0.9' → 0.9; a bare name → the loss's default."""
    return float(spec.split(":")[1]) if ":" in spec else default


def data_loss(case, p, X, Y, mask, weighting="equal"):
    """Σ_t w_t · L_t, L_t = Σ_n mask·ℓ / Σ_n mask, with torch's own MSE and BCE-with-logits;
    uncertainty weighting: Σ_t w_t · (c_t·exp(−s_t)·L_t + ½·s_t)."""
    S = torch.sigmoid(X @ p["W"].T + p["b"])
    out = S @ p["A"].T + p["c"]
    per_task = []
    for t, loss in enumerate(case["losses"]):
        if kind_of(loss) == "mse":
            e = F.mse_loss(out[:, t], Y[:, t], reduction="none")
        elif kind_of(loss) == "huber":
            e = F.huber_loss(out[:, t], Y[:, t], reduction="none", delta=parameter_of(loss, 1.0))
        elif kind_of(loss) == "quantile":  # the pinball loss, written out: torch has none
            q = parameter_of(loss, 0.5)
            r = Y[:, t] - out[:, t]
            e = torch.maximum(q * r, (q - 1) * r)
        else:
            e = F.binary_cross_entropy_with_logits(out[:, t], Y[:, t], reduction="none")
        count = mask[:, t].sum()
        per_task.append((mask[:, t] * e).sum() / count if count > 0 else out.new_zeros(()))
    per_task = torch.stack(per_task)
    weights = torch.tensor(case["weights"])
    if weighting == "uw":
        c = torch.tensor([UNCERTAINTY_SCALE[kind_of(loss)] for loss in case["losses"]])
        total = (weights * (c * torch.exp(-p["s"]) * per_task + 0.5 * p["s"])).sum()
    elif weighting == "gls":
        # geometric loss strategy: the weighted geometric mean over the tasks with a positive loss
        present = per_task > 0
        w = weights[present]
        total = torch.exp((w * torch.log(per_task[present])).sum() / w.sum())
    else:
        total = (weights * per_task).sum()
    return S, out, per_task, total


def regularisers(A, l1, toward_identity):
    identity = torch.eye(A.shape[0], A.shape[1])
    return l1 * A.abs().sum() + 0.5 * toward_identity * ((A - identity) ** 2).sum()


def run_optimizer(case, run):
    p = tensors(case["params"])
    X, Y, mask = (torch.tensor(case[k]) for k in ("X", "Y", "mask"))
    opt = run["optimizer"]
    frozen = run.get("freezeA", False)
    weighting = run.get("weighting", "equal")
    decay = [p["W"]] + ([] if frozen else [p["A"]])
    rest = [p["b"], p["c"]] + ([p["s"]] if weighting == "uw" else [])
    groups = [{"params": decay, "weight_decay": opt["weightDecay"]}, {"params": rest, "weight_decay": 0.0}]
    kind = opt["kind"]
    if kind == "sgd":
        optimizer = torch.optim.SGD(groups, lr=opt["learningRate"])
    elif kind == "momentum":
        optimizer = torch.optim.SGD(groups, lr=opt["learningRate"], momentum=opt["momentum"])
    elif kind == "adam" and opt["weightDecay"] == 0:
        optimizer = torch.optim.Adam(groups, lr=opt["learningRate"], betas=(opt["beta1"], opt["beta2"]), eps=opt["epsilon"])
    else:  # decoupled weight decay
        optimizer = torch.optim.AdamW(groups, lr=opt["learningRate"], betas=(opt["beta1"], opt["beta2"]), eps=opt["epsilon"])
    if kind in ("sgd", "momentum"):
        assert opt["weightDecay"] == 0, "torch's SGD decay is L2 (coupled); sigmtl's is decoupled"
    after = {}
    for step in range(1, 6):
        optimizer.zero_grad()
        _, _, _, total = data_loss(case, p, X, Y, mask, weighting)
        total = total + regularisers(p["A"], run.get("l1A", 0.0), run.get("identityA", 0.0))
        total.backward()
        if frozen:
            p["A"].grad = None
        optimizer.step()
        if step in (1, 5):
            after[str(step)] = {k: v.detach().numpy().copy() for k, v in p.items()}
    return after


def complete(case, runs):
    p = tensors(case["params"])
    X, Y, mask = (torch.tensor(case[k]) for k in ("X", "Y", "mask"))
    S, out, per_task, total = data_loss(case, p, X, Y, mask)
    total.backward()
    case["forward"] = {"S": S.detach().numpy(), "Y": out.detach().numpy()}
    case["loss"] = {"perTask": per_task.detach().numpy(), "total": float(total)}
    case["grads"] = {k: (v.grad.numpy() if v.grad is not None else np.zeros(v.shape)) for k, v in p.items()}
    p = tensors(case["params"])
    _, _, _, total_uw = data_loss(case, p, X, Y, mask, "uw")
    total_uw.backward()
    case["uw"] = {"total": float(total_uw), "grads": {k: v.grad.numpy() for k, v in p.items()}}
    p = tensors(case["params"])
    _, _, _, total_gls = data_loss(case, p, X, Y, mask, "gls")
    total_gls.backward()
    case["gls"] = {"total": float(total_gls), "grads": {k: (v.grad.numpy() if v.grad is not None else np.zeros(v.shape)) for k, v in p.items()}}
    case["runs"] = [dict(run, after=run_optimizer(case, run)) for run in runs]
    return case


def optimizer(kind, lr, weight_decay=0.0, momentum=0.9):
    return {"kind": kind, "learningRate": lr, "weightDecay": weight_decay, "momentum": momentum, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


RUNS = [
    {"optimizer": optimizer("sgd", 0.1)},
    {"optimizer": optimizer("momentum", 0.05)},
    {"optimizer": optimizer("adam", 0.01)},
    {"optimizer": optimizer("adam", 0.01, weight_decay=0.1)},
    {"optimizer": optimizer("adam", 0.01), "l1A": 0.02, "identityA": 0.1},
    {"optimizer": optimizer("momentum", 0.05), "freezeA": True},
    {"optimizer": optimizer("adam", 0.01), "weighting": "uw"},
    {"optimizer": optimizer("sgd", 0.1), "weighting": "uw"},
    {"optimizer": optimizer("adam", 0.01), "weighting": "gls"},
    {"optimizer": optimizer("momentum", 0.05), "weighting": "gls"},
]

CASES = [
    # the seed's shape (d=10, T=5 = H, N=100): three regression and two binary tasks, 15% missing
    make_case("seed d=10 H=5 T=5 N=100", 10, 5, 5, 100, ["mse", "mse", "bce", "mse", "bce"], [1.0, 0.5, 2.0, 1.0, 0.25], seed=1, mask_rate=0.15),
    # awkward primes, H ≠ T
    make_case("primes d=13 H=7 T=3 N=37", 13, 7, 3, 37, ["bce", "mse", "bce"], [1.0, 3.0, 0.5], seed=2),
    # heavily masked: one task with no observed target in the batch, identity A (L1 at exact zeros)
    make_case("masked d=4 H=4 T=4 N=9", 4, 4, 4, 9, ["mse", "bce", "mse", "bce"], [1.0, 1.0, 2.0, 1.0], seed=3, mask_rate=0.4, a_init="identity", empty_task=2),
    # Huber beside MSE and BCE; targets spread (σ = 2) so errors fall on both sides of δ = 1
    make_case("huber d=6 H=5 T=4 N=24", 6, 5, 4, 24, ["huber", "mse", "huber", "bce"], [1.0, 0.5, 2.0, 1.0], seed=4, mask_rate=0.1),
    # quantiles on both sides of the median (and the bare name, q = 0.5), Huber with δ = 2, masks;
    # N odd, so no task's ±q subgradients cancel to exactly 0 (Adam would turn f32 rounding into ±lr)
    make_case("quantile d=5 H=6 T=5 N=31", 5, 6, 5, 31, ["quantile:0.9", "quantile:0.25", "quantile", "huber:2", "mse"], [1.0, 2.0, 0.5, 1.0, 1.0], seed=5, mask_rate=0.1),
]


def to_json(value):
    if isinstance(value, np.ndarray):
        return value.reshape(-1).tolist()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


if __name__ == "__main__":
    out = {
        "generator": f"scripts/golden/make.py with PyTorch {torch.__version__}, float64 autograd and torch.optim",
        "cases": [to_json(complete(case, RUNS)) for case in CASES],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "golden.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.normpath(path)}: {len(out['cases'])} cases × {len(RUNS)} optimizer runs")
