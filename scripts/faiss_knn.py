#!/usr/bin/env python3
"""faiss IndexFlatL2 on the bench's data (bench/knn.ts): exact k-NN, squared L2.

    python3 scripts/faiss_knn.py --base B.f32 --queries Q.f32 --d 1024 --k 1
        --threads 2 --runs 3 --out OUT_PREFIX

Reads raw little-endian float32 matrices, adds the base to an IndexFlatL2, searches all
queries as one batch `runs` times (after one warm-up search), writes the last result to
OUT_PREFIX.dist.f32 / OUT_PREFIX.idx.i64 and prints one JSON line: the median seconds per
batch, every run's time, faiss's version and thread count. Threads: faiss's OpenMP pool
and OpenBLAS (set OPENBLAS_NUM_THREADS in the environment before Python starts).
"""
import argparse
import json
import time

import faiss
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--d", type=int, required=True)
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    faiss.omp_set_num_threads(a.threads)
    base = np.fromfile(a.base, dtype="<f4").reshape(-1, a.d)
    queries = np.fromfile(a.queries, dtype="<f4").reshape(-1, a.d)
    index = faiss.IndexFlatL2(a.d)
    t0 = time.perf_counter()
    index.add(base)
    add_s = time.perf_counter() - t0
    index.search(queries, a.k)  # warm-up
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        dist, idx = index.search(queries, a.k)
        times.append(time.perf_counter() - t0)
    dist.astype("<f4").tofile(a.out + ".dist.f32")
    idx.astype("<i8").tofile(a.out + ".idx.i64")
    print(json.dumps({
        "seconds": sorted(times)[len(times) // 2],
        "runs": times,
        "add_seconds": add_s,
        "faiss": faiss.__version__,
        "threads": faiss.omp_get_max_threads(),
        "nq": int(queries.shape[0]),
        "nb": int(base.shape[0]),
    }))


if __name__ == "__main__":
    main()
