#!/usr/bin/env bash
# Scrapes the real binary's /metrics after a representative request mix and lints it with
# Prometheus's promtool: every family must have help text and a type, names and units must follow
# Prometheus's conventions, and the output must parse. Any problem fails.
#
#   bash .ci/check-metrics.sh BINARY       (CI runs it with bin/ghl-debugger; needs curl and promtool)
set -euo pipefail

bin=${1:?usage: check-metrics.sh BINARY}
for tool in curl promtool; do
	if ! command -v "$tool" >/dev/null; then
		echo "check-metrics: $tool is missing (promtool comes with Debian's prometheus package)" >&2
		exit 1
	fi
done

work=$(mktemp -d)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# A new SQLite database, so the first-start banner prints the admin key.
env -u DATABASE_URL -u REDIS_URL "$bin" serve --addr 127.0.0.1:0 --data-dir "$work/data" \
	>"$work/stdout" 2>"$work/stderr" &
server_pid=$!

addr=""
for _ in $(seq 1 300); do
	addr=$(sed -n 's/.*"msg":"listening".*"addr":"\([^"]*\)".*/\1/p' "$work/stderr" | head -n 1)
	if [ -n "$addr" ]; then
		break
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "check-metrics: ghl-debugger exited before listening:" >&2
		cat "$work/stderr" >&2
		exit 1
	fi
	sleep 0.1
done
if [ -z "$addr" ]; then
	echo "check-metrics: ghl-debugger did not listen within 30 s" >&2
	exit 1
fi
base="http://$addr"
key=$(grep -o 'ghd_[0-9A-Za-z]\{40\}' "$work/stdout" | head -n 1)
if [ -z "$key" ]; then
	echo "check-metrics: no admin key in the first-start banner" >&2
	exit 1
fi

# call METHOD PATH [BODY]: one request with the admin key; prints the body, ignores the status (the
# mix includes errors on purpose).
call() {
	local args=(-s -X "$1" -H "Authorization: Bearer $key")
	if [ $# -ge 3 ]; then
		args+=(-H 'Content-Type: application/json' --data-binary "$3")
	fi
	curl "${args[@]}" "$base$2"
}

location=$(call POST /v1/locations '{"ghlLocationId":"ciMetricsLocation01","name":"CI metrics","timezone":"America/Chicago"}' |
	sed -n 's/.*"id":"\(loc_[a-z0-9]*\)".*/\1/p')
if [ -z "$location" ]; then
	echo "check-metrics: could not create a location" >&2
	exit 1
fi
bundle='{"tags":["new-lead"],"workflows":[
{"name":"No Show Recovery","_id":"wf_noshow","status":"published","triggers":[{"type":"appointment","name":"Appointment Status","filters":[]}],"steps":[{"type":"sms","name":"Sorry we missed you","meta":{"body":"Sorry we missed you. Reply STOP to opt out."}}]},
{"name":"Orphan","_id":"wf_orphan","status":"published","triggers":[],"steps":[{"type":"add_tag","name":"Mark","meta":{"tags":["x"]}}]}
]}'
call POST "/v1/locations/$location/workflows" "$bundle" >/dev/null
analysis=$(call POST "/v1/locations/$location/analyses" '{"scope":"location"}' | sed -n 's/^{"id":"\(ana_[a-z0-9]*\)".*/\1/p')
call POST "/v1/locations/$location/analyses" '{"scope":"location"}' >/dev/null
for path in /health /health/detailed /openapi.json /v1/me /v1/locations "/v1/locations/$location" \
	"/v1/locations/$location/workflows" "/v1/locations/$location/analyses" "/v1/analyses/$analysis" \
	/v1/rules /v1/rules/WD001 /internal/db-stats /v1/locations/loc_aaaaaaaaaaaaaaaaaaaa /no/such/route; do
	call GET "$path" >/dev/null
done
curl -s "$base/v1/me" >/dev/null # no key: 401

curl -sf "$base/metrics" >"$work/metrics.txt"
echo "check-metrics: $(grep -c '^# TYPE' "$work/metrics.txt") families, $(grep -vc '^#' "$work/metrics.txt") samples"
if ! promtool check metrics <"$work/metrics.txt"; then
	echo "check-metrics: promtool found the problems above in GET /metrics" >&2
	exit 1
fi
echo "check-metrics: promtool check metrics passed"
