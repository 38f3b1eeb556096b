#!/usr/bin/env python3
"""The reference `hotpix find` is measured against: what a user would write
without hotpix, NumPy + Pillow with one multiprocessing worker process per
core. Each process keeps float64 Welford arrays over its share of the frames,
the parent merges them with the Chan et al. formula and ranks the variances.
It is meant to be ordinary code, neither deliberately slow nor tuned.

    python3 benches/numpy_ref.py -j 2 [--limit K] [--json OUT] FILE|DIR...

The frame count is one scalar per process rather than an array, because every
frame covers every subpixel. Prints one `numpy_ref:` summary line with the
wall time (split into the workers' part and the merge and ranking after
them) and each process's peak RSS (getrusage, so a worker's peak is its
own and the parent's excludes its children).
"""

import argparse
import json
import os
import resource
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image

TOP = 10
CHANNELS = "RGB"


def list_frames(inputs):
    """Files as given, and the .jpg/.jpeg files of directories, sorted."""
    paths = []
    for item in inputs:
        if os.path.isdir(item):
            paths += [
                os.path.join(item, name)
                for name in os.listdir(item)
                if name.lower().endswith((".jpg", ".jpeg"))
            ]
        else:
            paths.append(item)
    return sorted(paths)


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def welford_share(paths):
    """Welford's running mean and M2 over one process's share of the frames."""
    n, mean, m2 = 0, None, None
    for path in paths:
        with Image.open(path) as img:
            # Stored orientation, as hotpix: EXIF rotation is not applied.
            x = np.asarray(img.convert("RGB"), dtype=np.float64)
        if mean is None:
            mean = np.zeros_like(x)
            m2 = np.zeros_like(x)
        n += 1
        delta = x - mean
        mean += delta / n
        m2 += delta * (x - mean)
    return n, mean, m2, peak_rss_mib()


def chan_merge(a, b):
    """Chan, Golub & LeVeque (1979) pairwise update of (n, mean, M2)."""
    na, mean_a, m2_a = a
    nb, mean_b, m2_b = b
    if na == 0:
        return b
    if nb == 0:
        return a
    n = na + nb
    delta = mean_b - mean_a
    mean = mean_a + delta * (nb / n)
    m2 = m2_a + m2_b + delta**2 * (na * nb / n)
    return n, mean, m2


def extreme(variance, mean, lowest):
    """The TOP lowest or highest variances, ties broken by (y, x, channel)
    (the flat index order of an (H, W, 3) array), as hotpix breaks them."""
    flat = variance.ravel()
    key = flat if lowest else -flat
    kth = np.partition(key, TOP - 1)[TOP - 1]
    candidates = np.flatnonzero(key <= kth)
    order = candidates[np.lexsort((candidates, key[candidates]))][:TOP]
    h, w, c = variance.shape
    return [
        {
            "x": int(i // c % w),
            "y": int(i // (c * w)),
            "channel": CHANNELS[i % c],
            "mean": float(mean.ravel()[i]),
            "variance": float(flat[i]),
        }
        for i in order
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--limit", type=int, help="use only the first K frames")
    parser.add_argument("--json", help="write the ranked lists to this file")
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args()

    started = time.perf_counter()
    paths = list_frames(args.inputs)[: args.limit]
    jobs = max(1, min(args.jobs, len(paths)))
    # Interleaved shares: equal-sized frames take equal time, so a static
    # split balances as well as a queue would.
    shares = [paths[i::jobs] for i in range(jobs)]
    with Pool(jobs) as pool:
        results = pool.map(welford_share, shares)
    pooled = time.perf_counter()

    total = (0, None, None)
    for n, mean, m2, _ in results:
        total = chan_merge(total, (n, mean, m2))
    n, mean, m2 = total
    variance = m2 / (n - 1)
    report = {
        "frames_used": n,
        "lowest_variance": extreme(variance, mean, lowest=True),
        "highest_variance": extreme(variance, mean, lowest=False),
    }
    done = time.perf_counter()
    elapsed = done - started

    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    worker_peaks = [r[3] for r in results]
    parent_peak = peak_rss_mib()
    print(
        f"numpy_ref: {n} frames, {jobs} processes, {elapsed:.3f} s, "
        f"{n / elapsed:.3f} frames/s ({pooled - started:.3f} s until the workers' arrays were back, "
        f"{done - pooled:.3f} s merging and ranking), "
        f"peak RSS MiB: parent {parent_peak:.0f}, "
        f"workers {' '.join(f'{p:.0f}' for p in worker_peaks)}, "
        f"sum {parent_peak + sum(worker_peaks):.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
