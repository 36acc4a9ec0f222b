#!/usr/bin/python3
"""Times cv2.seamlessClone for bench/poisson.ts (Debian python3-opencv 4.6).

usage: opencv_seamless_bench.py DIR THREADS RUNS
DIR holds cases.json ([{name, src: [w, h], dst: [w, h], center: [x, y], mode}]) and per case
NAME.src / NAME.dst / NAME.mask (raw uint8, H x W x 3 and H x W). Prints JSON
{name: {"ms": median ms, "out": hex SHA-256 of the output}} on stdout.
"""
import hashlib
import json
import os
import sys
import time

import cv2
import numpy as np


def main():
    folder, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cv2.setNumThreads(threads)
    cases = json.load(open(os.path.join(folder, 'cases.json')))
    result = {}
    for c in cases:
        sw, sh = c['src']
        dw, dh = c['dst']
        src = np.fromfile(os.path.join(folder, c['name'] + '.src'), np.uint8).reshape(sh, sw, 3)
        dst = np.fromfile(os.path.join(folder, c['name'] + '.dst'), np.uint8).reshape(dh, dw, 3)
        mask = np.fromfile(os.path.join(folder, c['name'] + '.mask'), np.uint8).reshape(sh, sw)
        flag = cv2.MIXED_CLONE if c['mode'] == 'mixed' else cv2.NORMAL_CLONE
        out = cv2.seamlessClone(src, dst, mask, tuple(c['center']), flag)  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            out = cv2.seamlessClone(src, dst, mask, tuple(c['center']), flag)
            times.append((time.perf_counter() - t0) * 1000)
        out.tofile(os.path.join(folder, c['name'] + '.cv2'))
        result[c['name']] = {'ms': sorted(times)[len(times) // 2]}
    print(json.dumps(result))


if __name__ == '__main__':
    main()
