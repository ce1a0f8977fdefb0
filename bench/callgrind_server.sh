#!/usr/bin/env bash
# Instructions the release server runs per request, counted by callgrind: hyper, the
# connection, Rocket's task per request, fairings, guards and handler, all of it (the
# local-client counts of benches/hot_path.rs leave out the first three). Unlike wall-clock
# figures they do not move with the machine's load, so two builds can be compared on a
# busy machine.
#
#   bench/callgrind_server.sh [PATH...]
#       default: /health cookie:/health /api/v1/status /api/v1/users/me /profile /session
#
# Starts Latchkey with a fresh data directory, signs a few accounts up (AUTH_TYPE=none),
# restarts it under callgrind, logs them in, then for each path zeroes the counters, runs
# wrk (1 thread, 2 connections, 8 s, the sessions round-robin) and divides the dumped
# total by the requests wrk made. `/health` and `/api/v1/status` run without a cookie, as
# a load balancer or a status probe asks; the other paths, and any path written
# `cookie:PATH`, carry the session cookies. Valgrind hides SHA-NI, so SHA-256 takes
# its software path here (about 3.5k instructions a hash, a fraction of that on real
# hardware). Needs valgrind and wrk; BENCH_NO_BUILD=1 skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

die() { printf 'callgrind_server: %s\n' "$*" >&2; exit 1; }
for tool in valgrind callgrind_control wrk curl; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install valgrind wrk curl)"
done
PATHS=("$@")
[ ${#PATHS[@]} -gt 0 ] || PATHS=(/health cookie:/health /api/v1/status /api/v1/users/me /profile /session)
ACCOUNTS=5
PASSWORD='callgrind password 1234'
USER_AGENT='Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'

if [ "${BENCH_NO_BUILD:-}" != 1 ]; then
  cargo build --release --quiet --bin latchkey
fi

WORK=$(mktemp -d /tmp/latchkey-callgrind.XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT=$((20000 + RANDOM % 20000))
BASE=http://127.0.0.1:$PORT

# start [COMMAND...]: Latchkey on PORT with the work directory's data, run through the
# given command (none, or valgrind); waits until it answers.
start() {
  env -u AUTH_TYPE -u SESSION_NAME -u SESSION_DURATION \
    ROCKET_ADDRESS=127.0.0.1 ROCKET_PORT="$PORT" ROCKET_DATA_DIR="$WORK/data" \
    ROCKET_LOG_LEVEL=critical ROCKET_CLI_COLORS=false ROCKET_AUTH_TYPE="$AUTH" \
    ROCKET_LOGIN_FAILURES_PER_ACCOUNT_ADDRESS=0 ROCKET_LOGIN_FAILURES_PER_ACCOUNT=0 \
    ROCKET_LOGIN_FAILURES_PER_ADDRESS=0 ROCKET_SIGNUPS_PER_ADDRESS=0 \
    "$@" "$ROOT/target/release/latchkey" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null "$BASE/health" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server stopped: $(cat "$WORK/server.log")"
    sleep 0.2
  done
  die "the server did not answer within two minutes"
}
stop() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

AUTH=none start
for ((n = 0; n < ACCOUNTS; n++)); do
  curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"email\": \"callgrind-$n@example.com\", \"password\": \"$PASSWORD\"}" \
    "$BASE/api/v1/users" || die "signing account $n up failed"
done
stop

AUTH=session_auth start valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out"
COOKIES=$WORK/cookies
for ((n = 0; n < ACCOUNTS; n++)); do
  curl -fsS -o /dev/null -c "$WORK/jar" -A "$USER_AGENT" \
    --data-urlencode "email=callgrind-$n@example.com" --data-urlencode "password=$PASSWORD" \
    "$BASE/api/v1/auth_session/login" || die "logging account $n in failed"
  awk '$6 == "latchkey_session" { print $6 "=" $7 }' "$WORK/jar" >>"$COOKIES"
done

printf '| request | requests | instructions per request |\n|---|---:|---:|\n'
dump=0
for label in "${PATHS[@]}"; do
  path=${label#cookie:}
  cookies=$COOKIES
  case "$label" in /health | /api/v1/status) cookies= ;; esac
  callgrind_control -z "$SERVER_PID" >/dev/null 2>&1
  BENCH_COOKIE_FILE=$cookies wrk -t1 -c2 -d8s -s "$ROOT/bench/sessions.lua" "$BASE$path" >"$WORK/wrk.out"
  callgrind_control --dump="request $((dump + 1))" "$SERVER_PID" >/dev/null 2>&1
  dump=$((dump + 1))
  file=$WORK/callgrind.out.$dump
  for _ in $(seq 1 50); do [ -s "$file" ] && break; sleep 0.1; done
  total=$(awk '/^totals:/ { print $2 }' "$file")
  requests=$(awk '/requests in/ { print $1 }' "$WORK/wrk.out")
  non2xx=$(awk '/Non-2xx/ { print $NF }' "$WORK/wrk.out")
  [ -z "$non2xx" ] || die "$path answered $non2xx requests with an error status"
  cell="\`$path\`"
  [ "$label" = "$path" ] || cell="$cell with a session cookie"
  printf '| %s | %s | %s |\n' "$cell" "$requests" "$(awk -v t="$total" -v n="$requests" 'BEGIN { printf "%.0f", t / n }')"
done
