#!/usr/bin/env bash
# Reproduces issue 6's end-to-end table in one command: how close `hotpix find`
# comes to decoding alone (its ceiling, benches/decode_only.rs), how it scales
# from 1 to 2 workers, how it compares with the NumPy + Pillow code a user would
# otherwise write (benches/numpy_ref.py), and what memory each needs.
#
#   bash benches/e2e.sh
#
# Configurations run interleaved, round by round and in a rotating order, so a
# slow spell on the machine (another build, say) lands on all of them instead
# of one; each figure is the median over its rounds. Wall time is taken around
# the whole process, so it includes start-up, header probing, merging, ranking
# and writing the report: what a user waits for.
#
# Environment (all optional):
#   HOTPIX_BENCH_DIR           frames (default bench-data/full100, generated once if missing)
#   HOTPIX_BENCH_RUNS          rounds for the Rust configurations (default 5)
#   HOTPIX_BENCH_NUMPY_RUNS    rounds that include NumPy with 2 processes (default 3)
#   HOTPIX_BENCH_NUMPY_J1_RUNS rounds that include NumPy with 1 process (default 1)
#   HOTPIX_BENCH_NUMPY_FRAMES  frames NumPy is given, the first K (default 40; "all")
#   HOTPIX_BENCH_QUIET_WAIT    seconds to wait before each run for the machine to go
#                              quiet (default 120; 0 never waits)
# Writes the table to bench-data/e2e-results.md as well as stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
# EPOCHREALTIME and printf must use a decimal point whatever the user's locale.
export LC_ALL=C

data=${HOTPIX_BENCH_DIR:-bench-data/full100}
runs=${HOTPIX_BENCH_RUNS:-5}
numpy_runs=${HOTPIX_BENCH_NUMPY_RUNS:-3}
numpy_j1_runs=${HOTPIX_BENCH_NUMPY_J1_RUNS:-1}
numpy_frames=${HOTPIX_BENCH_NUMPY_FRAMES:-40}
quiet_wait=${HOTPIX_BENCH_QUIET_WAIT:-120}
results=bench-data/e2e-results.md
script_started=$EPOCHREALTIME

say() { printf '== %s\n' "$*" >&2; }

# Peak RSS comes from GNU time's -v (the shell keyword `time` has no memory).
if [[ ! -x /usr/bin/time ]]; then
  say "installing GNU time for peak memory"
  apt-get install -y -q time >/dev/null || {
    echo "e2e.sh: /usr/bin/time is missing; install the 'time' package" >&2
    exit 1
  }
fi
if ! python3 -c 'import numpy, PIL' 2>/dev/null; then
  say "installing numpy and pillow for the reference"
  python3 -m pip install --quiet numpy pillow
fi

say "building release binaries and the decode_only bench"
cargo build --release --locked --bins
decode_only=$(
  cargo bench --locked --no-run --bench decode_only --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "decode_only" and msg.get("executable"):
        print(msg["executable"])'
)
[[ -x $decode_only ]] || { echo "e2e.sh: cannot find the decode_only bench executable" >&2; exit 1; }
hotpix=target/release/hotpix

if [[ ! -d $data ]]; then
  say "generating 100 full-size frames in $data (once; about a minute)"
  target/release/hotpix-synth series --out "$data" --width 3872 --height 2592 \
    --frames 100 --seed 6 --singles stuck_high=3,dead=2,hot=5,warm=5 \
    --pairs none --clusters none --edge none
fi
frames=$(find -L "$data" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) | wc -l)
(( frames >= 2 )) || { echo "e2e.sh: fewer than 2 frames in $data" >&2; exit 1; }
if [[ $numpy_frames == all ]] || (( numpy_frames > frames )); then
  numpy_frames=$frames
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "warming the page cache with $frames frames, checking hotpix uses them all"
find -L "$data" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -exec cat {} + >/dev/null
# Also the untimed first run of the binaries. Its report must use every frame,
# or the table would compare different amounts of work.
"$hotpix" find -j 2 -q --format json "$data" >"$work/check.json"
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
used, skipped = s["frames_used"], s["frames_skipped"]
if used != int(sys.argv[2]) or skipped:
    sys.exit(f"e2e.sh: hotpix used {used} frames and skipped {skipped}")
' "$work/check.json" "$frames"
"$decode_only" -j 2 "$data" >/dev/null

configs=(decode-j1 decode-j2 find-j1 find-j2 numpy-j1 numpy-j2)
declare -A rounds=(
  [decode-j1]=$runs [decode-j2]=$runs [find-j1]=$runs [find-j2]=$runs
  [numpy-j1]=$numpy_j1_runs [numpy-j2]=$numpy_runs
)

# Busy CPU time of the whole machine so far, in clock ticks. Compared with a
# run's own CPU time it shows how much else ran during it: this table is only
# as good as the machine was quiet.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# On a shared machine another job's burst would land in one run's wall time.
# Waits (up to $quiet_wait s) for a second in which others used under a tenth
# of the machine; the table's "others' CPU" column shows what happened anyway.
wait_for_quiet() {
  local waited=0 before limit
  limit=$(( $(nproc) * $(getconf CLK_TCK) / 10 ))
  while (( waited < quiet_wait )); do
    before=$(busy_ticks)
    sleep 1
    if (( $(busy_ticks) - before < limit )); then
      (( waited == 0 )) || echo "   (waited ${waited} s for the machine to go quiet)" >&2
      return 0
    fi
    waited=$(( waited + 1 ))
  done
  echo "   (machine still busy after ${quiet_wait} s; measuring anyway)" >&2
}

# Runs one configuration once; appends its wall seconds, GNU time's maximum
# resident set size (KiB), its own CPU seconds and the machine's busy ticks to
# per-configuration files.
measure() {
  local name=$1 round=$2 start end busy_before
  local cmd
  case $name in
    decode-j*) cmd=("$decode_only" -j "${name#decode-j}" "$data") ;;
    # Not `-o /dev/null`: -o writes a temporary file beside the target and
    # renames it over the target, which would replace the device node.
    find-j*) cmd=("$hotpix" find -j "${name#find-j}" -q --format json "$data") ;;
    numpy-j*) cmd=(python3 benches/numpy_ref.py -j "${name#numpy-j}" --limit "$numpy_frames" "$data") ;;
  esac
  wait_for_quiet
  busy_before=$(busy_ticks)
  start=$EPOCHREALTIME
  if ! /usr/bin/time -v -o "$work/$name.time" "${cmd[@]}" >"$work/$name.out" 2>"$work/$name.err"; then
    echo "e2e.sh: $name failed: ${cmd[*]}" >&2
    cat "$work/$name.err" >&2
    exit 1
  fi
  end=$EPOCHREALTIME
  echo $(( $(busy_ticks) - busy_before )) >>"$work/$name.busy"
  awk -F': ' '/User time|System time/ { cpu += $2 } END { print cpu }' "$work/$name.time" >>"$work/$name.cpu"
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f\n", e - s }' >>"$work/$name.wall"
  awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$name.time" >>"$work/$name.rss"
  if [[ $name == numpy-* ]]; then
    cat "$work/$name.out" >>"$work/$name.lines"
  fi
  printf '   round %d  %-9s %8.3f s\n' "$round" "$name" "$(tail -n1 "$work/$name.wall")" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "measuring: $runs rounds (NumPy: $numpy_runs with 2 processes, $numpy_j1_runs with 1, on $numpy_frames frames)"
max_rounds=$runs
for name in "${configs[@]}"; do
  if (( rounds[$name] > max_rounds )); then max_rounds=${rounds[$name]}; fi
done
for (( round = 1; round <= max_rounds; round++ )); do
  for (( k = 0; k < ${#configs[@]}; k++ )); do
    name=${configs[(k + round - 1) % ${#configs[@]}]}
    if (( round <= rounds[$name] )); then
      measure "$name" "$round"
    fi
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$(dirname "$results")"
# The report is written by Python (already needed for the reference); what it
# says about the machine is gathered here and handed over in the environment.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then commit+=" (with uncommitted changes)"; fi
E2E_MACHINE="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) logical CPUs ($(awk -F': ' '/^cpu cores/ { print $2; exit }' /proc/cpuinfo) cores a socket), $(awk '/^MemTotal/ { printf "%.0f", $2 / 1024 }' /proc/meminfo) MiB RAM, Linux $(uname -r)" \
E2E_TOOLS="$(rustc --version); $(python3 -c 'import platform, numpy, PIL; print(f"Python {platform.python_version()}, NumPy {numpy.__version__}, Pillow {PIL.__version__}")')" \
E2E_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') E2E_COMMIT=$commit E2E_DATA=$data \
E2E_NCPU=$(nproc) E2E_CLK_TCK=$(getconf CLK_TCK) E2E_LOAD_BEFORE=$load_before E2E_LOAD_AFTER=$load_after \
  python3 - "$work" "$frames" "$numpy_frames" >"$results" <<'EOF'
import json, os, statistics, sys

work, frames, numpy_frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def values(name, kind):
    path = os.path.join(work, f"{name}.{kind}")
    return [float(v) for v in open(path).read().split()] if os.path.exists(path) else []

def numpy_sum_peaks(name):
    # The reference's own line ends with "sum N": the sum of each process's peak.
    path = os.path.join(work, f"{name}.lines")
    if not os.path.exists(path):
        return None
    return max(float(line.rsplit("sum ", 1)[1]) for line in open(path) if "sum " in line)

rows = {}
for name, label, n in [
    ("decode-j1", "decode only, -j 1 (ceiling)", frames),
    ("decode-j2", "decode only, -j 2 (ceiling)", frames),
    ("find-j1", "hotpix find -j 1", frames),
    ("find-j2", "hotpix find -j 2", frames),
    ("numpy-j1", "NumPy + Pillow, 1 process", numpy_frames),
    ("numpy-j2", "NumPy + Pillow, 2 processes", numpy_frames),
]:
    walls = values(name, "wall")
    if not walls:
        continue
    wall = statistics.median(walls)
    own = values(name, "cpu")
    busy = [b / int(os.environ["E2E_CLK_TCK"]) for b in values(name, "busy")]
    capacity = [w * int(os.environ["E2E_NCPU"]) for w in walls]
    others = [max(0.0, b - o) / c for b, o, c in zip(busy, own, capacity)]
    rows[name] = dict(label=label, frames=n, runs=len(walls), walls=walls,
                      fps=n / wall, ms=1000 * wall / n,
                      cpu_ms=1000 * statistics.median(own) / n,
                      best_fps=n / min(walls), run_others=others,
                      others=100 * max(others),
                      rss=max(values(name, "rss")) / 1024, rss_sum=numpy_sum_peaks(name))

out = []
p = out.append
p("# hotpix end-to-end benchmark (issue 6)")
p("")
env = os.environ
p(f"- machine: {env['E2E_MACHINE']}")
p(f"- tools: {env['E2E_TOOLS']}")
p(f"- date: {env['E2E_DATE']}; hotpix commit {env['E2E_COMMIT']}")
p(f"- load average (1, 5, 15 min) before: {env['E2E_LOAD_BEFORE']}; after: {env['E2E_LOAD_AFTER']}")
p(f"- data: {frames} frames in `{env['E2E_DATA']}` (page cache warm); NumPy was given the first {numpy_frames}")
p("")
p("| configuration | frames | runs | frames/s (median) | ms/frame | vs decode only, same workers | frames/s (best run) | peak RSS (MiB) | CPU ms/frame | others' CPU |")
p("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|")
for name, r in rows.items():
    ceiling = rows.get("decode-" + name.split("-")[1])
    ratio = f"{r['fps'] / ceiling['fps']:.2f}" if ceiling else "-"
    rss = f"{r['rss']:.0f}"
    if r["rss_sum"] is not None:
        rss += f" largest process; {r['rss_sum']:.0f} summed over processes"
    p(f"| {r['label']} | {r['frames']} | {r['runs']} | {r['fps']:.2f} | {r['ms']:.0f} | {ratio} "
      f"| {r['best_fps']:.2f} | {rss} "
      f"| {r['cpu_ms']:.0f} | {r['others']:.0f}% |")
p("")

def ratio(a, b):
    return rows[a]["fps"] / rows[b]["fps"] if a in rows and b in rows else None

p("| derived | measured | target | |")
p("|---|---:|---:|---|")
for label, value, target, higher in [
    ("find -j2 / decode -j2", ratio("find-j2", "decode-j2"), 0.85, True),
    ("find -j2 / find -j1", ratio("find-j2", "find-j1"), 1.8, True),
    ("find -j2 / NumPy -j2", ratio("find-j2", "numpy-j2"), 20, True),
    ("find -j2 peak MiB per worker (peak / 2)",
     rows["find-j2"]["rss"] / 2 if "find-j2" in rows else None, 300, False),
]:
    if value is None:
        continue
    met = value >= target if higher else value <= target
    p(f"| {label} | {value:.2f} | {'>=' if higher else '<='} {target} | {'met' if met else 'NOT met'} |")
if "find-j1" in rows and "find-j2" in rows:
    p(f"| find: peak MiB added by the second worker (j2 - j1) | {rows['find-j2']['rss'] - rows['find-j1']['rss']:.0f} | | |")
p("")
p("How to read it:")
p("- frames/s = frames / median wall time of the whole process (start-up, header probe, decode,")
p("  statistics, merge, ranking, report); ms/frame is its inverse, so with 2 workers it is")
p("  throughput, not the latency of one frame.")
p("- frames/s (best run): from the shortest run; when others' CPU is high it is the better")
p("  estimate of a quiet machine, since other work only ever adds time.")
p("- CPU ms/frame: the process's own user + system time (median run) per frame, all threads.")
p("- others' CPU: the largest share, over the runs, of the machine's CPU capacity (wall x CPUs)")
p("  used by anything else while the configuration ran (/proc/stat busy time minus the")
p("  process's own). Above a few percent the wall times of that row are suspect.")
p("- peak RSS: GNU `time -v` \"Maximum resident set size\", the largest over the runs. For")
p("  the Rust binaries that is the one process with all its threads. For NumPy, `time -v`")
p("  on the parent reports the largest peak of any single process (Linux keeps the maximum,")
p("  not the sum, over waited-for children), so the table also gives the sum of every")
p("  process's own peak (getrusage in each worker and the parent): an upper bound on the")
p("  memory in use at once, counting pages shared after fork once per process.")
if rows.get("numpy-j2", {}).get("frames", frames) != frames:
    p(f"- NumPy ran on the first {numpy_frames} frames to keep the run short; its frames/s are")
    p("  that run's, so its fixed cost (start-up, merge, ranking; see its line below) is spread")
    p(f"  over {numpy_frames} frames instead of {frames}, which understates it slightly.")
p("")
p("Wall times of every run in seconds (others' share of the machine during it):")
p("")
for name, r in rows.items():
    p(f"- {name}: " + ", ".join(f"{w:.2f} ({100 * o:.0f}%)" for w, o in zip(r["walls"], r["run_others"])))
for name in ("numpy-j1", "numpy-j2"):
    path = os.path.join(work, f"{name}.lines")
    if os.path.exists(path):
        p(f"- {name}, last run's own line: `{open(path).read().strip().splitlines()[-1]}`")
print("\n".join(out))
EOF
cat "$results"
awk -v s="$script_started" -v e="$EPOCHREALTIME" -v f="$results" \
  'BEGIN { printf "== done in %.0f s; table written to %s\n", e - s, f }' >&2
