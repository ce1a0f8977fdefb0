#!/usr/bin/env bash
# Latchkey's benchmark: every scenario, side by side in one run, against servers
# started here with a fresh data directory, on loopback only. Prints a markdown table of
# raw figures and of the ratios against the targets, and writes it to
# bench/results/<date>.md (a full run also to bench/results/latest.md; a quick run to
# bench/results/<date>-quick.md only).
#
#   bench/run.sh            full run (20 s per measurement, 10 s per round of scenario 1;
#                           about 20 minutes)
#   bench/run.sh --quick    quick run (4 s per measurement, 3 s per round; about 8 minutes)
#
# Scenario 1 measures many sessions: BENCH_SESSIONS (default 2000) sessions minted by
# real logins over BENCH_SESSION_USERS accounts (default: one each) before the measurement,
# each request carrying the next cookie (round-robin), in BENCH_ROUNDS interleaved rounds
# (default 5) of bare Rocket, /health, /profile, /session and /api/v1/users/me, with
# BENCH_S1_CONNECTIONS connections (default 32). Scenario 3 alternates /profile, viewed
# by those sessions, without and with a login storm in BENCH_STORM_ROUNDS rounds
# (default 3). Scenario 5 alternates its two servers (1,000 and 1,000,000 sessions) over
# BENCH_ROUNDS rounds. Scenario 6 mints as many sessions in each other session store
# (Redis, Redis Cluster, SQLite, PostgreSQL) and alternates it with the memory store in
# BENCH_STORE_ROUNDS rounds (default 3); a store whose service is not running is skipped
# (`. .ci/services` starts them all). Every check that compares two measurements is
# judged on its median round.
#
# Environment: BENCH_DURATION (seconds per measurement), BENCH_ROUND_SECONDS,
# BENCH_CONNECTIONS (other page loads, default 16), BENCH_REDIS_URL (default
# redis://127.0.0.1:6379/), BENCH_REDIS_CLUSTER_NODES (comma-separated; default
# $REDIS_CLUSTER_NODES or loopback ports 17000-17002), BENCH_DATABASE_URL (a PostgreSQL
# where the database latchkey_bench may be dropped and made; default $DATABASE_URL or
# postgres://postgres@127.0.0.1:5432/test), BENCH_NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODE=full
DURATION=20
ROUND_SECONDS=10
for arg in "$@"; do
  case "$arg" in
    --quick) MODE=quick; DURATION=4; ROUND_SECONDS=3 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (try --quick)" >&2; exit 2 ;;
  esac
done
DURATION=${BENCH_DURATION:-$DURATION}
ROUND_SECONDS=${BENCH_ROUND_SECONDS:-$ROUND_SECONDS}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
S1_CONNECTIONS=${BENCH_S1_CONNECTIONS:-32}
ROUNDS=${BENCH_ROUNDS:-5}
# Scenario 6 mints sessions in each store first; fewer rounds keep its four stores short.
STORE_ROUNDS=${BENCH_STORE_ROUNDS:-3}
STORM_ROUNDS=${BENCH_STORM_ROUNDS:-3}
SESSIONS=${BENCH_SESSIONS:-2000}
SESSION_USERS=${BENCH_SESSION_USERS:-$SESSIONS}
SESSION_EMAIL_PATTERN='bench-user-%d@example.com'
STORM_CONNECTIONS=16
LOGIN_CONNECTIONS=8
SESSIONS_BIG=1000000
SESSIONS_SMALL=1000
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/}
CLUSTER_NODES=${BENCH_REDIS_CLUSTER_NODES:-${REDIS_CLUSTER_NODES:-redis://127.0.0.1:17000,redis://127.0.0.1:17001,redis://127.0.0.1:17002}}
# Fixed so runs are comparable; only ever used for these throwaway servers.
SECRET_KEY='ZavEzHWh8hSJnV0LOQ8LH0wp5lR35VUq2bs+aN+qDw3gFjy04meu4Rl/Xw2rvA5VqGQOaXbarVJUlWJOR4bK7g=='
PAGE_EMAIL=bench-page@example.com
LOGIN_EMAIL=bench-login@example.com
PASSWORD='bench password 1234'
STARTED_AT=$(date +%s)

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
if ! command -v wrk >/dev/null; then
  log "installing wrk from Debian"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y wrk >/dev/null 2>&1 \
    || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; } \
    || die "cannot install wrk (apt-get install wrk)"
fi
command -v curl >/dev/null || die "curl is needed"

if [ "${BENCH_NO_BUILD:-}" != 1 ]; then
  log "building (release)"
  cargo build --release --quiet --bin latchkey \
    --example bench_server --example store_memory --example argon2_rate --example bare_rocket
fi
BIN=$ROOT/target/release/latchkey
EXAMPLES=$ROOT/target/release/examples

# ---------------------------------------------------------------- servers
WORK=$(mktemp -d /tmp/latchkey-bench.XXXXXX)
DATA=$WORK/data
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  local port tries=0
  while [ $tries -lt 50 ]; do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    tries=$((tries + 1))
  done
  die "no free port found"
}

# start_server NAME PORT BINARY [VAR=VALUE...]: starts it in the background, sets
# SERVER_PID; returns 1 (and leaves nothing running) if it is not healthy within 20 s.
# Login throttling is off: the login scenarios log the same accounts in from one address
# hundreds of times a second, which is what throttling exists to refuse (it counts an
# attempt before hashing), and they measure hashing capacity, not the throttle.
start_server() {
  local name=$1 port=$2 binary=$3; shift 3
  env -u AUTH_TYPE -u SESSION_NAME -u SESSION_DURATION \
    ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$port" ROCKET_DATA_DIR="$DATA" \
    ROCKET_LOG_LEVEL=critical ROCKET_SECRET_KEY="$SECRET_KEY" ROCKET_CLI_COLORS=false \
    ROCKET_AUTH_TYPE=session_auth \
    ROCKET_LOGIN_FAILURES_PER_ACCOUNT_ADDRESS=0 ROCKET_LOGIN_FAILURES_PER_ACCOUNT=0 \
    ROCKET_LOGIN_FAILURES_PER_ADDRESS=0 ROCKET_SIGNUPS_PER_ADDRESS=0 "$@" \
    "$binary" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  local tries=0
  while [ $tries -lt 200 ]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then return 1; fi
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; then return 0; fi
    sleep 0.1
    tries=$((tries + 1))
  done
  stop_server "$SERVER_PID"
  return 1
}

stop_server() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# proc_kb PID FIELD: VmRSS / VmHWM of a process in kB.
proc_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.0f MB", kb / 1024 }'; }

# login_cookie PORT EMAIL: logs in through the API, prints "name=value" of the session cookie.
login_cookie() {
  local jar=$WORK/jar.$RANDOM
  curl -fsS -o /dev/null -c "$jar" -A "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0" \
    --data-urlencode "email=$2" --data-urlencode "password=$PASSWORD" \
    "http://127.0.0.1:$1/api/v1/auth_session/login" || die "login as $2 failed"
  awk '$6 == "latchkey_session" { print $6 "=" $7 }' "$jar"
}

expect_status() {
  local got
  got=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${3:-}" "$2")
  [ "$got" = "$1" ] || die "$2 answered $got, expected $1 (log: $WORK)"
}

# ---------------------------------------------------------------- wrk
# wrk_run LABEL CONNECTIONS SECONDS URL [SCRIPT]: runs wrk, keeps its output in $WORK.
wrk_run() {
  local label=$1 conns=$2 secs=$3 url=$4 script=${5:-}
  local args=(-t1 -c"$conns" -d"${secs}s" --latency --timeout 10s)
  [ -n "$script" ] && args+=(-s "$ROOT/bench/$script")
  wrk "${args[@]}" "$url" >"$WORK/wrk.$label" 2>&1 || die "wrk failed: $(cat "$WORK/wrk.$label")"
}

# wrk_field LABEL FIELD: rps | p50 | p99 (ms) | requests | errors (non-2xx/3xx + socket)
wrk_field() {
  awk -v want="$2" '
    function ms(v) {
      if (v ~ /us$/) return v / 1000;
      if (v ~ /ms$/) return v + 0;
      if (v ~ /m$/)  return v * 60000;
      if (v ~ /s$/)  return v * 1000;
      return v + 0;
    }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50.000%" || $1 == "50%" { p50 = ms($2) }
    $1 == "99.000%" || $1 == "99%" { p99 = ms($2) }
    / requests in / { requests = $1 }
    /Non-2xx or 3xx responses:/ { errors += $NF }
    /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    END {
      if (want == "rps") printf "%.1f", rps;
      else if (want == "p50") printf "%.2f", p50;
      else if (want == "p99") printf "%.2f", p99;
      else if (want == "requests") printf "%d", requests;
      else if (want == "errors") printf "%d", errors + 0;
    }' "$WORK/wrk.$1"
}

RAW_ROWS=()
# raw_row LABEL DESCRIPTION RSS_KB: a line of the raw-figures table from a wrk run.
raw_row() {
  RAW_ROWS+=("| $2 | $(wrk_field "$1" rps) | $(wrk_field "$1" p50) | $(wrk_field "$1" p99) | $(wrk_field "$1" errors) | ${3:+$(mb "$3")} |")
}

TARGET_ROWS=()
FAILED=0
# target_row SCENARIO CHECK MEASURED TARGET_TEXT PASS(0/1/skip)
target_row() {
  local verdict
  case "$5" in
    1) verdict=PASS ;;
    0) verdict=FAIL; FAILED=$((FAILED + 1)) ;;
    *) verdict="$5" ;;
  esac
  TARGET_ROWS+=("| $1 | $2 | $3 | $4 | **$verdict** |")
}
# ratio A B: A/B with 2 decimals; at_least / at_most X Y: 1 if X >= Y (X <= Y); mean A B.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "0.00"; else printf "%.2f", a / b }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? 1 : 0 }'; }
at_most() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'; }
mean() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + b) / 2 }'; }

# ---------------------------------------------------------------- users
log "mode: $MODE, ${DURATION}s per measurement, work dir $WORK"
PORT=$(free_port)
start_server setup "$PORT" "$BIN" ROCKET_AUTH_TYPE=none || die "Latchkey did not start: $(cat "$WORK/setup.log")"
SESSION_EMAILS=()
for ((n = 0; n < SESSION_USERS; n++)); do
  # shellcheck disable=SC2059
  SESSION_EMAILS+=("$(printf "$SESSION_EMAIL_PATTERN" "$n")")
done
# create_users PORT: signs every benchmark account up through the API (AUTH_TYPE=none);
# an account left by an earlier run in a shared database (409) is as good as a new one.
create_users() {
  local email code
  for email in "$PAGE_EMAIL" "$LOGIN_EMAIL" "${SESSION_EMAILS[@]}"; do
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      -d "{\"email\": \"$email\", \"password\": \"$PASSWORD\", \"first_name\": \"Bench\", \"last_name\": \"Mark\"}" \
      "http://127.0.0.1:$1/api/v1/users")
    [ "$code" = 201 ] || [ "$code" = 409 ] || die "creating $email answered $code"
  done
}
create_users "$PORT"
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- scenarios 1-3, 6
log "starting Latchkey (memory store)"
start_server memory "$PORT" "$BIN" || die "Latchkey did not start: $(cat "$WORK/memory.log")"
MAIN_PID=$SERVER_PID
BASE=http://127.0.0.1:$PORT
export BENCH_COOKIE
BENCH_COOKIE=$(login_cookie "$PORT" "$PAGE_EMAIL")
expect_status 200 "$BASE/profile" "$BENCH_COOKIE"
expect_status 200 "$BASE/api/v1/users/me" "$BENCH_COOKIE"
RSS_START=$(proc_kb "$MAIN_PID" VmRSS)

log "1: minting $SESSIONS sessions by logging in $SESSION_USERS accounts"
COOKIES=$WORK/cookies
# mint_sessions PORT FILE: BENCH_SESSIONS sessions by real API logins, their cookies in FILE.
mint_sessions() {
  local port=$1 file=$2 mint_pid minted
  : >"$file.all"
  # wrk's threads stop once enough cookies are written, but wrk itself would wait out its
  # whole duration: it runs in the background and is stopped here instead.
  BENCH_USER_COUNT=$SESSION_USERS BENCH_EMAIL_PATTERN=$SESSION_EMAIL_PATTERN \
    BENCH_SESSIONS=$SESSIONS BENCH_PASSWORD=$PASSWORD BENCH_COOKIE_FILE="$file.all" \
    wrk -t1 -c"$LOGIN_CONNECTIONS" -d600s --timeout 10s -s "$ROOT/bench/mint_sessions.lua" \
    "http://127.0.0.1:$port/api/v1/auth_session/login" >"$WORK/wrk.mint.$port" 2>&1 &
  mint_pid=$!
  while kill -0 "$mint_pid" 2>/dev/null && [ "$(wc -l <"$file.all")" -lt "$SESSIONS" ]; do
    sleep 0.5
  done
  kill "$mint_pid" 2>/dev/null || true
  wait "$mint_pid" 2>/dev/null || true
  sort -u "$file.all" | head -n "$SESSIONS" >"$file"
  minted=$(wc -l <"$file")
  [ "$minted" -ge "$SESSIONS" ] || die "only $minted of $SESSIONS sessions were minted on port $port (log: $WORK)"
}
mint_sessions "$PORT" "$COOKIES"
expect_status 200 "$BASE/profile" "$(head -1 "$COOKIES")"
expect_status 200 "$BASE/session" "$(tail -1 "$COOKIES")"
expect_status 200 "$BASE/api/v1/users/me" "$(sed -n '2p' "$COOKIES")"

log "1: bare Rocket"
BARE_PORT=$(free_port)
start_server bare "$BARE_PORT" "$EXAMPLES/bare_rocket" || die "bare_rocket did not start: $(cat "$WORK/bare.log")"
BARE_PID=$SERVER_PID
BARE=http://127.0.0.1:$BARE_PORT

# s1_run LABEL URL [COOKIE_FILE]: one scenario-1 measurement (round-robin cookies if given).
s1_run() {
  BENCH_COOKIE_FILE=${3:-} wrk_run "$1" "$S1_CONNECTIONS" "$ROUND_SECONDS" "$2" sessions.lua
}

log "warm-up"
s1_run warmup "$BASE/profile" "$COOKIES"
s1_run warmup_bare "$BARE/health"

# Rounds interleave the endpoints, and /health is measured between every two of them: each
# ratio is taken against the mean of the /health measurements just before and just after
# it, so a change in the machine's speed (on a shared VM, /health alone moved by a third
# between rounds) weighs on both sides alike. /health measurement k is health.k:
# round r's run between health.(4r-3) and health.(4r+1).
S1_ENDPOINTS=(bare health profile session me)
S1_HEALTH_COUNT=$((4 * ROUNDS + 1))
s1_run health.1 "$BASE/health"
for ((round = 1; round <= ROUNDS; round++)); do
  log "1: round $round of $ROUNDS ($SESSIONS sessions, $S1_CONNECTIONS connections)"
  first=$((4 * round - 3))
  s1_run "bare.$round" "$BARE/health"
  s1_run "health.$((first + 1))" "$BASE/health"
  s1_run "profile.$round" "$BASE/profile" "$COOKIES"
  s1_run "health.$((first + 2))" "$BASE/health"
  s1_run "session.$round" "$BASE/session" "$COOKIES"
  s1_run "health.$((first + 3))" "$BASE/health"
  s1_run "me.$round" "$BASE/api/v1/users/me" "$COOKIES"
  s1_run "health.$((first + 4))" "$BASE/health"
done
S1_RSS=$(proc_kb "$MAIN_PID" VmRSS)
stop_server "$BARE_PID"

# median / best of a list of numbers; lowest for the "at most" checks.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
highest() { printf '%s\n' "$@" | sort -g | tail -1; }
lowest() { printf '%s\n' "$@" | sort -g | head -1; }
# per_round FIELD ENDPOINT [COUNT]: that figure from every round (COUNT: ROUNDS).
per_round() {
  local round
  for ((round = 1; round <= ${3:-$ROUNDS}; round++)); do wrk_field "$2.$round" "$1"; echo; done
}
# round_ratios FIELD A B [COUNT]: A/B within each round (COUNT: ROUNDS).
round_ratios() {
  local round
  for ((round = 1; round <= ${4:-$ROUNDS}; round++)); do
    ratio "$(wrk_field "$2.$round" "$1")" "$(wrk_field "$3.$round" "$1")"
    echo
  done
}
# rounds_row LABEL DESCRIPTION RSS_KB [COUNT]: a raw-figures line, the median of rounds.
rounds_row() {
  local rps p50 p99 errors
  mapfile -t rps < <(per_round rps "$1" "${4:-}")
  mapfile -t p50 < <(per_round p50 "$1" "${4:-}")
  mapfile -t p99 < <(per_round p99 "$1" "${4:-}")
  mapfile -t errors < <(per_round errors "$1" "${4:-}")
  RAW_ROWS+=("| $2: median of rounds (req/s $(IFS=/; echo "${rps[*]}" | sed 's|/| / |g')) | $(median "${rps[@]}") | $(median "${p50[@]}") | $(median "${p99[@]}") | $(( $(IFS=+; echo "${errors[*]}") )) | ${3:+$(mb "$3")} |")
}
declare -A S1_NAMES=(
  [bare]="\`GET /health\` on bare Rocket (examples/bare_rocket.rs)"
  [health]="\`GET /health\`"
  [profile]="\`GET /profile\`, $SESSIONS sessions round-robin"
  [session]="\`GET /session\`, $SESSIONS sessions round-robin"
  [me]="\`GET /api/v1/users/me\`, $SESSIONS sessions round-robin"
)
for endpoint in "${S1_ENDPOINTS[@]}"; do
  rss=$S1_RSS; [ "$endpoint" = bare ] && rss=""
  count=$ROUNDS; [ "$endpoint" = health ] && count=$S1_HEALTH_COUNT
  rounds_row "$endpoint" "1. ${S1_NAMES[$endpoint]}" "$rss" "$count"
done

# rounds_target SCENARIO CHECK TARGET_TEXT at_least|at_most THRESHOLD RATIOS...: judged
# on the median round; the best round is reported beside it.
rounds_target() {
  local scenario=$1 check=$2 text=$3 compare=$4 threshold=$5; shift 5
  local mid best unit=""
  mid=$(median "$@")
  if [ "$compare" = at_least ]; then best=$(highest "$@"); else best=$(lowest "$@"); unit=x; fi
  target_row "$scenario" "$check (rounds: $(echo "$@" | sed 's/ / \/ /g'))" "median ${mid}${unit}, best ${best}${unit}" "$text" "$("$compare" "$mid" "$threshold")"
}
# s1_ratios FIELD ENDPOINT [inverse]: per round, ENDPOINT's figure over the mean of the
# /health figures either side of it (inverse: that mean over ENDPOINT's).
s1_ratios() {
  local round before endpoint_at health
  declare -A S1_OFFSET=([bare]=0 [profile]=1 [session]=2 [me]=3)
  for ((round = 1; round <= ROUNDS; round++)); do
    before=$((4 * round - 3 + ${S1_OFFSET[$2]}))
    health=$(mean "$(wrk_field "health.$before" "$1")" "$(wrk_field "health.$((before + 1))" "$1")")
    endpoint_at=$(wrk_field "$2.$round" "$1")
    if [ "${3:-}" = inverse ]; then ratio "$health" "$endpoint_at"; else ratio "$endpoint_at" "$health"; fi
    echo
  done
}
rounds_target 1 "/profile req/s vs /health" ">= 0.60" at_least 0.60 $(s1_ratios rps profile)
rounds_target 1 "/profile p99 vs /health" "<= 1.5x" at_most 1.5 $(s1_ratios p99 profile)
rounds_target 1 "/api/v1/users/me req/s vs /health" ">= 0.85" at_least 0.85 $(s1_ratios rps me)
rounds_target 1 "/session req/s vs /health" ">= 0.50" at_least 0.50 $(s1_ratios rps session)
rounds_target 1 "/health req/s vs bare Rocket /health" ">= 0.80" at_least 0.80 $(s1_ratios rps bare inverse)

log "1 (extra): /profile with one session repeated"
wrk_run single "$CONNECTIONS" "$DURATION" "$BASE/profile" cookie.lua
raw_row single "1 (extra). \`GET /profile\`, one session's cookie repeated, $CONNECTIONS connections" "$(proc_kb "$MAIN_PID" VmRSS)"
target_row 1 "(extra) one-session /profile req/s vs median /health" \
  "$(ratio "$(wrk_field single rps)" "$(median $(per_round rps health "$S1_HEALTH_COUNT"))")" "(reported)" "-"

log "2: login capacity"
# The raw rate is measured just before and just after the logins and averaged: on a
# shared machine one 3-second sample can differ from the next by a third, and a change in
# the machine's speed while the logins run then weighs on both sides of the ratio alike.
rate_field() { sed -E "s/.*$1=([0-9.]+).*/\\1/" <<<"$2"; }
RATE_BEFORE=$("$EXAMPLES/argon2_rate" 3)
export BENCH_EMAIL=$LOGIN_EMAIL BENCH_PASSWORD=$PASSWORD
wrk_run login "$LOGIN_CONNECTIONS" "$DURATION" "$BASE/api/v1/auth_session/login" login_api.lua
RATE_AFTER=$("$EXAMPLES/argon2_rate" 3)
PERMITS=$(rate_field threads "$RATE_BEFORE")
SINGLE=$(mean "$(rate_field single_per_s "$RATE_BEFORE")" "$(rate_field single_per_s "$RATE_AFTER")")
PARALLEL=$(mean "$(rate_field parallel_per_s "$RATE_BEFORE")" "$(rate_field parallel_per_s "$RATE_AFTER")")
raw_row login "2. API logins, $LOGIN_CONNECTIONS connections" "$(proc_kb "$MAIN_PID" VmRSS)"
L_RPS=$(wrk_field login rps)
L_VALID=$(awk -v rps="$L_RPS" -v n="$(wrk_field login requests)" -v e="$(wrk_field login errors)" \
  'BEGIN { if (n == 0) print 0; else printf "%.1f", rps * (n - e) / n }')
# The raw rate "for the configured hash concurrency": $PERMITS threads verifying at once,
# measured just now on this machine (on a quiet machine it is about single x permits; on a
# shared one it is what the cores actually give). single x permits is reported beside it.
ALLOWED=$PARALLEL
SINGLE_TIMES=$(awk -v s="$SINGLE" -v p="$PERMITS" 'BEGIN { printf "%.1f", s * p }')
RAW_ROWS+=("| 2. raw argon2id verify (m=19456 KiB, t=2, p=1), mean of before and after the logins ($(rate_field parallel_per_s "$RATE_BEFORE") / $(rate_field parallel_per_s "$RATE_AFTER") at once): 1 thread / $PERMITS threads at once | $SINGLE / $PARALLEL | | | | |")
R=$(ratio "$L_VALID" "$ALLOWED")
target_row 2 "valid logins/s vs raw verify rate, $PERMITS threads at once ($L_VALID / $ALLOWED)" "$R" ">= 0.90" "$(at_least "$R" 0.90)"
target_row 2 "valid logins/s vs 1-thread rate x $PERMITS ($L_VALID / $SINGLE_TIMES)" "$(ratio "$L_VALID" "$SINGLE_TIMES")" "(reported)" "-"

log "3: login storm"
# s3_page LABEL: /profile as the minted sessions view it, $CONNECTIONS connections.
s3_page() {
  BENCH_COOKIE_FILE=$COOKIES wrk_run "$1" "$CONNECTIONS" "$ROUND_SECONDS" "$BASE/profile" sessions.lua
}
# Rounds alternate the page with and without the storm, as in scenario 1, and the page is
# viewed by the many sessions: one idle p99 against one storm p99 compared two samples
# of a tail that moves by a factor of three between runs.
for ((round = 1; round <= STORM_ROUNDS; round++)); do
  log "3: round $round of $STORM_ROUNDS"
  s3_page "idle.$round"
  # API logins: each is a full argon2id verify and a new session, with no form token to
  # fetch first (form tokens are single-use, so a replayed form login would be a 403).
  wrk_run "storm_login.$round" "$STORM_CONNECTIONS" $((ROUND_SECONDS + 2)) "$BASE/api/v1/auth_session/login" login_api.lua &
  STORM_PID=$!
  sleep 1
  s3_page "storm.$round"
  wait "$STORM_PID" || die "the login storm failed"
done
PEAK_KB=$(proc_kb "$MAIN_PID" VmHWM)
rounds_row idle "3. \`GET /profile\`, $SESSIONS sessions round-robin, idle (just before each storm)" "" "$STORM_ROUNDS"
rounds_row storm "3. \`GET /profile\`, $SESSIONS sessions round-robin, during the storm" "$(proc_kb "$MAIN_PID" VmRSS)" "$STORM_ROUNDS"
rounds_row storm_login "3. API logins (the storm), $STORM_CONNECTIONS connections" "$PEAK_KB" "$STORM_ROUNDS"
rounds_target 3 "/profile p99, storm vs idle" "<= 2x" at_most 2 $(round_ratios p99 storm idle "$STORM_ROUNDS")
rounds_target 3 "/profile req/s, storm vs idle" ">= 0.60" at_least 0.60 $(round_ratios rps storm idle "$STORM_ROUNDS")
target_row 3 "server peak RSS (VmHWM) so far" "$(mb "$PEAK_KB")" "<= 300 MB" "$(at_most "$PEAK_KB" $((300 * 1024)))"

log "6: other session stores, $SESSIONS sessions each"
# PostgreSQL sessions (and their users) go into a database of their own, made anew for
# each run, so nothing is left in the database the tests use.
PG_ADMIN_URL=${BENCH_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}
PG_URL=${PG_ADMIN_URL%/*}/latchkey_bench
pg_ready() {
  command -v psql >/dev/null &&
    psql "$PG_ADMIN_URL" -qAtc 'DROP DATABASE IF EXISTS latchkey_bench' >/dev/null 2>&1 &&
    psql "$PG_ADMIN_URL" -qAtc 'CREATE DATABASE latchkey_bench' >/dev/null 2>&1
}
# store_server STORE PORT: starts Latchkey with that session store (and, for PostgreSQL,
# its users there too); returns 1 when the store is not available here.
store_server() {
  case "$1" in
    redis) start_server "store-$1" "$2" "$BIN" ROCKET_SESSION_STORE=redis ROCKET_REDIS_URL="$REDIS_URL" ;;
    redis_cluster)
      start_server "store-$1" "$2" "$BIN" ROCKET_SESSION_STORE=redis_cluster \
        ROCKET_REDIS_CLUSTER_NODES="[\"${CLUSTER_NODES//,/\",\"}\"]" ;;
    sqlite) start_server "store-$1" "$2" "$BIN" ROCKET_SESSION_STORE=sqlite ;;
    postgres)
      pg_ready || return 1
      start_server "store-pg-setup" "$2" "$BIN" ROCKET_AUTH_TYPE=none ROCKET_DATABASE_URL="$PG_URL" || return 1
      create_users "$2"
      stop_server "$SERVER_PID"
      start_server "store-$1" "$2" "$BIN" ROCKET_SESSION_STORE=postgres ROCKET_DATABASE_URL="$PG_URL" ;;
  esac
}
# store_row LABEL DESCRIPTION PID: the median round's figures of one server in scenario 6.
store_row() {
  local round rps=() p50=() p99=() errors=0
  for ((round = 1; round <= STORE_ROUNDS; round++)); do
    rps+=("$(wrk_field "$1.$round" rps)"); p50+=("$(wrk_field "$1.$round" p50)")
    p99+=("$(wrk_field "$1.$round" p99)"); errors=$((errors + $(wrk_field "$1.$round" errors)))
  done
  RAW_ROWS+=("| $2: median of rounds (req/s $(IFS=/; echo "${rps[*]}" | sed 's|/| / |g')) | $(median "${rps[@]}") | $(median "${p50[@]}") | $(median "${p99[@]}") | $errors | $(mb "$(proc_kb "$3" VmRSS)") |")
}
declare -A STORE_TARGET=([redis]=0.40 [redis_cluster]=0.50 [sqlite]=0.30 [postgres]=0.30)
for store in redis redis_cluster sqlite postgres; do
  want=${STORE_TARGET[$store]}
  STORE_PORT=$(free_port)
  if store_server "$store" "$STORE_PORT"; then
    STORE_PID=$SERVER_PID
    mint_sessions "$STORE_PORT" "$WORK/cookies.$store"
    expect_status 200 "http://127.0.0.1:$STORE_PORT/profile" "$(head -1 "$WORK/cookies.$store")"
    # Rounds alternate the two servers, as in scenario 1; judged on the median round.
    for ((round = 1; round <= STORE_ROUNDS; round++)); do
      BENCH_COOKIE_FILE=$COOKIES wrk_run "mem_for_$store.$round" "$CONNECTIONS" "$ROUND_SECONDS" \
        "$BASE/profile" sessions.lua
      BENCH_COOKIE_FILE=$WORK/cookies.$store wrk_run "$store.$round" "$CONNECTIONS" "$ROUND_SECONDS" \
        "http://127.0.0.1:$STORE_PORT/profile" sessions.lua
    done
    store_row "mem_for_$store" "6. \`GET /profile\`, $SESSIONS sessions round-robin, memory store (beside $store)" "$MAIN_PID"
    store_row "$store" "6. \`GET /profile\`, $SESSIONS sessions round-robin, $store store" "$STORE_PID"
    stop_server "$STORE_PID"
    mapfile -t STORE_RATIOS < <(for ((round = 1; round <= STORE_ROUNDS; round++)); do
      ratio "$(wrk_field "$store.$round" rps)" "$(wrk_field "mem_for_$store.$round" rps)"; echo
    done)
    R=$(median "${STORE_RATIOS[@]}")
    target_row 6 "$store /profile req/s vs memory (rounds: $(echo "${STORE_RATIOS[@]}" | sed 's/ / \/ /g'))" \
      "median $R" ">= $want" "$(at_least "$R" "$want")"
  else
    target_row 6 "$store /profile req/s vs memory" "-" ">= $want" "skipped: store not available"
  fi
done
stop_server "$MAIN_PID"

# ---------------------------------------------------------------- scenario 4
log "4: memory store size at $SESSIONS_BIG sessions"
MEM_LINE=$("$EXAMPLES/store_memory" "$SESSIONS_BIG")
PER_SESSION=$(sed -E 's/.*bytes_per_session=([0-9.]+).*/\1/' <<<"$MEM_LINE")
LOOKUP_NS=$(sed -E 's/.*lookup_ns=([0-9]+).*/\1/' <<<"$MEM_LINE")
SWEEP_MS=$(sed -E 's/.*sweep_us=([0-9]+).*/\1/' <<<"$MEM_LINE" | awk '{ printf "%.1f", $1 / 1000 }')
RAW_ROWS+=("| 4. memory store at $SESSIONS_BIG sessions: RSS growth per session (bytes), lookup (ns), one sweep finding nothing expired (ms, in chunks that each hold the lock briefly) | $PER_SESSION B / ${LOOKUP_NS} ns / ${SWEEP_MS} ms | | | | |")
target_row 4 "memory store bytes/session at $SESSIONS_BIG (RSS growth)" "$PER_SESSION" "<= 250" "$(at_most "$PER_SESSION" 250)"

# ---------------------------------------------------------------- scenario 5
# Two servers side by side, one holding SESSIONS_SMALL sessions and one SESSIONS_BIG, and
# rounds that alternate between them, so a change in the machine's speed hits both alike
# (as in scenario 1); judged on the median round's ratio.
log "5: /profile with $SESSIONS_SMALL vs $SESSIONS_BIG sessions ($ROUNDS interleaved rounds)"
FILL=$WORK/fill
SMALL_PORT=$(free_port)
start_server bench_small "$SMALL_PORT" "$EXAMPLES/bench_server" \
  BENCH_PREFILL=$((SESSIONS_SMALL - 1)) \
  || die "bench_server did not start: $(cat "$WORK/bench_small.log")"
SMALL_PID=$SERVER_PID
SMALL=http://127.0.0.1:$SMALL_PORT
SMALL_COOKIE=$(login_cookie "$SMALL_PORT" "$PAGE_EMAIL")
expect_status 200 "$SMALL/profile" "$SMALL_COOKIE"
BIG_PORT=$(free_port)
start_server bench_server "$BIG_PORT" "$EXAMPLES/bench_server" \
  BENCH_PREFILL=$((SESSIONS_SMALL - 1)) BENCH_FILL_FILE="$FILL" \
  || die "bench_server did not start: $(cat "$WORK/bench_server.log")"
BIG_PID=$SERVER_PID
BIG=http://127.0.0.1:$BIG_PORT
BIG_COOKIE=$(login_cookie "$BIG_PORT" "$PAGE_EMAIL")
expect_status 200 "$BIG/profile" "$BIG_COOKIE"
echo $((SESSIONS_BIG - SESSIONS_SMALL)) >"$FILL.tmp" && mv "$FILL.tmp" "$FILL"
tries=0
while [ ! -s "$FILL.done" ] && [ $tries -lt 1200 ]; do sleep 0.1; tries=$((tries + 1)); done
[ -s "$FILL.done" ] || die "bench_server did not fill its store"
read -r BIG_LEN _ _ <"$FILL.done"
BENCH_COOKIE=$SMALL_COOKIE wrk_run warmup_small "$CONNECTIONS" 2 "$SMALL/profile" cookie.lua
BENCH_COOKIE=$BIG_COOKIE wrk_run warmup_big "$CONNECTIONS" 2 "$BIG/profile" cookie.lua
for ((round = 1; round <= ROUNDS; round++)); do
  BENCH_COOKIE=$SMALL_COOKIE wrk_run "small.$round" "$CONNECTIONS" "$ROUND_SECONDS" "$SMALL/profile" cookie.lua
  BENCH_COOKIE=$BIG_COOKIE wrk_run "big.$round" "$CONNECTIONS" "$ROUND_SECONDS" "$BIG/profile" cookie.lua
done
rounds_row small "5. \`GET /profile\`, $SESSIONS_SMALL sessions in the store" "$(proc_kb "$SMALL_PID" VmRSS)"
rounds_row big "5. \`GET /profile\`, $BIG_LEN sessions in the store" "$(proc_kb "$BIG_PID" VmRSS)"
stop_server "$SMALL_PID"
stop_server "$BIG_PID"
mapfile -t S5_RATIOS < <(round_ratios rps big small)
S5_MID=$(median "${S5_RATIOS[@]}")
target_row 5 "/profile req/s, $SESSIONS_BIG vs $SESSIONS_SMALL sessions (rounds: $(echo "${S5_RATIOS[@]}" | sed 's/ / \/ /g'))" \
  "median $S5_MID, best $(highest "${S5_RATIOS[@]}")" ">= 0.90" "$(at_least "$S5_MID" 0.90)"

# ---------------------------------------------------------------- report
ELAPSED=$(( $(date +%s) - STARTED_AT ))
REPORT=$(
  echo "### Latchkey benchmark, $(date -u '+%Y-%m-%d %H:%M UTC') ($MODE run, ${DURATION}s per measurement, ${ELAPSED}s in all)"
  echo
  echo "Machine: $(nproc) cores, $(lscpu | sed -nE 's/^Model name: *//p' | head -1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)."
  echo "Load: wrk, 1 thread, $S1_CONNECTIONS connections for scenario 1, $CONNECTIONS for the other page loads (logins: $LOGIN_CONNECTIONS; storm: $STORM_CONNECTIONS), on the same machine over loopback."
  echo "Commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (+ uncommitted changes in src)'). Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| run | req/s | p50 ms | p99 ms | errors | server RSS |"
  echo "|---|---:|---:|---:|---:|---:|"
  printf '%s\n' "${RAW_ROWS[@]}"
  echo
  echo "| scenario | check | measured | target | result |"
  echo "|---|---|---:|---|---|"
  printf '%s\n' "${TARGET_ROWS[@]}"
  echo
  if [ "$FAILED" -eq 0 ]; then echo "All targets met."; else echo "$FAILED target(s) missed."; fi
)
mkdir -p bench/results
SUFFIX=""
if [ "$MODE" = quick ]; then SUFFIX=-quick; fi
OUT=bench/results/$(date -u +%Y-%m-%d)$SUFFIX.md
printf '%s\n' "$REPORT" >"$OUT"
# latest.md is what the READMEs quote: only a full run replaces it.
if [ "$MODE" = full ]; then cp "$OUT" bench/results/latest.md; fi
printf '%s\n' "$REPORT"
log "written to $OUT$([ "$MODE" = full ] && echo " and bench/results/latest.md")"
[ "$FAILED" -eq 0 ]
