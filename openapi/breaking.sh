#!/usr/bin/env bash
# Breaking-change check: compares openapi.yaml with the last released spec, the newest
# openapi/released/vMAJOR.yaml, using oasdiff (pinned in tools.mod). A breaking change fails unless
# openapi.yaml's info.version starts a new major version; then the changes are listed and the check
# passes, and releasing that version adds openapi/released/vNEW.yaml.
#
#   bash openapi/breaking.sh      (from anywhere in the repository; CI runs it)
set -euo pipefail

cd "$(dirname "$0")/.."

oasdiff() {
	go tool -modfile=tools.mod oasdiff "$@"
}

# version_of FILE prints info.version of an OpenAPI document written in block-style YAML, as the
# project's are: the "version:" line indented by two spaces inside the top-level "info:" block.
version_of() {
	awk '
		/^info:/ { inside = 1; next }
		inside && /^[^[:space:]#]/ { exit }
		inside && /^  version:/ { v = $2; gsub(/["\047]/, "", v); print v; exit }
	' "$1"
}

major_of() {
	local v=$1
	if ! [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
		echo "breaking: info.version $v is not MAJOR.MINOR.PATCH" >&2
		exit 1
	fi
	echo "${v%%.*}"
}

released=$(find openapi/released -maxdepth 1 -name 'v*.yaml' | sort -V | tail -n 1)
if [ -z "$released" ]; then
	echo "breaking: no released spec under openapi/released/ to compare with" >&2
	exit 1
fi
current_version=$(version_of openapi.yaml)
released_version=$(version_of "$released")
current_major=$(major_of "$current_version")
released_major=$(major_of "$released_version")
echo "comparing openapi.yaml ($current_version) with $released ($released_version)"

if [ "$current_major" -lt "$released_major" ]; then
	echo "breaking: openapi.yaml's major version $current_major is below the released $released_major" >&2
	exit 1
fi
if [ "$current_major" -gt "$released_major" ]; then
	echo "major version $released_major -> $current_major: breaking changes are allowed; they are:"
	oasdiff breaking --color never --allow-external-refs=false "$released" openapi.yaml
	exit 0
fi
if ! oasdiff breaking --color never --allow-external-refs=false --fail-on ERR "$released" openapi.yaml; then
	cat >&2 <<EOF
breaking: openapi.yaml breaks clients of the released $released_version (above). Make the change
compatible, or release it as a new major version: set info.version to $((released_major + 1)).0.0.
EOF
	exit 1
fi
