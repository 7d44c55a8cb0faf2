#!/usr/bin/env bash
# Load benchmark of the hot read path, side by side with a reference in the same run: the same
# payload (a stored analysis, GET /v1/analyses/{id}) served by a bare Echo v5 handler with gzip
# (bench/bareecho) and by the whole ghl-debugger stack (request id, security headers, metrics,
# logging, compression, spec gate with authentication, rate limiting and validation, handler), in
# interleaved rounds so that a change of load on the machine hits both alike. Prints requests per
# second, p50 and p99 for each, and the ratio of ours to the reference.
#
# Usage: bench/load.sh
#
# Environment:
#   CONNS      open keep-alive connections, space-separated (default "32"; try "32 1000 10000")
#   DURATION   seconds per wrk run (default 10)
#   ROUNDS     interleaved rounds per connection count (default 3)
#   THREADS    wrk threads (default 2)
#   PAYLOAD    small (default, a report of about 4 KB) or large (the 76-workflow sample, ~190 KB)
#   DATABASE_URL  run ghl-debugger on PostgreSQL instead of the embedded SQLite default
#   REDIS_URL     give ghl-debugger a Redis (the shared cache level and rate limits)
#
# Needs wrk (Debian package wrk). The account's requests-per-minute limit is lifted through
# PATCH /internal/accounts/{id} so the limiter does not refuse the load (it still counts every
# request). For many connections the script raises the open-files limit (this machine allows
# 20,000). RSS is read from /proc after each run.
set -euo pipefail

CONNS=${CONNS:-32}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v wrk >/dev/null || { echo "load.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "building ghl-debugger and the reference" >&2
go build -o "$work/ghl-debugger" ./cmd/ghl-debugger
go build -o "$work/bareecho" ./bench/bareecho

ours_port=18181
bare_port=18182
export GHLD_DATA_DIR="$work/data" GHLD_LOG_LEVEL=warn
"$work/ghl-debugger" serve --addr "127.0.0.1:$ours_port" >"$work/ours.out" 2>"$work/ours.err" &
pids+=($!)
ours_pid=$!
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$ours_port/health" >/dev/null 2>&1 && break
	sleep 0.1
done
key=$(grep -o 'ghd_[0-9A-Za-z]\{40\}' "$work/ours.out" | head -n 1)
if [ -z "$key" ]; then
	echo "load.sh: no admin key in the first-start banner (is DATABASE_URL an empty database?)" >&2
	exit 1
fi
account=$(curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$ours_port/v1/me" | sed -n 's/.*"id":"\(acc_[a-z0-9]*\)".*/\1/p')
curl -fsS -X PATCH -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
	-d '{"requestsPerMinute":"unlimited"}' "http://127.0.0.1:$ours_port/internal/accounts/$account" >/dev/null

# The payload: a stored analysis. PAYLOAD=small (default) analyses a three-workflow bundle (a report
# of about 4 KB, as in the issue's measurement); PAYLOAD=large the auditor's 76-workflow sample
# (about 190 KB, where compressing on every request dominates the reference).
if [ "${PAYLOAD:-small}" = large ]; then
	doc=pkg/analyzer/testdata/samples/ghl-workflow-auditor/broken-account.json
	{ printf '{"document":'; cat "$doc"; printf '}'; } >"$work/body.json"
else
	cat >"$work/body.json" <<'JSON'
{"document":{"tags":["new-lead","no-show"],"calendars":[{"id":"cal_consult","name":"Consult"}],"workflows":[
{"name":"No Show Recovery","_id":"wf_noshow","status":"published","triggers":[{"type":"appointment","name":"Appointment Status","filters":[]}],"steps":[{"type":"sms","name":"Sorry we missed you","meta":{"body":"Sorry we missed you today. Want to grab another time? Reply STOP to opt out."}}]},
{"name":"Welcome","_id":"wf_welcome","status":"draft","triggers":[{"type":"contact_tag_added","name":"Tagged new-lead","filters":[{"tag":"new-lead"}]}],"steps":[{"type":"add_tag","name":"Mark welcomed","meta":{"tags":["welcomed"]}}]},
{"name":"Orphan","_id":"wf_orphan","status":"published","triggers":[],"steps":[{"type":"add_tag","name":"Mark","meta":{"tags":["x"]}}]}]}}
JSON
fi
id=$(curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data-binary "@$work/body.json" \
	"http://127.0.0.1:$ours_port/v1/analyses" | sed -n 's/^{[^}]*"id":"\(ana_[a-z0-9]*\)".*/\1/p' | head -n 1)
if [ -z "$id" ]; then
	id=$(curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' --data-binary "@$work/body.json" \
		"http://127.0.0.1:$ours_port/v1/analyses" | grep -o '"id":"ana_[a-z0-9]*"' | head -n 1 | cut -d'"' -f4)
fi
curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$ours_port/v1/analyses/$id" >"$work/payload.json"
"$work/bareecho" "127.0.0.1:$bare_port" "$work/payload.json" &
pids+=($!)
bare_pid=$!
sleep 0.5
echo "payload: GET /v1/analyses/$id, $(wc -c <"$work/payload.json") bytes (gzip accepted)" >&2

# run NAME URL CONNS [HEADER...]: one wrk run; prints "rps p50 p99" (latencies in ms).
run() {
	local url=$1 conns=$2
	shift 2
	local hdrs=()
	for h in "$@"; do hdrs+=(-H "$h"); done
	wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --latency -H 'Accept-Encoding: gzip' "${hdrs[@]}" "$url" 2>/dev/null |
		awk '
			function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
			/^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
			END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}
rss() { awk '/VmRSS/ { printf "%.0f", $2/1024 }' "/proc/$1/status"; }

printf '%-6s %-5s %-10s %10s %9s %9s %8s\n' conns round server req/s p50_ms p99_ms rss_MB
for conns in $CONNS; do
	for round in $(seq 1 "$ROUNDS"); do
		read -r brps bp50 bp99 < <(run "http://127.0.0.1:$bare_port/v1/analyses/$id" "$conns")
		printf '%-6s %-5s %-10s %10s %9s %9s %8s\n' "$conns" "$round" bare-echo "$brps" "$bp50" "$bp99" "$(rss "$bare_pid")"
		read -r orps op50 op99 < <(run "http://127.0.0.1:$ours_port/v1/analyses/$id" "$conns" "Authorization: Bearer $key")
		printf '%-6s %-5s %-10s %10s %9s %9s %8s\n' "$conns" "$round" ghl-debugger "$orps" "$op50" "$op99" "$(rss "$ours_pid")"
		awk -v o="$orps" -v b="$brps" 'BEGIN { if (b > 0) printf "%-6s %-5s ratio      %9.0f%%\n", "", "", 100*o/b }'
	done
done
if grep -q '"level":"ERROR"' "$work/ours.err"; then
	echo "ghl-debugger logged errors during the run:" >&2
	grep '"level":"ERROR"' "$work/ours.err" | head -n 5 >&2
fi
