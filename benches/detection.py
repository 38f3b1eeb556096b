#!/usr/bin/env python3
"""Detection figures on the camera-like generator: generates 800x600 series
once (varied, five-burst, night-heavy, high-ISO, 4:2:0 q85, weak warm,
tripod, defect-free, and the night skies (tracked, dithered), the night collection, fine texture
and the older camera) into bench-data/detection/, runs `hotpix find` on each
and scores its JSON report against the generator's truth.json, independently
of hotpix's own code: a report counts when it lies within 2 px of one of a
detectable group's photosites; every other report is false. Blinking groups
(a kind hotpix does not report: from JPEGs it cannot be told from a scene
point) are not scored: they count neither as missed nor, when reported, as
false.

usage: python3 benches/detection.py [--seed-offset N] [--only NAME,...]
                                    [--detail] [--threshold T] [--bin DIR]

Prints one line a series (found by kind and shape, false reports, reports on
the exact photosite, kinds right, photosites listed), the astro series' hot
pixels found by their dark signal a frame (the detection limit), and the kind
confusion.
Kinds: on a series of one exposure x ISO (an astro series) a hot or stuck
group reported warm counts as right, as issue 18 asks (dark current, an
offset and a saturated or never-overtaken stuck photosite cannot be told
apart there); "strict" counts only the generator's own kind.
The closing notes of issue 10 quote seeds 0 and 100.
"""
import argparse, collections, json, os, subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "bench-data", "detection")

SERIES = [
    # name, preset, frames, width, height, seed
    ("varied60", "varied", 60, 800, 600, 11),
    ("varied30", "varied", 30, 800, 600, 12),
    ("varied12", "varied", 12, 800, 600, 13),
    ("five", "five-burst", 5, 800, 600, 14),
    ("night", "night-heavy", 30, 800, 600, 15),
    ("highiso", "high-iso", 30, 800, 600, 16),
    ("q85", "q85-420", 30, 800, 600, 17),
    ("weakwarm", "weak-warm", 30, 800, 600, 18),
    ("tripod", "tripod", 24, 800, 600, 19),
    ("clean", "clean", 30, 800, 600, 20),
    ("sky20", "night-sky", 20, 800, 600, 21),
    ("sky5", "night-sky", 5, 800, 600, 22, "--drift", "10-15", "--iso", "100-100"),
    ("skyclean", "night-sky", 20, 800, 600, 23, "--iso", "400-400", "--drift", "1-4",
     "--singles", "none", "--pairs", "none", "--clusters", "none", "--edge", "none"),
    ("tracked", "night-sky-tracked", 20, 800, 600, 24),
    ("dithered", "night-sky-tracked", 20, 800, 600, 24, "--dither", "6"),
    ("nightcoll", "night-collection", 24, 800, 600, 25),
    ("texture", "textured-warm", 30, 800, 600, 26),
    ("oldstyle", "old-style", 60, 800, 600, 27),
]

def gen(bindir, name, preset, frames, w, h, seed, *extra):
    out = os.path.join(DATA, name)
    if os.path.exists(os.path.join(out, "truth.json")):
        return out
    cmd = [os.path.join(bindir, "hotpix-synth"), "series", "--preset", preset, "--frames", str(frames),
           "--width", str(w), "--height", str(h), "--seed", str(seed), "--out", out, *extra]
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    return out

def score(truth, report, detail=False):
    # Blinking groups are not scored: reports on them are left out too.
    blinking = [g for g in truth["defects"] if g["kind"] == "blinking"]
    groups = [g for g in truth["defects"] if g["kind"] != "blinking"]
    near_blinking = lambda d: any(abs(d["x"] - p["x"]) <= 2 and abs(d["y"] - p["y"]) <= 2
                                  for g in blinking for p in g["photosites"])
    defects = [d for d in report["defects"] if not near_blinking(d)]
    def near(d, g, r=2):
        return any(abs(d["x"] - p["x"]) <= r and abs(d["y"] - p["y"]) <= r for p in g["photosites"])
    match = {}  # report index -> group id
    for i, d in enumerate(defects):
        best = None
        for g in groups:
            if near(d, g):
                dist = min(abs(d["x"] - p["x"]) + abs(d["y"] - p["y"]) for p in g["photosites"])
                if best is None or dist < best[0]:
                    best = (dist, g["id"])
        if best:
            match[i] = best[1]
    found = collections.defaultdict(list)
    for i, gid in match.items():
        found[gid].append(i)
    # On a series of one exposure × ISO (an astro series) dark current cannot be
    # told from an offset: a hot group reported warm has the right kind.
    dose = lambda s: s["exposure_seconds"] * s["iso"]
    one_exposure = all(abs(dose(a) - dose(b)) <= 1e-9 * dose(a) for a, b in zip(truth["shots"], truth["shots"][1:]))
    cats = collections.defaultdict(lambda: [0, 0])  # detectable, found
    conf = collections.Counter()
    strict = [0]
    exact = [0, 0]
    sites = [0, 0, 0, 0]  # groups found, photosites listed right, photosites in truth, listed
    longest = max(dose(s) for s in truth["shots"]) / 100
    for g in groups:
        cat_keys = [g["kind"], g["shape"]] + (["edge"] if g["edge"] else [])
        if g["kind"] == "hot" and one_exposure:
            cat_keys.append(signal_band(longest * max(p.get("rate", 0) for p in g["photosites"])))
        if not g["detectable"]:
            continue
        ok = g["id"] in found
        for k in cat_keys:
            cats[k][0] += 1
            cats[k][1] += ok
        cats["all"][0] += 1
        cats["all"][1] += ok
        if ok:
            d = defects[found[g["id"]][0]]
            # ... nor, on such a series, a stuck photosite from a saturated hot
            # one or (where the dark sky never moved around it) from an
            # offset: issue 18 asks never to call those stuck.
            unseparable = one_exposure and g["kind"] in ("hot", "stuck") and d["kind"] == "warm"
            reported = g["kind"] if unseparable else d["kind"]
            conf[(g["kind"], reported)] += 1
            strict[0] += d["kind"] == g["kind"]
            exact[1] += 1
            exact[0] += any(d["x"] == p["x"] and d["y"] == p["y"] for p in g["photosites"])
            sites[0] += 1
            listed = {(p["x"], p["y"]) for p in d.get("photosites", [])}
            truth_sites = {(p["x"], p["y"]) for p in g["photosites"]}
            sites[1] += len(listed & truth_sites)
            sites[2] += len(truth_sites)
            sites[3] += len(listed)
        elif detail:
            print("   missed", g["id"], g["kind"], g["shape"], "edge" if g["edge"] else "", [(p["x"], p["y"], p["channel"]) for p in g["photosites"]],
                  {k: g[k] for k in ("on_probability",) if k in g}, [p.get("rate", p.get("offset", p.get("level"))) for p in g["photosites"]], "vis", len(g["visible_frames"]))
    false = [d for i, d in enumerate(defects) if i not in match]
    true_reports = len(defects) - len(false)
    # How sure the frames made the weakest true report and the strongest false one.
    share = lambda d: d.get("seen", 0) / max(d.get("could_show", 0), 1)
    trues = [defects[i] for i in match]
    weakest = min(trues, key=lambda d: (share(d), d["score"]), default=None)
    strongest = max(false, key=lambda d: (share(d), d["score"]), default=None)
    seen_of = lambda d: f"{d['seen']}/{d['could_show']}" if d and 'seen' in d else "-"
    if detail:
        for d in false[:8]:
            print("   false", {k: d[k] for k in ("x", "y", "kind", "channel", "score", "mean", "reference", "offset", "dark_rate", "pixels")})
        for (tk, rk), n in sorted(conf.items()):
            if tk != rk:
                print("   kind", tk, "->", rk, n)
    return dict(cats=cats, false=len(false), reports=len(defects), true_reports=true_reports,
                exact=exact, conf=conf, strict=strict[0], sites=sites, threshold=report["summary"]["threshold"],
                weakest=seen_of(weakest), strongest=seen_of(strongest))

# On an astro series (one exposure × ISO), a hot pixel's dark signal in a
# frame (rate in full scale a second at ISO 100, times seconds × ISO / 100),
# in bands of full scale: what sets how far it can rise above a dark sky.
SIGNAL_BANDS = [(0.003, "<0.3%"), (0.01, "0.3-1%"), (0.03, "1-3%"), (float("inf"), ">=3%")]

def signal_band(signal):
    return "signal " + next(name for top, name in SIGNAL_BANDS if signal < top)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", help="folder with hotpix and hotpix-synth (default: build them)")
    ap.add_argument("--only", default="")
    ap.add_argument("--detail", action="store_true")
    ap.add_argument("--threshold")
    ap.add_argument("-j", default="2")
    ap.add_argument("--seed-offset", type=int, default=0)
    a = ap.parse_args()
    if not a.bin:
        subprocess.run(["cargo", "build", "--release", "--locked", "--bins", "--workspace"],
                       cwd=ROOT, check=True)
        a.bin = os.path.join(ROOT, "target", "release")
    only = set(filter(None, a.only.split(",")))
    os.makedirs(DATA, exist_ok=True)
    tot_conf = collections.Counter()
    tot_signal = collections.defaultdict(lambda: [0, 0])
    for name, preset, frames, w, h, seed, *extra in SERIES:
        if only and name not in only:
            continue
        if a.seed_offset:
            name, seed = f"{name}-s{a.seed_offset}", seed + a.seed_offset
        d = gen(a.bin, name, preset, frames, w, h, seed, *extra)
        truth = json.load(open(os.path.join(d, "truth.json")))
        cmd = [os.path.join(a.bin, "hotpix"), "find", "-q", "-j", a.j, "--format", "json", "--top", "0", d]
        if a.threshold:
            cmd += ["--threshold", a.threshold]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode not in (0, 1):
            print(name, "FAILED", r.stderr)
            continue
        rep = json.loads(r.stdout)
        s = score(truth, rep, a.detail)
        c = s["cats"]
        def pct(k):
            det, f = c.get(k, [0, 0])
            return f"{f}/{det}" if det else "-"
        real = s["true_reports"] / s["reports"] if s["reports"] else 1.0
        mp = truth["width"] * truth["height"] / 1e6
        kinds_right = sum(n for (t, r), n in s["conf"].items() if t == r)
        kinds_all = sum(s["conf"].values())
        tot_conf += s["conf"]
        for _, band in SIGNAL_BANDS:
            det, f = c.get("signal " + band, [0, 0])
            tot_signal[band][0] += det
            tot_signal[band][1] += f
        print(f"{name:9} found {pct('all'):7} | st {pct('stuck'):5} hot {pct('hot'):5} warm {pct('warm'):5} dead {pct('dead'):5} blink {pct('blinking'):5} | "
              f"single {pct('single'):6} pair {pct('pair'):5} clus {pct('cluster'):5} edge {pct('edge'):5} | false {s['false']:3} ({s['false']/mp:.1f}/MP) real {real:.2f} | "
              f"exact {s['exact'][0]}/{s['exact'][1]} kind {kinds_right}/{kinds_all} (strict {s['strict']}) sites {s['sites'][1]}/{s['sites'][2]} of {s['sites'][3]} | thr {s['threshold']:.1f} | seen: weakest true {s['weakest']}, strongest false {s['strongest']}")
    print("astro series, hot pixels found by their dark signal a frame (full scale): " +
          ", ".join(f"{band} {f}/{det}" for band, (det, f) in tot_signal.items() if det))
    print("confusion (truth -> reported):")
    kinds = ["stuck", "hot", "warm", "dead"]
    print("          " + " ".join(f"{k:>8}" for k in kinds))
    for t in kinds:
        print(f"{t:9} " + " ".join(f"{tot_conf[(t, r)]:8}" for r in kinds))

if __name__ == "__main__":
    main()
