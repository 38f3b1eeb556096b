#!/usr/bin/env bash
# Reproduces issue 11's tables in one command: wall time and peak memory of
# `hotpix find` at -j 1, 2, 8, 32 and 64 on 24 and on 100 full-size D80 frames
# (3872x2592), side by side with decoding alone at -j 1 and 2 (its ceiling,
# benches/decode_only.rs); peak memory on 45-megapixel frames (8256x5504) at
# the same -j; and, from issue 6, the NumPy + Pillow code a user would
# otherwise write (benches/numpy_ref.py).
#
#   bash benches/e2e.sh
#
# Configurations run interleaved, round by round and in a rotating order, so a
# slow spell on the machine (another build, say) lands on all of them instead
# of one; each time is the median over its rounds, each memory the largest.
#
# Environment (all optional):
#   HOTPIX_BENCH_RUNS        rounds for the D80 configurations (default 5)
#   HOTPIX_BENCH_45MP_FRAMES 45 MP frames (default 6; 0 skips them)
#   HOTPIX_BENCH_NUMPY_RUNS  rounds of NumPy with 2 processes on the first 40 of
#                            the 100 frames (default 1; 0 skips it)
#   HOTPIX_BENCH_QUIET_WAIT  seconds to wait before each run for the machine to
#                            go quiet (default 120; 0 never waits)
# Frames are generated once into bench-data/ (about two minutes).
# Writes the tables to bench-data/e2e-results.md as well as stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

runs=${HOTPIX_BENCH_RUNS:-5}
mp45_frames=${HOTPIX_BENCH_45MP_FRAMES:-6}
numpy_runs=${HOTPIX_BENCH_NUMPY_RUNS:-1}
quiet_wait=${HOTPIX_BENCH_QUIET_WAIT:-120}
results=bench-data/e2e-results.md
jobs=(1 2 8 32 64)
script_started=$EPOCHREALTIME

need_gnu_time
if (( numpy_runs > 0 )) && ! python3 -c 'import numpy, PIL' 2>/dev/null; then
  say "installing numpy and pillow for the reference"
  python3 -m pip install --quiet numpy pillow
fi
build_binaries
ensure_series bench-data/full100 100 3872 2592 6
first_frames bench-data/full100 24 bench-data/full24
first_frames bench-data/full100 40 bench-data/full40
if (( mp45_frames > 0 )); then
  ensure_series bench-data/mp45 "$mp45_frames" 8256 5504 45
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

declare -A dir_of=([d80x24]=bench-data/full24 [d80x100]=bench-data/full100
                   [numpy40]=bench-data/full40 [mp45]=bench-data/mp45)
say "warming the page cache, checking hotpix uses every frame"
for set in d80x24 d80x100 mp45; do
  [[ $set == mp45 ]] && (( mp45_frames == 0 )) && continue
  warm_cache "${dir_of[$set]}"
  check_uses_all "${dir_of[$set]}"
done
"$decode_only" -j 2 bench-data/full100 >/dev/null

# A configuration is SET:PROGRAM-jN.
timed=()
for set in d80x24 d80x100; do
  timed+=("$set:decode-j1" "$set:decode-j2")
  for j in "${jobs[@]}"; do timed+=("$set:find-j$j"); done
done
once=()
if (( mp45_frames > 0 )); then
  once+=("mp45:decode-j2")
  for j in "${jobs[@]}"; do once+=("mp45:find-j$j"); done
fi
(( numpy_runs > 0 )) && once+=("numpy40:numpy-j2")

run_config() {
  local config=$1 set=${1%%:*} what=${1#*:} n
  n=${what##*-j}
  local dir=${dir_of[$set]}
  case $what in
    decode-j*) measure "$config" "$decode_only" -j "$n" "$dir" ;;
    # Not `-o /dev/null`: -o writes a temporary file beside the target and
    # renames it over the target, which would replace the device node.
    find-j*) measure "$config" "$hotpix" find -j "$n" -q --format json "$dir" ;;
    numpy-j*) measure "$config" python3 benches/numpy_ref.py -j "$n" "$dir" ;;
  esac
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
say "measuring: $runs rounds of ${#timed[@]} D80 configurations, then ${#once[@]} once or $numpy_runs times"
for (( round = 1; round <= runs; round++ )); do
  say "round $round"
  for (( k = 0; k < ${#timed[@]}; k++ )); do
    run_config "${timed[(k + round - 1) % ${#timed[@]}]}"
  done
done
for config in "${once[@]}"; do
  rounds=1
  [[ $config == numpy* ]] && rounds=$numpy_runs
  for (( round = 1; round <= rounds; round++ )); do run_config "$config"; done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$(dirname "$results")"
E2E_FRAMES_mp45=$mp45_frames E2E_MACHINE=$(describe_machine) E2E_COMMIT=$(describe_commit) \
E2E_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') E2E_NCPU=$(nproc) E2E_CLK_TCK=$(getconf CLK_TCK) \
E2E_LOAD="before $load_before; after $load_after" \
  python3 benches/tables.py e2e "$work" "${timed[@]}" "${once[@]}" >"$results"
cat "$results"
awk -v s="$script_started" -v e="$EPOCHREALTIME" -v f="$results" \
  'BEGIN { printf "== done in %.0f s; tables written to %s\n", e - s, f }' >&2
