#!/usr/bin/env python3
"""Turns the runs benches/lib.sh's `measure` recorded into the tables of
benches/e2e.sh and benches/scaling.sh (medians of wall time, the largest
peak RSS), with the targets of issue 11 checked.

    python3 benches/tables.py e2e WORK CONFIG...
    python3 benches/tables.py scaling WORK CSV CONFIG...

A CONFIG is SET:PROGRAM-jN; WORK holds CONFIG.{wall,rss,cpu,busy} (and
CONFIG.out). The machine's description comes in E2E_* environment variables.
"""

import os
import statistics
import sys

FRAMES = {"d80x24": 24, "d80x100": 100, "numpy40": 40}
LABEL = {
    "d80x24": "24 D80 frames (3872x2592)",
    "d80x100": "100 D80 frames (3872x2592)",
    "mp45": "45 MP frames (8256x5504)",
    "numpy40": "first 40 of the 100 D80 frames",
}
# Issue 18 raised the caps for the frame counts: 700 MiB a D80 run, 3 GiB at 45 MP.
RSS_LIMIT_MIB = {"d80x24": 700, "d80x100": 700, "mp45": 3072}


def values(work, config, kind):
    path = os.path.join(work, f"{config}.{kind}")
    return [float(v) for v in open(path).read().split()] if os.path.exists(path) else []


def frames_in(config):
    # Sets of a size chosen at run time say it in E2E_FRAMES_<set>.
    set_name = config.split(":")[0]
    return FRAMES.get(set_name) or int(os.environ.get(f"E2E_FRAMES_{set_name}", "0")) or None


def row(work, config):
    walls = values(work, config, "wall")
    if not walls:
        return None
    ncpu, tick = int(os.environ["E2E_NCPU"]), int(os.environ["E2E_CLK_TCK"])
    own = values(work, config, "cpu")
    busy = [b / tick for b in values(work, config, "busy")]
    others = [max(0.0, b - o) / (w * ncpu) for b, o, w in zip(busy, own, walls)]
    n = frames_in(config)
    wall = statistics.median(walls)
    return dict(
        config=config,
        set=config.split(":")[0],
        program=config.split(":")[1].rsplit("-j", 1)[0],
        jobs=int(config.rsplit("-j", 1)[1]),
        frames=n,
        walls=walls,
        wall=wall,
        fps=n / wall if n else None,
        cpu_ms=1000 * statistics.median(own) / n if n else None,
        rss=max(values(work, config, "rss")) / 1024,
        others=100 * max(others),
        run_others=others,
    )


def header(p, title):
    env = os.environ
    p(f"# {title}")
    p("")
    p(f"- machine: {env['E2E_MACHINE']}")
    p(f"- date: {env['E2E_DATE']}; hotpix commit {env['E2E_COMMIT']}")
    p(f"- load average (1, 5, 15 min): {env['E2E_LOAD']}")
    p("")


def e2e(work, configs):
    rows = {c: r for c in configs if (r := row(work, c))}
    out = []
    p = out.append
    header(p, "hotpix end-to-end benchmark (issues 6 and 11)")

    def ceiling(r):
        # The decoder's pace with as many workers as the machine can run.
        cap = min(r["jobs"], int(os.environ["E2E_NCPU"]), 2)
        return rows.get(f"{r['set']}:decode-j{cap}")

    for set_name in dict.fromkeys(r["set"] for r in rows.values()):
        p(f"## {LABEL.get(set_name, set_name)}")
        p("")
        p("| configuration | runs | wall s (median) | frames/s | vs decode only | peak RSS MiB | CPU ms/frame | others' CPU |")
        p("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows.values():
            if r["set"] != set_name:
                continue
            c = ceiling(r)
            ratio = f"{r['fps'] / c['fps']:.2f} (of -j{c['jobs']})" if c and r["program"] != "decode" else "-"
            fps = f"{r['fps']:.2f}" if r["fps"] else "-"
            cpu = f"{r['cpu_ms']:.0f}" if r["cpu_ms"] else "-"
            p(f"| {r['program']} -j {r['jobs']} | {len(r['walls'])} | {r['wall']:.2f} | {fps} | {ratio} "
              f"| {r['rss']:.0f} | {cpu} | {r['others']:.0f}% |")
        p("")

    checks = []

    def fraction(set_name, j, target):
        f, d = rows.get(f"{set_name}:find-j{j}"), rows.get(f"{set_name}:decode-j{j}")
        if f and d:
            checks.append((f"{LABEL[set_name]}: find -j {j} / decode only -j {j}", f["fps"] / d["fps"], target, True))

    for set_name, target in (("d80x100", 0.80), ("d80x24", 0.75)):
        for j in (1, 2):
            fraction(set_name, j, target)
    a, b = rows.get("d80x24:find-j32"), rows.get("d80x24:find-j2")
    if a and b:
        checks.append(("24 D80 frames: wall -j 32 / wall -j 2", a["wall"] / b["wall"], 1.25, False))
    for set_name, limit in RSS_LIMIT_MIB.items():
        finds = [r for r in rows.values() if r["set"] == set_name and r["program"] == "find"]
        if finds:
            worst = max(finds, key=lambda r: r["rss"])
            checks.append((f"{LABEL[set_name]}: largest peak RSS of find, any -j (MiB; at -j {worst['jobs']})",
                           worst["rss"], limit, False))
    n, f = rows.get("numpy40:numpy-j2"), rows.get("d80x100:find-j2")
    if n and f:
        checks.append(("find -j 2 (100 frames) / NumPy -j 2 (40 frames), frames/s", f["fps"] / n["fps"], 20, True))

    p("## Targets")
    p("")
    p("| derived | measured | target | |")
    p("|---|---:|---:|---|")
    for label, value, target, higher in checks:
        met = value >= target if higher else value <= target
        p(f"| {label} | {value:.2f} | {'>=' if higher else '<='} {target} | {'met' if met else 'NOT met'} |")
    p("")
    p("How to read it:")
    p("- wall s: the whole process, start-up to report written; frames/s = frames / median wall.")
    p("- vs decode only: frames/s over those of benches/decode_only.rs (the same strict decoder,")
    p("  the same dynamic sharing, no statistics) with as many workers as the machine has cores,")
    p("  at most -j; fixed costs (start-up, detection, report) are included, so short series")
    p("  weigh them more.")
    p("- peak RSS: GNU `time -v` maximum resident set size, the largest over the runs.")
    p("- CPU ms/frame: the process's own user + system time per frame (median run), all threads.")
    p("- others' CPU: the largest share, over the runs, of the machine's capacity used by anything")
    p("  else meanwhile (/proc/stat busy time minus the process's own). Above a few percent that")
    p("  row's times are suspect.")
    p("")
    p("Wall times of every run in seconds (others' share of the machine during it):")
    p("")
    for r in rows.values():
        p(f"- {r['config']}: " + ", ".join(f"{w:.2f} ({100 * o:.0f}%)" for w, o in zip(r["walls"], r["run_others"])))
    n = os.path.join(work, "numpy40:numpy-j2.out")
    if os.path.exists(n) and open(n).read().strip():
        p(f"- NumPy's own line: `{open(n).read().strip().splitlines()[-1]}`")
    print("\n".join(out))


def scaling(work, csv_path, configs):
    rows = [r for c in configs if (r := row(work, c))]
    with open(csv_path, "w") as f:
        f.write("photos,program,jobs,seconds\n")
        for r in rows:
            program = "hotpix" if r["program"] == "find" else "decode-only"
            f.write(f"{r['frames']},{program},{r['jobs']},{r['wall']:.3f}\n")
    out = []
    p = out.append
    header(p, "hotpix scaling with -j (the seed article's figure)")
    p("| photos | program | -j | runs | wall s (median) | frames/s | peak RSS MiB | others' CPU |")
    p("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        p(f"| {r['frames']} | {r['program']} | {r['jobs']} | {len(r['walls'])} | {r['wall']:.2f} "
          f"| {r['fps']:.2f} | {r['rss']:.0f} | {r['others']:.0f}% |")
    print("\n".join(out))


def main():
    kind, work = sys.argv[1], sys.argv[2]
    if kind == "e2e":
        e2e(work, sys.argv[3:])
    elif kind == "scaling":
        scaling(work, sys.argv[3], sys.argv[4:])
    else:
        sys.exit(f"tables.py: unknown table {kind}")


if __name__ == "__main__":
    main()
