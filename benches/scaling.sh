#!/usr/bin/env bash
# Draws the seed article's figure for hotpix (docs/scaling.png): elapsed time
# against the number of workers for 50 and for 480 full-size D80 frames
# (3872x2592), `hotpix find` beside decoding alone (benches/decode_only.rs,
# the ceiling). The seed article went to 5 processes on its machine; on a
# 2-core machine -j 1 to 4 is what can be measured, and the figure says so.
#
#   bash benches/scaling.sh
#
# Environment (all optional):
#   HOTPIX_BENCH_RUNS        rounds (default 3); each time is the median
#   HOTPIX_BENCH_MAX_JOBS    largest -j (default 4)
#   HOTPIX_BENCH_QUIET_WAIT  seconds to wait before each run for the machine to
#                            go quiet (default 120; 0 never waits)
# The 480 frames are generated once into bench-data/full480 (about 4 minutes,
# 2 GB). Writes bench-data/scaling.csv, bench-data/scaling-results.md and
# docs/scaling.png.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

runs=${HOTPIX_BENCH_RUNS:-3}
max_jobs=${HOTPIX_BENCH_MAX_JOBS:-4}
quiet_wait=${HOTPIX_BENCH_QUIET_WAIT:-120}
script_started=$EPOCHREALTIME

need_gnu_time
build_binaries
ensure_series bench-data/full480 480 3872 2592 7
first_frames bench-data/full480 50 bench-data/full50

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A dir_of=([d80x50]=bench-data/full50 [d80x480]=bench-data/full480)
for set in d80x50 d80x480; do
  check_uses_all "${dir_of[$set]}"
done

configs=()
for set in d80x50 d80x480; do
  for (( j = 1; j <= max_jobs; j++ )); do configs+=("$set:find-j$j" "$set:decode-j$j"); done
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for (( round = 1; round <= runs; round++ )); do
  say "round $round of $runs"
  for (( k = 0; k < ${#configs[@]}; k++ )); do
    config=${configs[(k + round - 1) % ${#configs[@]}]}
    set=${config%%:*} what=${config#*:}
    dir=${dir_of[$set]}
    # 480 frames are 2 GB: the page cache may have dropped some since the
    # last run. Read them first, untimed, as every configuration's start.
    warm_cache "$dir"
    case $what in
      find-j*) measure "$config" "$hotpix" find -j "${what#find-j}" -q --format json "$dir" ;;
      decode-j*) measure "$config" "$decode_only" -j "${what#decode-j}" "$dir" ;;
    esac
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

E2E_FRAMES_d80x50=50 E2E_FRAMES_d80x480=480 \
E2E_MACHINE=$(describe_machine) E2E_COMMIT=$(describe_commit) \
E2E_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') E2E_NCPU=$(nproc) E2E_CLK_TCK=$(getconf CLK_TCK) \
E2E_LOAD="before $load_before; after $load_after" \
  python3 benches/tables.py scaling "$work" bench-data/scaling.csv "${configs[@]}" \
  >bench-data/scaling-results.md
cat bench-data/scaling-results.md
note="median of $runs runs on $(nproc) logical CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)): -j 1 to $max_jobs is what this machine can measure"
cargo bench --locked --bench figure -- bench-data/scaling.csv docs/scaling.png "$note"
awk -v s="$script_started" -v e="$EPOCHREALTIME" \
  'BEGIN { printf "== done in %.0f s; figure written to docs/scaling.png\n", e - s }' >&2
