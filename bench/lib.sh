# Shared helpers for bench/run and bench/scale. Sourced, not run.
#
# Everything here talks to 127.0.0.1 only, and stops only processes whose PIDs it recorded when
# it started them (see track_pid / stop_pid / bench_cleanup).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
APP_BIN=$ROOT/target/release/session-lab

# A fixed 64-byte key (base64), so cookies stay valid across the restarts of one run. A bench
# fixture, not a secret: never use it for anything else.
BENCH_SECRET_KEY=${BENCH_SECRET_KEY:-c2Vzc2lvbi1sYWIgYmVuY2htYXJrIGtleSwgNjQgYnl0ZXMgbG9uZywgbm90IGEgc2VjcmV0ISEhISEhISEhIQ==}

THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
DURATION=${DURATION:-10}
DURATION=${DURATION%s}            # "10" or "10s"
WARMUP=${WARMUP:-2}
WARMUP=${WARMUP%s}
WAIT_POLL=${WAIT_POLL:-15}        # seconds between looks for a running compiler
WAIT_BUDGET=${WAIT_BUDGET:-1800}  # seconds of waiting for compilers in all, then measure anyway
RETRIES=${RETRIES:-1}             # redo a run during which a compiler appeared, this many times

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# --- processes we started -------------------------------------------------------------------
TRACKED_PIDS=()
track_pid() { TRACKED_PIDS+=("$1"); }
untrack_pid() {
  local keep=() p
  for p in "${TRACKED_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  TRACKED_PIDS=("${keep[@]}")
}
# SIGTERM, then SIGKILL after 5 s; only ever a PID this script started.
stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
  untrack_pid "$pid"
}
# Extra clean-up steps (e.g. the Django peer's stop.sh), run before the tracked PIDs are stopped.
CLEANUP_HOOKS=()
bench_cleanup() {
  local h p
  for h in "${CLEANUP_HOOKS[@]}"; do eval "$h" >/dev/null 2>&1 || true; done
  for p in "${TRACKED_PIDS[@]}"; do stop_pid "$p"; done
  return 0
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- compilers: wait while one runs ---------------------------------------------------------
# Process names (as in /proc/PID/comm) whose presence means someone is building.
BUSY_RE=${BUSY_RE:-'rustc|cargo|cc|c\+\+|gcc|g\+\+|cc1|cc1plus|collect2|clang|ld|ld\.bfd|ld\.gold|ld\.lld|rust-lld|mold|clippy-driver'}
busy_now() { pgrep -x -l "$BUSY_RE" 2>/dev/null | awk 'NR == 1 {print $2 " (pid " $1 ")"}' | grep .; }
WAITED=0
# Waits while a compiler runs: polls every WAIT_POLL s; WAIT_BUDGET s in all for the whole run.
wait_quiet_cpu() {
  [[ ${SKIP_CPU_WAIT:-0} == 1 ]] && return 0
  local who
  while who=$(busy_now); do
    if (( WAITED >= WAIT_BUDGET )); then
      log "# WARNING: $who is running and the ${WAIT_BUDGET}s waiting budget is spent; measuring anyway"
      return 0
    fi
    log "# $who is running: waiting ${WAIT_POLL}s (waited ${WAITED}s of ${WAIT_BUDGET}s so far)"
    sleep "$WAIT_POLL"
    WAITED=$((WAITED + WAIT_POLL))
  done
}

# run_wrk OUTFILE WRK-ARGS...: runs wrk while a sampler looks for compilers once a second.
# Returns 1 if one was seen (the numbers are suspect), 0 otherwise.
run_wrk() {
  local out=$1 flag sampler rc=0
  shift
  flag=$(mktemp -u "${TMPDIR:-/tmp}/bench-busy.XXXXXX")
  ( while :; do busy_now >/dev/null && : >"$flag"; sleep 1; done ) &
  sampler=$!
  track_pid "$sampler"
  # wrk's own CPU time (user, system) beside its output, for the report's "CPU per request"
  local TIMEFORMAT='%3U %3S'
  { time wrk "$@" >"$out" 2>&1 || true; } 2>"$out.cpu"
  stop_pid "$sampler"
  if [[ -e $flag ]]; then rm -f "$flag"; rc=1; fi
  return $rc
}

# proc_ticks TAG PID -> "TAGPID:ticks ": a process's CPU time (user + system, all its threads)
# in clock ticks, from /proc/PID/stat. The fields are counted after the name's closing
# parenthesis, since a name (gunicorn's, with setproctitle) may contain spaces.
proc_ticks() {
  [[ -r /proc/$2/stat ]] || return 0
  awk -v id="$1$2" '{ sub(/^.*\) /, ""); printf "%s:%d ", id, $12 + $13 }' "/proc/$2/stat" 2>/dev/null || true
}

# cpu_snapshot PIDS... -> "appPID:ticks ... pgPID:ticks ...": these processes, their children,
# and every process of the postgres user: the whole local PostgreSQL server, so nothing else
# should use it during a run (a server run by another user counts as 0).
cpu_snapshot() {
  local p c
  for p in "$@"; do
    proc_ticks app "$p"
    for c in $(pgrep -P "$p" 2>/dev/null); do proc_ticks app "$c"; done
  done
  for p in $(pgrep -u postgres 2>/dev/null); do proc_ticks pg "$p"; done
  echo
}

# cpu_used BEFORE AFTER -> "app_s pg_s": CPU seconds the app and PostgreSQL used between two
# snapshots (a process that started in between counts from zero; one that ended is lost).
cpu_used() {
  awk -v a="$1" -v b="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    n = split(a, xs, " "); for (i = 1; i <= n; i++) { split(xs[i], kv, ":"); before[kv[1]] = kv[2] }
    n = split(b, xs, " ")
    for (i = 1; i <= n; i++) {
      split(xs[i], kv, ":"); d = kv[2] - before[kv[1]]; if (d < 0) d = 0
      if (kv[1] ~ /^pg/) pg += d; else app += d
    }
    printf "%.3f %.3f\n", app / hz, pg / hz
  }'
}

# parse_wrk FILE -> "rps p50_ms p99_ms non2xx3xx socket_errors non3xx" ('-' when absent)
parse_wrk() {
  awk '
    function ms(v,   n, u) {
      n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
      if (u == "us") return n / 1000; if (u == "ms") return n; if (u == "s") return n * 1000
      if (u == "m") return n * 60000; if (u == "h") return n * 3600000; return n
    }
    /Requests\/sec:/ { rps = sprintf("%.0f", $2) }
    /^ +50%/ { p50 = sprintf("%.3f", ms($2)) }
    /^ +99%/ { p99 = sprintf("%.3f", ms($2)) }
    /Non-2xx or 3xx responses:/ { bad = $5 }
    /Socket errors:/ { se = $0; sub(/.*Socket errors: */, "", se); gsub(/ /, "", se); gsub(/,/, "/", se) }
    /^non-3xx:/ { n3 = $2 }
    END {
      printf "%s %s %s %s %s %s\n", (rps == "" ? "-" : rps), (p50 == "" ? "-" : p50),
        (p99 == "" ? "-" : p99), (bad == "" ? 0 : bad), (se == "" ? "-" : se), (n3 == "" ? "-" : n3)
    }' "$1"
}

# mem_kb PID... -> "VmHWM VmRSS" in kB, summed over the PIDs and their children
mem_kb() {
  local pids=() p hwm=0 rss=0 v
  for p in "$@"; do
    [[ -d /proc/$p ]] || continue
    pids+=("$p")
    for v in $(pgrep -P "$p" 2>/dev/null); do pids+=("$v"); done
  done
  for p in "${pids[@]}"; do
    v=$(awk '/^VmHWM:/ {h=$2} /^VmRSS:/ {r=$2} END {print (h==""?0:h), (r==""?0:r)}' "/proc/$p/status" 2>/dev/null) || continue
    hwm=$((hwm + ${v% *})); rss=$((rss + ${v#* }))
  done
  if (( ${#pids[@]} == 0 )); then echo "- -"; else echo "$hwm $rss"; fi
}

# --- Session Lab -----------------------------------------------------------------------------
# app_start MODE PORT DATABASE_URL LOGFILE [extra env...]: starts the release binary on
# 127.0.0.1:PORT and waits until /healthz answers. Sets APP_PID.
# The throttles are raised out of the way: wrk drives the app from one address, logging in
# thousands of times a second (the limits are what a benchmark must not measure).
APP_PID=
app_start() {
  local mode=$1 port=$2 url=$3 logf=$4 i code run_mode=$1 cache=none
  shift 4
  # `cached` is server mode with Redis in front of its table (session_cache = "redis").
  [[ $mode == cached ]] && { run_mode=server; cache=redis; }
  port_in_use "$port" && die "port $port on 127.0.0.1 is already in use (set PORT_BASE)"
  # Redis (redis mode, the cache): REDIS_URL passes through; the keys under a prefix of the
  # benchmark's own, never flushed.
  ( cd "$ROOT" && exec env ROCKET_PROFILE=release ROCKET_SESSION_CACHE="$cache" \
      ROCKET_REDIS_PREFIX="${BENCH_REDIS_PREFIX:-session-lab-bench:}" ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" \
      ROCKET_SECRET_KEY="$BENCH_SECRET_KEY" ROCKET_SESSION_COOKIE_SECURE=false \
      ROCKET_LOG_LEVEL=off ROCKET_CLI_COLORS=false DATABASE_URL="$url" \
      ROCKET_LOGIN_NAME_BURST=1000000000 ROCKET_LOGIN_ADDRESS_BURST=1000000000 ROCKET_LOGIN_DELAY_MS=0 \
      ROCKET_SIGNUP_ADDRESS_BURST=1000000000 ROCKET_NEW_SESSION_ADDRESS_BURST=1000000000 \
      ROCKET_SESSION_WRITE_BURST=1000000000 \
      ROCKET_HASH_QUEUE=1000000 "$@" \
      "$APP_BIN" --mode "$run_mode" ) >"$logf" 2>&1 &
  APP_PID=$!
  track_pid "$APP_PID"
  for i in $(seq 1 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/healthz" || true)
    [[ $code == 200 ]] && return 0
    if ! kill -0 "$APP_PID" 2>/dev/null; then
      log "session-lab --mode $mode exited at start; its output:"; cat "$logf" >&2
      APP_PID=; return 1
    fi
    sleep 0.1
  done
  log "session-lab --mode $mode did not answer /healthz with 200 within 30 s; its output:"
  cat "$logf" >&2
  stop_pid "$APP_PID"; APP_PID=
  return 1
}
app_stop() { stop_pid "$APP_PID"; APP_PID=; }

# jar_cookies JAR [NAME...] -> "n1=v1; n2=v2" (all cookies of a curl jar, or only those named)
jar_cookies() {
  local jar=$1; shift
  awk -v want=" $* " 'BEGIN {FS = "\t"} NF == 7 && (want == "  " || index(want, " " $6 " ")) {
      out = out (out == "" ? "" : "; ") $6 "=" $7 } END {print out}' "$jar"
}

# lab_session BASE MODE DIR: what a browser does to get a session with color=blue:
# GET /color (csrf cookie + hidden field), POST /color color=blue with the token (303).
# Sets CSRF_TOKEN, CK_ALL (every cookie the app set, as the browser sends them back) and
# CK_CSRF (the cookies a fresh visitor holds after GET /color: the CSRF cookie, whatever its
# name). The session cookie's name is docs/SPEC.md's: session_id (server) / session_data (cookie).
lab_session() {
  local base=$1 mode=$2 dir=$3 jar code page trace sname
  case $mode in server | cached) sname=session_id ;; redis) sname=session_key ;; *) sname=session_data ;; esac
  jar=$dir/jar.$mode; page=$dir/color.$mode.html
  rm -f "$jar"
  curl -s -c "$jar" -b "$jar" -o "$page" "$base/color"
  CSRF_TOKEN=$(grep -o 'name="csrf_token" value="[^"]*"' "$page" | head -1 | sed 's/.*value="//; s/"$//')
  [[ $CSRF_TOKEN =~ ^[A-Za-z0-9_-]+$ ]] || { log "no csrf_token form field in GET /color ($mode)"; return 1; }
  CK_CSRF=$(jar_cookies "$jar")
  [[ -n $CK_CSRF ]] || { log "GET /color set no cookie ($mode)"; return 1; }
  code=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' \
    --data-urlencode color=blue --data-urlencode "csrf_token=$CSRF_TOKEN" "$base/color")
  [[ $code == 303 ]] || { log "POST /color color=blue answered $code, not 303 ($mode)"; return 1; }
  [[ -n $(jar_cookies "$jar" "$sname") ]] || { log "no $sname cookie after POST /color ($mode): $(jar_cookies "$jar")"; return 1; }
  # the cookies must load the session and show blue. This GET is the redirect's landing page,
  # which consumes the POST's one-time report cookie (report_<mode>): a browser sends it once,
  # so the measured requests must not carry it either.
  trace=$(curl -s -D - -o "$page" -c "$jar" -b "$jar" "$base/color" | tr -d '\r' | awk -F': ' 'tolower($1) == "session-trace" {print $2}')
  CK_ALL=$(jar_cookies "$jar")
  [[ $CK_ALL != *report_* ]] || { log "the report cookie outlived its landing page ($mode): $CK_ALL"; return 1; }
  grep -q '<strong>blue</strong>' "$page" || { log "GET /color with the cookies does not show blue ($mode)"; return 1; }
  [[ $trace == *load=hit* ]] || { log "GET /color with the cookies: Session-Trace '$trace' ($mode)"; return 1; }
  return 0
}

# trace_of BASE PATH [curl args...] -> the Session-Trace header of one request
trace_of() {
  local base=$1 path=$2; shift 2
  curl -s -D - -o /dev/null "$@" "$base$path" | tr -d '\r' | awk -F': ' 'tolower($1) == "session-trace" {print $2}'
}

# psql as postgres on loopback (trust auth, as on the development machines)
pg() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
db_name() { local d=${1##*/}; echo "${d%%\?*}"; }
admin_url() { echo "${1%/*}/postgres"; }
ensure_db() { # URL
  local db; db=$(db_name "$1")
  if ! pg "$(admin_url "$1")" -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
    pg "$(admin_url "$1")" -c "create database \"$db\""
  fi
}

machine_lines() {
  local cpu mem
  cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
  echo "- Machine: $(nproc) CPUs ($cpu), $mem RAM, Linux $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg) when the report was written"
}

fmt_ms() { # number of ms -> "1.23 ms" / "456 µs"
  awk -v v="$1" 'BEGIN { if (v == "-" || v == "") { print "-"; exit }
    if (v < 1) printf "%.0f µs\n", v * 1000; else if (v < 100) printf "%.2f ms\n", v; else printf "%.0f ms\n", v }'
}
fmt_mb() { # kB -> "12.3 MB" (MiB, as /proc counts kB = KiB)
  awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.1f MiB\n", v / 1024 }'
}
