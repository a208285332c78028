// The PyTorch DDP training script of `sigmtl ddp` (train_ddp.py) and its local launcher
// (launch.sh). The script needs only PyTorch: it reads the job that src/api/ddp.ts wrote
// (job.json, init.safetensors, data/*.npy) and takes the steps `sigmtl train` takes — the same
// seeded shuffle (mulberry32, src/util/random.ts), batches, losses (from the loss table),
// weighting, optimizer update (src/cpu/optimizer.ts), schedule (src/train/schedule.ts),
// validation and early stopping (src/train/trainer.ts) — with each global batch split across
// the ranks and every task's mean taken over the global batch's labels (one all-reduce of the
// per-task loss sums and label counts per step).
import { resolveLoss, type LossSpec } from '../core/losses.js';
import { OPTIMIZER_KINDS, OPTIMIZERS } from '../core/optimizers.js';
import { WEIGHTINGS, type WeightingKind } from '../core/weighting.js';
import type { ModelShape } from '../core/shape.js';
import { PY_READ_SAFETENSORS } from './torch.js';

export const DDP_JOB_FORMAT = 'sigmtl-ddp-job';

export interface DdpJobFile {
  /** Relative to the job's directory, '/'-separated. */
  path: string;
  bytes: Uint8Array;
  /** A script to mark executable. */
  executable?: boolean;
}

export interface DdpJob {
  files: DdpJobFile[];
  shape: ModelShape;
  losses: LossSpec[];
  trainingRows: number;
  validationRows: number;
  /** The global batch (split across the ranks) and the steps of one epoch. */
  batch: number;
  stepsPerEpoch: number;
}

const py = (value: unknown) => JSON.stringify(value); // JSON lists and strings are Python literals here

/** Lines of Python as a function's body. */
const body = (lines: readonly string[]) => lines.map((line) => `    ${line}`).join('\n');

/** train_ddp.py for a job whose tasks use these losses, under this weighting (one with `torch` in its table entry). */
export function ddpScript(losses: readonly LossSpec[], weighting: WeightingKind, version: string): string {
  const specs = [...new Set(losses)];
  const { torch, ddpRefusal } = WEIGHTINGS[weighting];
  if (!torch) throw new RangeError(`weighting '${weighting}' is not available in a DDP job: ${ddpRefusal}`);
  return `#!/usr/bin/env python3
# sigmtl's model y = A·σ(W·x + b) + c trained data-parallel with PyTorch DDP (written by sigmtl ${version}).
#
#   torchrun --nproc_per_node=2 train_ddp.py          (one machine; see README.md for several)
#   sh launch.sh 2                                    (the same without torchrun)
#   python3 train_ddp.py                              (one rank)
#
# It reads job.json (the settings sigmtl resolved), init.safetensors (the initial model and the
# standardisation sigmtl fitted) and data/*.npy (standardised rows), takes the steps that
# \`sigmtl train\` takes from the same start — each global batch split across the ranks, every
# task's mean loss over the global batch's labels — and rank 0 writes model.safetensors in
# sigmtl's model format. Needs PyTorch only.
import argparse
import ast
import json
import math
import os
import struct
import sys
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

HERE = os.path.dirname(os.path.abspath(__file__))

# Each loss's elementwise ℓ(o, target) on raw outputs (standardised targets), from sigmtl's loss table.
LOSS_TERMS = {
${specs.map((spec) => `    ${py(spec)}: lambda o, target: ${resolveLoss(spec).entry.torch(resolveLoss(spec).param)},`).join('\n')}
}
# c_t of uncertainty weighting for each loss (½ for a Gaussian likelihood, 1 for Bernoulli or Laplace).
UNCERTAINTY_SCALE = {
${specs.map((spec) => `    ${py(spec)}: ${resolveLoss(spec).entry.uncertaintyScale},`).join('\n')}
}


def fail(message):
    print(f"train_ddp.py: {message}", file=sys.stderr)
    sys.exit(1)


def read_npy(path):
    """A float32 array from a .npy file (format 1.0 to 3.0, little-endian, C order)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\\x93NUMPY":
        fail(f"{path} is not a .npy file")
    if data[6] == 1:
        (length,) = struct.unpack("<H", data[8:10])
        start = 10
    else:
        (length,) = struct.unpack("<I", data[8:12])
        start = 12
    header = ast.literal_eval(data[start : start + length].decode("latin1"))
    if header["descr"] != "<f4" or header["fortran_order"]:
        fail(f"{path}: expected little-endian float32 in C order, got {header}")
    shape = tuple(header["shape"])
    count = math.prod(shape)
    offset = start + length
    if len(data) < offset + 4 * count:
        fail(f"{path}: shape {shape} needs {4 * count} bytes of data, the file has {len(data) - offset}")
    return torch.frombuffer(bytearray(data[offset : offset + 4 * count]), dtype=torch.float32).reshape(shape)


${PY_READ_SAFETENSORS}

def write_safetensors(path, tensors, metadata):
    """F32 tensors and string metadata as safetensors, written to a temporary file and renamed over a regular file only."""
    if os.path.lexists(path) and (os.path.islink(path) or not os.path.isfile(path)):
        fail(f"{path} exists and is not a regular file; refusing to replace it")
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, tensor in tensors.items():
        values = tensor.detach().to("cpu", torch.float64).reshape(-1).tolist()
        if not all(math.isfinite(v) for v in values):
            fail(f"refusing to save a model whose {name} holds a non-finite value")
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-aligned
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(temporary, path)


class Mulberry32:
    """sigmtl's seeded generator (src/util/random.ts): the same shuffles as sigmtl train."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next(self):
        self.state = (self.state + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = math.floor(self.next() * (i + 1))
            items[i], items[j] = items[j], items[i]
        return items


def learning_rate_at(base, schedule, step, total_steps):
    """sigmtl's schedules (src/train/schedule.ts) at the 0-based step."""
    warmup = schedule["warmupSteps"]
    warm = (step + 1) / warmup if warmup > 0 and step < warmup else 1
    if schedule["kind"] == "step":
        return base * warm * schedule["gamma"] ** (step // max(1, schedule["stepEvery"]))
    if schedule["kind"] == "cosine":
        span = max(1, total_steps - warmup - 1)
        progress = min(1, max(0, step - warmup) / span)
        low = schedule["minFactor"]
        return base * warm * (low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress)))
    return base * warm


# The weighting, ${py(weighting)}, from sigmtl's weighting table (its \`torch\` entry).
WEIGHTING = ${py(weighting)}
LEARNS_LOG_VARIANCES = ${WEIGHTINGS[weighting].learnsLogVariances ? 'True' : 'False'}


def weighted_loss(share, per_task, w, c, s, world):
    """This rank's loss: share = its part of each L_t, per_task = the global batch's L_t (no
    gradient), w = the task weights now, c = uncertainty's c_t, s = the log-variances (or None)."""
${body(torch.loss)}


def epoch_weights(last, before_last, temperature):
    """New λ_t between epochs from the mean task losses of the last two, or None."""
${body(torch.epochWeights ?? ['return None'])}


class SigmtlLoss(nn.Module):
    """The model and the run's weighted loss on this rank's rows of a global batch.

    forward returns (this rank's share of the loss × ranks, so that DDP's mean of the gradients is
    the gradient of the global batch's loss; each task's L_t over the global batch)."""

    def __init__(self, init, job, dtype, world):
        super().__init__()
        self.W = nn.Parameter(init["W"].to(dtype).clone())
        self.b = nn.Parameter(init["b"].to(dtype).clone())
        self.A = nn.Parameter(init["A"].to(dtype).clone(), requires_grad=not job["coupling"]["freeze"])
        self.c = nn.Parameter(init["c"].to(dtype).clone())
        tasks = len(job["losses"])
        self.s = nn.Parameter(torch.zeros(tasks, dtype=dtype)) if LEARNS_LOG_VARIANCES else None  # log-variances, learned
        self.losses = job["losses"]
        self.fixed = torch.tensor(job["taskWeights"], dtype=dtype)
        self.weights = self.fixed.clone()  # the task weights now (dynamic weight average changes them)
        self.scales = torch.tensor([UNCERTAINTY_SCALE[l] for l in self.losses], dtype=dtype)
        self.world = world

    def outputs(self, x):
        return torch.sigmoid(x @ self.W.T + self.b) @ self.A.T + self.c

    def task_sums(self, x, y, mask):
        """Each task's masked loss sum and label count over these rows."""
        o = self.outputs(x)
        terms = torch.stack([LOSS_TERMS[kind](o[:, t], y[:, t]) for t, kind in enumerate(self.losses)], dim=1)
        return (terms * mask).sum(0), mask.sum(0)

    def forward(self, x, y, mask):
        sums, counts = self.task_sums(x, y, mask)
        tasks = len(self.losses)
        totals = torch.cat([sums.detach(), counts])
        if self.world > 1:
            dist.all_reduce(totals)  # the global batch's loss sums and label counts
        global_counts = totals[tasks:].clamp(min=1)
        per_task = totals[:tasks] / global_counts
        share = sums / global_counts  # this rank's part of L_t
        local = weighted_loss(share, per_task, self.weights.to(share.device), self.scales.to(share.device), self.s, self.world)
        return local * self.world, per_task

    @torch.no_grad()
    def total_loss(self, x, y, mask):
        """Σ_t w_t·L_t with the fixed task weights over whole rows: the validation loss sigmtl reports."""
        sums, counts = self.task_sums(x, y, mask)
        per_task = torch.where(counts > 0, sums / counts.clamp(min=1), torch.zeros_like(sums))
        return float((self.fixed.to(per_task.device) * per_task).sum())


${OPTIMIZER_KINDS.map((kind) => `def update_${kind}(p, g, first, second, lr, config, c1, c2):\n    """${OPTIMIZERS[kind].summary}"""\n${body(OPTIMIZERS[kind].torch)}\n\n\n`).join('')}# The optimizers from sigmtl's optimizer table (their \`torch\` entries): each updates p, and its
# state tensors first and second, in place.
OPTIMIZER_UPDATES = {
${OPTIMIZER_KINDS.map((kind) => `    ${py(kind)}: update_${kind},`).join('\n')}
}


class Update:
    """sigmtl's optimizer step (src/cpu/optimizer.ts): the coupling regulariser on A's gradient,
    decoupled weight decay on W and A, then the job's optimizer; a frozen A is left alone."""

    def __init__(self, model, job):
        self.config = job["optimizer"]
        self.coupling = job["coupling"]
        self.named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self.first = {name: torch.zeros_like(p) for name, p in self.named}
        self.second = {name: torch.zeros_like(p) for name, p in self.named}
        self.identity = torch.eye(*model.A.shape, dtype=model.A.dtype, device=model.A.device)
        self.step_count = 0

    @torch.no_grad()
    def step(self, lr):
        config = self.config
        self.step_count += 1
        c1 = 1 / (1 - config["beta1"] ** self.step_count)
        c2 = 1 / (1 - config["beta2"] ** self.step_count)
        for name, p in self.named:
            g = p.grad
            if name == "A":
                g = g + self.coupling["l1"] * torch.sign(p) + self.coupling["towardIdentity"] * (p - self.identity)
            if name in ("W", "A") and config["weightDecay"] > 0:
                p.sub_(lr * config["weightDecay"] * p)
            OPTIMIZER_UPDATES[config["kind"]](p, g, self.first[name], self.second[name], lr, config, c1, c2)


def load_split(name, dtype, device):
    paths = [os.path.join(HERE, "data", f"{name}_{part}.npy") for part in ("x", "y", "mask")]
    if not os.path.exists(paths[0]):
        return None
    return [read_npy(p).to(dtype).to(device) for p in paths]


def main():
    parser = argparse.ArgumentParser(description="Train sigmtl's model with PyTorch DDP (launch with torchrun, launch.sh, or RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT).")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="arithmetic of the training (the model file is float32)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="cuda with NCCL where CUDA is present (auto), else the CPU with gloo")
    parser.add_argument("--threads", type=int, default=0, help="PyTorch threads per rank (default: this machine's cores / its ranks)")
    parser.add_argument("--out", default=os.path.join(HERE, "model.safetensors"), help="the model file rank 0 writes")
    args = parser.parse_args()

    with open(os.path.join(HERE, "job.json")) as f:
        job = json.load(f)
    if job.get("format") != "sigmtl-ddp-job":
        fail("job.json is not a sigmtl DDP job")
    if job["weighting"]["kind"] != WEIGHTING:
        fail(f"job.json asks for the weighting {job['weighting']['kind']!r}, but this script was written for {WEIGHTING!r}: write the job again with sigmtl ddp")
    if job["optimizer"]["kind"] not in OPTIMIZER_UPDATES:
        fail(f"job.json asks for the optimizer {job['optimizer']['kind']!r}, which this script does not have (it has {', '.join(OPTIMIZER_UPDATES)}): write the job again with sigmtl ddp")
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // local_world))
    if world > 1:
        if "MASTER_ADDR" not in os.environ or "MASTER_PORT" not in os.environ:
            fail(f"WORLD_SIZE is {world}: set MASTER_ADDR and MASTER_PORT too (or launch with torchrun or launch.sh)")
        dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32

    metadata, init = read_safetensors(os.path.join(HERE, "init.safetensors"))
    train = load_split("train", dtype, device)
    validation = load_split("validation", dtype, device)
    x, y, mask = train
    rows = x.shape[0]
    model = SigmtlLoss(init, job, dtype, world).to(device)
    ddp = DistributedDataParallel(model, device_ids=[local_rank] if cuda else None, broadcast_buffers=False) if world > 1 else model
    update = Update(model, job)
    batch = job["batch"]
    epochs = job["epochs"]
    steps_per_epoch = math.ceil(rows / batch)
    total_steps = steps_per_epoch * epochs
    random = Mulberry32(job["seed"])
    tasks = len(job["losses"])
    step = 0
    best = None  # (epoch, validation loss, parameters)
    epoch_losses = []
    started = time.perf_counter()
    say = print if rank == 0 else (lambda *a, **k: None)
    say(f"sigmtl DDP: {rows} training rows on {world} rank(s) ({device.type}, {args.dtype}), global batch {batch}, {steps_per_epoch} steps per epoch")

    for epoch in range(epochs):
        order = list(range(rows))
        if job["shuffle"]:
            random.shuffle(order)
        order = torch.tensor(order, device=device)
        epoch_sum = torch.zeros(tasks, dtype=torch.float64)
        for start in range(0, rows, batch):
            n = min(batch, rows - start)
            mine = order[start + n * rank // world : start + n * (rank + 1) // world]  # this rank's part of the global batch
            loss, per_task = ddp(x[mine], y[mine], mask[mine])
            for p in model.parameters():
                p.grad = None
            loss.backward()
            update.step(learning_rate_at(job["optimizer"]["learningRate"], job["schedule"], step, total_steps))
            step += 1
            epoch_sum += per_task.detach().to("cpu", torch.float64)
        means = (epoch_sum / steps_per_epoch).tolist()
        train_loss = sum(w * l for w, l in zip(job["taskWeights"], means))
        if not math.isfinite(train_loss):
            fail(f"training diverged: the loss became {train_loss} in epoch {epoch + 1}. Try a lower learning rate.")
        line = f"epoch {epoch + 1}/{epochs}: training loss {train_loss:.6g}"
        validation_loss = None
        if validation is not None:
            validation_loss = model.total_loss(*validation)
            line += f", validation loss {validation_loss:.6g}"
        say(line)
        epoch_losses = (epoch_losses + [means])[-2:]
        lam = epoch_weights(epoch_losses[1], epoch_losses[0], job["weighting"]["dwaTemperature"]) if len(epoch_losses) == 2 else None
        if lam is not None:
            model.weights = model.fixed * torch.tensor(lam, dtype=dtype)
        if validation_loss is not None:
            if best is None or validation_loss < best[1]:
                best = (epoch, validation_loss, [p.detach().clone() for p in (model.W, model.b, model.A, model.c)])
            elif job["patience"] > 0 and epoch - best[0] >= job["patience"]:
                say(f"early stop: no better validation loss for {job['patience']} epochs")
                break

    seconds = time.perf_counter() - started
    if best is not None:
        with torch.no_grad():
            for p, saved in zip((model.W, model.b, model.A, model.c), best[2]):
                p.copy_(saved)
    if rank == 0:
        hyper = json.loads(metadata.get("hyper", "{}"))
        hyper.update({"trainer": "pytorch-ddp", "ranks": world, "dtype": args.dtype})
        write_safetensors(
            args.out,
            {
                "W": model.W, "b": model.b, "A": model.A, "c": model.c,
                "x_mean": init["x_mean"], "x_std": init["x_std"], "y_mean": init["y_mean"], "y_std": init["y_std"],
            },
            {**metadata, "hyper": json.dumps(hyper)},
        )
        summary = f"trained {step} steps in {seconds:.2f} s, {step / max(seconds, 1e-9):.1f} steps/s on {world} rank(s)"
        if best is not None:
            summary += f"; best validation loss {best[1]:.6g} at epoch {best[0] + 1}"
        say(summary)
        say(f"model written to {args.out}")
    if world > 1:
        dist.barrier()
        # Leave without tearing DDP down: PyTorch 1.13 can deadlock at exit, its gloo worker
        # waiting for the GIL while the main thread, holding it, joins that worker in the reducer's
        # destructor. Every rank has finished here and rank 0 has closed the model file.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
`;
}

/** launch.sh: N ranks on this machine without torchrun (Debian's torchrun fails on Python 3.11). */
export const LAUNCH_SCRIPT = `#!/bin/sh
# Starts N ranks of train_ddp.py on this machine with RANK, WORLD_SIZE, LOCAL_RANK and
# MASTER_ADDR/MASTER_PORT set, as torchrun would:  sh launch.sh N [train_ddp.py options]
# PYTHON picks the interpreter (default python3), MASTER_PORT the port (default 29500).
set -u
N=\${1:-1}
[ "$#" -gt 0 ] && shift
HERE=$(dirname "$0")
pids=""
rank=0
while [ "$rank" -lt "$N" ]; do
  RANK=$rank LOCAL_RANK=$rank WORLD_SIZE=$N LOCAL_WORLD_SIZE=$N MASTER_ADDR=127.0.0.1 MASTER_PORT=\${MASTER_PORT:-29500} \\
    "\${PYTHON:-python3}" "$HERE/train_ddp.py" "$@" &
  pids="$pids $!"
  rank=$((rank + 1))
done
status=0
for pid in $pids; do
  wait "$pid" || status=1
done
exit $status
`;
