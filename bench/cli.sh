#!/usr/bin/env bash
# Whole-process timings of the ghl-debugger command line: start-up, package initialisation, reading
# and analysing the auditor's 76-workflow sample, writing the report and exiting, as a user's shell
# sees them. In-process benchmarks cannot see start-up, which is most of a short command's time.
#
# Usage: bench/cli.sh [BASE...]
#
#   BASE   also time a baseline in the same rounds, for a before/after comparison: a git revision
#          (for example HEAD~3 or a tag), whose binary is built from `git archive`, or the path of
#          a ghl-debugger binary already built. Its rows are named after it. The analyze reports
#          of every baseline are compared with the working tree's byte for byte.
#
# Environment: ROUNDS (default 5), RUNS per command and round (default 30), WARMUP runs per command
# and round (default 5).
#
# Every round times every command once after the other, so a change of load on the machine hits
# all of them alike; the table gives the median over rounds of each round's median, and each
# command's ratio to a hello-world Go binary and to `ghl-debugger version` within the same round,
# which compare across machines better than milliseconds do. hyperfine (Debian package hyperfine)
# is used when installed; otherwise a shell loop times batches of RUNS runs, which adds the shell's
# own fork and exec to every command, the references included.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-5}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sample=pkg/analyzer/testdata/samples/ghl-workflow-auditor/broken-account.json

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "building ghl-debugger (working tree) ..." >&2
go build -o "$tmp/ghl-debugger" ./cmd/ghl-debugger
mkdir "$tmp/hello"
cat >"$tmp/hello/main.go" <<'EOF'
package main

import "fmt"

func main() { fmt.Println("hello") }
EOF
(cd "$tmp/hello" && go mod init hello >/dev/null 2>&1 && go build -o "$tmp/hello-world" .)

names=(hello version analyze-text analyze-json)
cmds=("$tmp/hello-world"
	"$tmp/ghl-debugger version"
	"$tmp/ghl-debugger analyze --fail-on none $sample"
	"$tmp/ghl-debugger analyze --format json --fail-on none $sample")

for base in "$@"; do
	if [[ -f $base && -x $base ]]; then
		label=$(basename "$base")
		bin="$tmp/base-$label"
		cp "$base" "$bin"
	else
		label=$(git rev-parse --short "$base")
		bin="$tmp/base-$label"
		echo "building ghl-debugger at $label ..." >&2
		mkdir "$tmp/src-$label"
		git archive "$label" | tar -x -C "$tmp/src-$label"
		(cd "$tmp/src-$label" && go build -o "$bin" ./cmd/ghl-debugger)
	fi
	names+=("$label-version" "$label-analyze-text" "$label-analyze-json")
	cmds+=("$bin version"
		"$bin analyze --fail-on none $sample"
		"$bin analyze --format json --fail-on none $sample")
	for format in text markdown json; do
		"$tmp/ghl-debugger" analyze --format "$format" --fail-on none "$sample" >"$tmp/new.$format"
		"$bin" analyze --format "$format" --fail-on none "$sample" >"$tmp/base.$format"
		if cmp -s "$tmp/new.$format" "$tmp/base.$format"; then
			echo "analyze --format $format: output identical to $label" >&2
		else
			echo "analyze --format $format: OUTPUT DIFFERS from $label" >&2
		fi
	done
done

# children_cpu prints the CPU time (user + system, seconds) used so far by the shell's children.
# The times builtin must run in this shell, not in a command substitution's subshell.
children_cpu() {
	times >"$tmp/times"
	awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } print s }' "$tmp/times"
}

# time_loop prints "name,mean,mean,cpu" (seconds) for one command: the mean wall time of a batch of
# RUNS runs stands in for both the median and the fastest run, which a batch cannot see.
time_loop() {
	local name=$1 cmd=$2 i start end cpu0 cpu1
	for ((i = 0; i < WARMUP; i++)); do $cmd >/dev/null; done
	children_cpu >"$tmp/cpu0"
	start=$EPOCHREALTIME
	for ((i = 0; i < RUNS; i++)); do $cmd >/dev/null; done
	end=$EPOCHREALTIME
	children_cpu >"$tmp/cpu1"
	cpu0=$(<"$tmp/cpu0") cpu1=$(<"$tmp/cpu1")
	awk -v n="$name" -v s="$start" -v e="$end" -v c0="$cpu0" -v c1="$cpu1" -v r="$RUNS" \
		'BEGIN { printf "%s,%.9f,%.9f,%.9f\n", n, (e - s) / r, (e - s) / r, (c1 - c0) / r }'
}

for ((round = 1; round <= ROUNDS; round++)); do
	echo "round $round of $ROUNDS ..." >&2
	if command -v hyperfine >/dev/null; then
		args=()
		for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
		if ! hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" --export-csv "$tmp/round.csv" "${args[@]}" >"$tmp/hyperfine.log" 2>&1; then
			cat "$tmp/hyperfine.log" >&2
			exit 1
		fi
		# Keep the name, the median, the fastest run and the mean CPU time, user + system (seconds).
		tail -n +2 "$tmp/round.csv" | awk -F, -v r="$round" '{ print r "," $1 "," $4 "," $7 "," $5 + $6 }' >>"$tmp/all.csv"
	else
		for i in "${!names[@]}"; do
			time_loop "${names[$i]}" "${cmds[$i]}" | awk -F, -v r="$round" '{ print r "," $1 "," $2 "," $3 "," $4 }' >>"$tmp/all.csv"
		done
	fi
done

echo
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "method: $(command -v hyperfine >/dev/null && hyperfine --version || echo 'shell loop'), $ROUNDS rounds x $RUNS runs (+$WARMUP warm-up) per command"
echo
echo "| command | median ms | fastest ms | CPU ms | x hello-world | x version |"
echo "|---|---:|---:|---:|---:|---:|"
# For each round: the medians, and their ratios to the round's hello and version (of the working
# tree); then the median over rounds of each. The fastest run and the CPU time (user + system) are
# the least disturbed by other work on the machine: waiting for a core counts in neither.
awk -F, -v names="${names[*]}" '
	function median(list,    a, n, i, j, t) {
		n = split(list, a, " ")
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ t[$1, $2] = $3; c[$1, $2] = $5; rounds[$1] = 1; if (!($2 in fastest) || $4 < fastest[$2]) fastest[$2] = $4 }
	END {
		n = split(names, order, " ")
		for (k = 1; k <= n; k++) {
			name = order[k]; ms = ""; cpu = ""; xh = ""; xv = ""
			for (r in rounds) {
				ms = ms " " t[r, name] * 1000
				cpu = cpu " " c[r, name] * 1000
				xh = xh " " t[r, name] / t[r, "hello"]
				xv = xv " " t[r, name] / t[r, "version"]
			}
			printf "| %s | %.1f | %.1f | %.1f | %.1f | %.2f |\n", name, median(ms), fastest[name] * 1000, median(cpu), median(xh), median(xv)
		}
	}' "$tmp/all.csv"
