#!/usr/bin/env bash
# Users API load benchmark (see BENCHMARKS.md).
#
# Seeds 100,000 users into one tenant, starts the real `steward serve` on
# SQLite and then on PostgreSQL, and drives it with wrk over loopback:
# GET /api/v1/admin/users?per_page=20 and GET /api/v1/admin/users/{random id},
# API-key auth, 50 connections, 20 s each. The same run measures a bare
# net/http server answering with a body of the get-by-id response's size,
# and records the idle resident memory of `steward serve` after start-up.
# Prints a markdown table.
#
# Needs: go, wrk (apt-get install wrk), psql, and a PostgreSQL server that
# accepts BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432) with
# rights to create and drop a database. Everything it creates is removed at
# exit.
#
# Knobs (environment): BENCH_USERS (100000), BENCH_DURATION (20s),
# BENCH_WARMUP (2s), BENCH_CONNECTIONS (50), BENCH_THREADS (2),
# BENCH_POSTGRES, BENCH_PORT (3901), BENCH_DBS ("sqlite postgres").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
users=${BENCH_USERS:-100000}
duration=${BENCH_DURATION:-20s}
warmup=${BENCH_WARMUP:-2s}
conns=${BENCH_CONNECTIONS:-50}
threads=${BENCH_THREADS:-2}
pgbase=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
port=${BENCH_PORT:-3901}
dbs=${BENCH_DBS:-sqlite postgres}
addr=127.0.0.1:$port

work=$(mktemp -d /tmp/steward-bench.XXXXXX)
server_pid=""
pg_db=""

cleanup() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [[ -n $pg_db ]]; then
		psql "$pgbase/postgres?sslmode=disable" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

say() { echo "== $*" >&2; }

# json_field NAME reads one scalar field from the JSON object on stdin.
json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }

# wait_ready URL waits until the server started as $server_pid answers URL.
wait_ready() {
	local url=$1
	for _ in $(seq 1 200); do
		if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
		if ! kill -0 "$server_pid" 2>/dev/null; then
			echo "server exited during start-up" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "server did not answer $url" >&2
	return 1
}

stop_server() {
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}

# load MODE URL: runs wrk (warm-up, then the measured run) and prints its
# RESULT line.
load() {
	local mode=$1 url=$2
	BENCH_MODE=$mode wrk -t"$threads" -c"$conns" -d"$warmup" --timeout 10s -s "$here/users.lua" "$url" >/dev/null
	BENCH_MODE=$mode wrk -t"$threads" -c"$conns" -d"$duration" --timeout 10s -s "$here/users.lua" "$url" | grep '^RESULT'
}

# field NAME LINE extracts name=value from a RESULT line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

rows=()
row() { # target database endpoint RESULT-line
	rows+=("| $1 | $2 | \`$3\` | $(field rps "$4") | $(field p50_ms "$4") | $(field p99_ms "$4") | $(field not_ok "$4") | $(field socket_errors "$4") |")
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
say "building steward, seedusers, barehttp"
(cd "$here/.." && go build -o "$work/steward" ./cmd/steward)
(cd "$here" && go build -o "$work/seedusers" ./cmd/seedusers && go build -o "$work/barehttp" ./cmd/barehttp)

declare -A rss hwm anon pss id_rps
body_file=""
for db in $dbs; do
	case $db in
	sqlite) url="$work/steward.db" ;;
	postgres)
		pg_db="steward_bench_$$"
		psql "$pgbase/postgres?sslmode=disable" -qc "CREATE DATABASE $pg_db" >/dev/null
		url="$pgbase/$pg_db?sslmode=disable"
		;;
	*) echo "unknown database $db" >&2; exit 2 ;;
	esac
	say "$db: bootstrap and seed $users users"
	boot=$("$work/steward" bootstrap --db "$url" --email admin@bench.example --password bench-password-123 --json)
	tenant=$(json_field tenant_id <<<"$boot")
	export BENCH_KEY=$(json_field api_key <<<"$boot")
	seed=$("$work/seedusers" --db "$url" --tenant "$tenant" --n "$users")
	export BENCH_MIN_ID=$(json_field min_id <<<"$seed") BENCH_MAX_ID=$(json_field max_id <<<"$seed")
	say "$db: $seed"

	"$work/steward" serve --db "$url" --addr "$addr" >"$work/serve-$db.out" 2>"$work/serve-$db.log" &
	server_pid=$!
	wait_ready "http://$addr/readyz"
	sleep 2
	rss[$db]=$(awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status")
	say "$db: idle VmRSS ${rss[$db]} MB"

	probe_id=$(( (BENCH_MIN_ID + BENCH_MAX_ID) / 2 ))
	curl -fsS -H "Authorization: Bearer $BENCH_KEY" -o "$work/user-$db.json" "http://$addr/api/v1/admin/users/$probe_id"
	[[ -n $body_file ]] || body_file="$work/user-$db.json"
	curl -fsS -H "Authorization: Bearer $BENCH_KEY" -o /dev/null "http://$addr/api/v1/admin/users?per_page=20"

	# get-by-id first: list requests still running on the server when wrk
	# stops (they can take seconds) would otherwise eat into its run.
	say "$db: get by id"
	r=$(load id "http://$addr")
	row Steward "$db" "GET /api/v1/admin/users/{id}" "$r"
	id_rps[$db]=$(field rps "$r")
	hwm[$db]=$(awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$server_pid/status")
	anon[$db]=$(awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {printf "%.1f MB anonymous + %.1f MB file-backed", a/1024, f/1024}' "/proc/$server_pid/status")
	# Pss counts a page mapped N times once in all (1/N per mapping):
	# SQLite's readers each map the same database file, which VmRSS
	# counts once per reader.
	pss[$db]=$(awk '/^Pss:/ {printf "%.1f", $2/1024}' "/proc/$server_pid/smaps_rollup")
	say "$db: peak VmRSS under get-by-id load ${hwm[$db]} MB; at its end ${anon[$db]}, Pss ${pss[$db]} MB"
	say "$db: list"
	r=$(load list "http://$addr/api/v1/admin/users?per_page=20")
	row Steward "$db" "GET /api/v1/admin/users?per_page=20" "$r"
	stop_server
	if [[ $db == postgres ]]; then
		psql "$pgbase/postgres?sslmode=disable" -qc "DROP DATABASE $pg_db" >/dev/null
		pg_db=""
	fi
done

body_bytes=$(wc -c <"$body_file")
say "bare net/http with a $body_bytes-byte body"
"$work/barehttp" --addr "$addr" --body "$body_file" >/dev/null &
server_pid=$!
wait_ready "http://$addr/"
r=$(load id "http://$addr")
row "bare net/http" "-" "GET /api/v1/admin/users/{id} (${body_bytes}-byte body)" "$r"
bare_rps=$(field rps "$r")
stop_server

echo
echo "Users API, $users users in one tenant; wrk -t$threads -c$conns -d$duration (after a $warmup warm-up); $(date -u '+%Y-%m-%d %H:%M UTC'); load average at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| target | database | request | requests/s | p50 ms | p99 ms | non-200 | socket errors/timeouts |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "| database | get-by-id ÷ bare (goal ≥ 0.50 SQLite, ≥ 0.35 PostgreSQL) | idle VmRSS of steward serve (goal < 40 MB) | peak VmRSS (VmHWM) after get-by-id load (goal < 64 MB on SQLite) | of which, at the end of that load | Pss at the end of that load |"
echo "|---|---:|---:|---:|---|---:|"
for db in $dbs; do
	ratio=$(awk -v a="${id_rps[$db]}" -v b="$bare_rps" 'BEGIN {printf "%.2f", a/b}')
	echo "| $db | $ratio | ${rss[$db]} MB | ${hwm[$db]} MB | ${anon[$db]} | ${pss[$db]} MB |"
done
