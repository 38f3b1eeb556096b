# Shared by benches/e2e.sh and benches/scaling.sh (sourced, not run): the
# tools they need, the binaries they measure, the generated series they run
# on, and one measured run of a command.
#
# A sourcing script sets `work` (a scratch directory) before calling measure.

# EPOCHREALTIME and printf must use a decimal point whatever the user's locale.
export LC_ALL=C

say() { printf '== %s\n' "$*" >&2; }

# Peak RSS comes from GNU time's -v (the shell keyword `time` has no memory).
need_gnu_time() {
  [[ -x /usr/bin/time ]] && return 0
  say "installing GNU time for peak memory"
  apt-get install -y -q time >/dev/null || {
    echo "$0: /usr/bin/time is missing; install the 'time' package" >&2
    exit 1
  }
}

# Sets `hotpix`, `synth` and `decode_only` to freshly built release binaries.
build_binaries() {
  say "building release binaries and the decode_only bench"
  cargo build --release --locked --bins --workspace
  decode_only=$(
    cargo bench --locked --no-run --bench decode_only --message-format=json 2>/dev/null |
      python3 -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "decode_only" and msg.get("executable"):
        print(msg["executable"])'
  )
  [[ -x $decode_only ]] || { echo "$0: cannot find the decode_only bench executable" >&2; exit 1; }
  hotpix=target/release/hotpix
  synth=target/release/hotpix-synth
}

# ensure_series DIR FRAMES WIDTH HEIGHT SEED: the camera-like varied series
# the numbers are quoted on, generated once (about 0.5 s a D80 frame).
ensure_series() {
  local dir=$1 frames=$2 width=$3 height=$4 seed=$5
  if [[ -f $dir/truth.json ]] && (( $(count_frames "$dir") == frames )); then
    return 0
  fi
  say "generating $frames frames of ${width}x${height} in $dir (once)"
  rm -rf "$dir"
  "$synth" series --out "$dir" --width "$width" --height "$height" --frames "$frames" --seed "$seed"
}

# first_frames SRC N DIR: DIR holds symbolic links to the first N frames of SRC.
first_frames() {
  local src=$1 n=$2 dir=$3
  rm -rf "$dir"
  mkdir -p "$dir"
  find "$src" -maxdepth 1 -type f -iname '*.jpg' | sort | head -n "$n" |
    while read -r f; do ln -s "$(realpath "$f")" "$dir/"; done
}

count_frames() {
  find -L "$1" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) | wc -l
}

warm_cache() {
  find -L "$1" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -exec cat {} + >/dev/null
}

# check_uses_all DIR: an untimed run whose report must use every frame, or a
# table would compare different amounts of work.
check_uses_all() {
  local dir=$1 frames
  frames=$(count_frames "$dir")
  "$hotpix" find -j 2 -q --format json "$dir" >"$work/check.json"
  python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
used, skipped = s["frames_used"], s["frames_skipped"]
if used != int(sys.argv[2]) or skipped:
    sys.exit(f"hotpix used {used} frames of {sys.argv[2]} and skipped {skipped} in {sys.argv[3]}")
' "$work/check.json" "$frames" "$dir"
}

# Busy CPU time of the whole machine so far, in clock ticks. Compared with a
# run's own CPU time it shows how much else ran during it: a table is only
# as good as the machine was quiet.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# On a shared machine another job's burst would land in one run's wall time.
# Waits (up to $quiet_wait s) for a second in which others used under a tenth
# of the machine; the tables' "others' CPU" column shows what happened anyway.
wait_for_quiet() {
  local waited=0 before limit
  limit=$(( $(nproc) * $(getconf CLK_TCK) / 10 ))
  while (( waited < ${quiet_wait:-120} )); do
    before=$(busy_ticks)
    sleep 1
    if (( $(busy_ticks) - before < limit )); then
      (( waited == 0 )) || echo "   (waited ${waited} s for the machine to go quiet)" >&2
      return 0
    fi
    waited=$(( waited + 1 ))
  done
  echo "   (machine still busy after ${quiet_wait:-120} s; measuring anyway)" >&2
}

# measure NAME CMD...: runs CMD once and appends its wall seconds, GNU time's
# maximum resident set size (KiB), its own CPU seconds and the machine's busy
# ticks to $work/NAME.{wall,rss,cpu,busy}; its stdout goes to $work/NAME.out.
# Wall time is taken around the whole process: start-up, listing, decoding,
# statistics, detection and the report, what a user waits for.
measure() {
  local name=$1 start end busy_before
  shift
  wait_for_quiet
  busy_before=$(busy_ticks)
  start=$EPOCHREALTIME
  if ! /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err"; then
    echo "$0: $name failed: $*" >&2
    cat "$work/$name.err" >&2
    exit 1
  fi
  end=$EPOCHREALTIME
  echo $(( $(busy_ticks) - busy_before )) >>"$work/$name.busy"
  awk -F': ' '/User time|System time/ { cpu += $2 } END { print cpu }' "$work/$name.time" >>"$work/$name.cpu"
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f\n", e - s }' >>"$work/$name.wall"
  awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/$name.time" >>"$work/$name.rss"
  printf '   %-22s %8.3f s %7.0f MiB\n' "$name" "$(tail -n1 "$work/$name.wall")" \
    "$(( $(tail -n1 "$work/$name.rss") / 1024 ))" >&2
}

# What the tables say about the machine and the code measured.
describe_machine() {
  echo "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) logical CPUs, $(awk '/^MemTotal/ { printf "%.0f", $2 / 1024 }' /proc/meminfo) MiB RAM, Linux $(uname -r); $(rustc --version)"
}
describe_commit() {
  local commit
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [[ -n $(git status --porcelain 2>/dev/null) ]]; then commit+=" (with uncommitted changes)"; fi
  echo "$commit"
}
