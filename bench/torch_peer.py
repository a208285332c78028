# PyTorch CPU as the bench's peer for a GPU-less user: the same model (y = A·σ(W·x + b) + c),
# MSE summed over tasks, Adam, float32, full-batch steps on synthetic data, timed over
# several runs; prints one JSON line per thread count. Usage: python3 torch_peer.py d T N steps
import json
import os
import sys
import time

threads_list = [1, 2]
d, T, N, steps = (int(v) for v in sys.argv[1:5])

import torch  # noqa: E402  (after the thread variables are read)

results = []
for threads in threads_list:
    torch.set_num_threads(threads)
    torch.manual_seed(5)
    X = torch.randn(N, d)
    Y = torch.randn(N, T)
    W = torch.nn.Parameter(torch.randn(T, d) * 0.1)
    b = torch.nn.Parameter(torch.zeros(T))
    A = torch.nn.Parameter(torch.eye(T))
    c = torch.nn.Parameter(torch.zeros(T))
    opt = torch.optim.Adam([W, b, A, c], lr=0.01)

    def run(n):
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            S = torch.sigmoid(X @ W.T + b)
            loss = ((S @ A.T + c - Y) ** 2).sum() / N
            loss.backward()
            opt.step()
        float(loss)

    run(2)  # warm-up
    times = []
    for _ in range(5):
        started = time.perf_counter()
        run(steps)
        times.append(time.perf_counter() - started)
    times.sort()
    results.append({"threads": threads, "stepsPerSecond": steps / times[len(times) // 2], "min": steps / times[-1], "max": steps / times[0]})
print(json.dumps({"torch": torch.__version__, "results": results}))
