# PyTorch on the CPU as one contestant of the training comparison (bench/compare.ts starts it in
# its own process): the same model (y = A·σ(W·x + b) + c), MSE summed over tasks, Adam, float32,
# full-batch steps on synthetic data. Prints one JSON line: steps/s of each timed run, the thread
# count, the versions and the BLAS library the process actually loaded (Debian's python3-torch
# calls whatever libblas.so.3 points to: the reference BLAS or OpenBLAS, 5–10× apart), and the
# kernels OpenBLAS picked for this CPU.
# Usage: python3 torch_peer.py d T N steps threads runs [cpu|cuda]
# With cuda (a GPU machine), the data and parameters live on the GPU and each timed run ends with
# torch.cuda.synchronize(), so the figure is the GPU's, not the launch queue's.
import json
import os
import sys
import time

d, T, N, steps, threads, runs = (int(v) for v in sys.argv[1:7])
device = sys.argv[7] if len(sys.argv) > 7 else "cpu"

import torch  # noqa: E402  (after the thread variables are read)

torch.set_num_threads(threads)
torch.manual_seed(5)
X = torch.randn(N, d).to(device)
Y = torch.randn(N, T).to(device)
W = torch.nn.Parameter((torch.randn(T, d) * 0.1).to(device))
b = torch.nn.Parameter(torch.zeros(T, device=device))
A = torch.nn.Parameter(torch.eye(T, device=device))
c = torch.nn.Parameter(torch.zeros(T, device=device))
opt = torch.optim.Adam([W, b, A, c], lr=0.01)


def run(n):
    for _ in range(n):
        opt.zero_grad(set_to_none=True)
        S = torch.sigmoid(X @ W.T + b)
        loss = ((S @ A.T + c - Y) ** 2).sum() / N
        loss.backward()
        opt.step()
    float(loss)  # reads the loss back: on cuda, waits for the GPU
    if device == "cuda":
        torch.cuda.synchronize()


run(max(2, steps // 4))  # warm-up
rates = []
for _ in range(runs):
    started = time.perf_counter()
    run(steps)
    rates.append(steps / (time.perf_counter() - started))


def blas_library():
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    return sorted(paths)


def openblas_core():
    """The kernels OpenBLAS chose (openblas_get_corename): an old build may not know a new CPU and
    fall back to old ones (0.3.21 runs Prescott's SSE3 kernels on a 2023 Xeon)."""
    import ctypes

    for path in blas_library():
        if "openblas" not in path:
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            pass
    return None


print(json.dumps({
    "torch": torch.__version__,
    "threads": torch.get_num_threads(),
    "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
    "blas": blas_library(),
    "openblasCore": openblas_core(),
    "env": {k: os.environ[k] for k in ("OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ},
    "stepsPerSecond": rates,
}))
