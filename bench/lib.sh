# bench/lib.sh -- shared helpers for the benchmark scripts (source it).
# Figures are medians over repeated cold processes (hyperfine), peak RSS is
# the median of /usr/bin/time's maximum resident set size. Every script
# prints its figures with `row`, so bench/run can gather one table:
#   row NAME FIGURE UNIT TARGET HOLDS
set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BUILD=${EIDOS_BUILD_DIR:-$ROOT/build}
EIDOS=${EIDOS:-$BUILD/eidos}
RUNS=${BENCH_RUNS:-200}

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "bench: '$1' not found (scripts/install-deps --bench)" >&2; exit 6; }
}

# median_ms CMD... -> median wall time in ms of cold runs of CMD (a string run by sh)
median_ms() {
  need hyperfine
  local json
  json=$(mktemp)
  hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$json" "$@" >/dev/null 2>&1 \
    || hyperfine --warmup 10 --runs "$RUNS" --export-json "$json" "$@" >/dev/null 2>&1
  python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$json"
  rm -f "$json"
}

# peak_rss_kb CMD... -> median peak RSS in KiB over 15 runs
peak_rss_kb() {
  need /usr/bin/time
  local i f
  f=$(mktemp)
  for i in $(seq 15); do
    /usr/bin/time -o "$f" -f '%M' sh -c "exec $*" >/dev/null 2>&1
    tail -1 "$f"
  done | sort -n | sed -n 8p
  rm -f "$f"
}

ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1])/float(sys.argv[2])))" "$1" "$2"; }
le() { python3 -c "import sys; print('yes' if float(sys.argv[1]) <= float(sys.argv[2]) else 'NO')" "$1" "$2"; }

row() { printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5"; }

# the floor every cold-process figure is compared with
lua_floor_ms() { median_ms "lua5.4 -e ''"; }
