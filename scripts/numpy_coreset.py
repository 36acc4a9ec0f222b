#!/usr/bin/env python3
"""The straightforward greedy coreset loop in numpy, for bench/coreset.ts's baseline.

    python3 scripts/numpy_coreset.py --points P.f32 --d 128 --iterations 20

Per iteration, as the official ApproximateGreedyCoresetSampler does it (on the CPU):
distances of every point to the newest centre by the expansion ‖x‖² + ‖c‖² − 2x·c (clamp,
square root), running minimum, arg-max. Prints one JSON line with the median seconds per
iteration and the picks (to compare with the native selection's order where they agree).
"""
import argparse
import json
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", required=True)
    ap.add_argument("--d", type=int, required=True)
    ap.add_argument("--iterations", type=int, default=20)
    a = ap.parse_args()
    x = np.fromfile(a.points, dtype="<f4").reshape(-1, a.d)
    sq = np.einsum("ij,ij->i", x, x)
    mind = np.full(x.shape[0], np.inf, dtype=np.float32)
    newest = 0
    times, picks = [], []
    for _ in range(a.iterations):
        t0 = time.perf_counter()
        c = x[newest]
        dist = np.sqrt(np.clip(sq + sq[newest] - 2.0 * (x @ c), 0, None))
        np.minimum(mind, dist, out=mind)
        newest = int(np.argmax(mind))
        times.append(time.perf_counter() - t0)
        picks.append(newest)
    print(json.dumps({"seconds_per_iteration": sorted(times)[len(times) // 2], "picks": picks, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
