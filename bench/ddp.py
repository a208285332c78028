#!/usr/bin/env python3
"""`npm run bench:ddp`: steps/s of a `sigmtl ddp` job on 1 and 2 gloo ranks on this machine.

Writes the job once (sigmtl ddp), then runs it in rounds, 1 rank and 2 ranks alternately, each
run in fresh processes (launch.sh) with --threads 1 per rank, nothing else of ours running; records
the load average before each run. Prints a markdown table: median steps/s with min–max, and the
2-rank speed-up per round.

  python3 bench/ddp.py [--data sarcos-arm] [--batch 1024] [--hidden 64] [--epochs 2] [--rounds 3] [-- sigmtl ddp options]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="sarcos-arm")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more options for sigmtl ddp (after --), e.g. --synthetic-features 256")
    args = parser.parse_args()
    job = tempfile.mkdtemp(prefix="sigmtl-ddp-bench-")
    written = subprocess.run(
        [
            "node", os.path.join(ROOT, "scripts", "run-cli.mjs"), "ddp", "--data", args.data, "--batch-size", str(args.batch),
            "--hidden", str(args.hidden), "--epochs", str(args.epochs), "--patience", "0", "--out", job, "--quiet", *args.extra,
        ],
        cwd=ROOT,
    )
    if written.returncode != 0:
        sys.exit("sigmtl ddp failed")
    rates = {1: [], 2: []}
    loads = []
    port = 29600
    for round_ in range(args.rounds):
        for ranks in (1, 2):
            loads.append(os.getloadavg()[0])
            port += 1
            env = {**os.environ, "PYTHON": sys.executable, "MASTER_PORT": str(port), "OMP_WAIT_POLICY": "PASSIVE"}
            run = subprocess.run(["sh", os.path.join(job, "launch.sh"), str(ranks), "--threads", "1", "--device", "cpu"], env=env, capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"{ranks} rank(s) failed:\n{run.stderr}")
            rate = float(re.search(r"([\d.]+) steps/s", run.stdout).group(1))
            rates[ranks].append(rate)
            print(f"round {round_ + 1}: {ranks} rank(s) {rate:.1f} steps/s (load {loads[-1]:.2f})", file=sys.stderr)
    import torch

    print(f"`sigmtl ddp --data {args.data} --batch-size {args.batch} --hidden {args.hidden} --epochs {args.epochs}{''.join(' ' + e for e in args.extra)}`, "
          f"PyTorch {torch.__version__}, gloo on the CPU, 1 thread per rank, {os.cpu_count()} cores, "
          f"load average before the runs {min(loads):.2f}–{max(loads):.2f}\n")
    print("| ranks | steps/s, median (min–max) | speed-up per round |")
    print("|---|---|---|")
    for ranks in (1, 2):
        r = rates[ranks]
        speedups = ", ".join(f"{b / a:.2f}×" for a, b in zip(rates[1], r))
        print(f"| {ranks} | {statistics.median(r):.1f} ({min(r):.1f}–{max(r):.1f}) | {speedups if ranks == 2 else '1'} |")


if __name__ == "__main__":
    main()
