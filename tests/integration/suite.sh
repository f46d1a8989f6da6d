#!/usr/bin/env bash
# Runs `parley test` on integration suites with the fixture's env as NAME=VALUE arguments.
# Usage: suite.sh FIXTURE_DIR PARLEY PATH...
set -euo pipefail
dir=$1
parley=$2
shift 2
mapfile -t params < <(grep -E '^[A-Z0-9_]+=' "$dir/env" | sed -E "s/^([A-Z0-9_]+)=['\"]?([^'\"]*)['\"]?$/\1=\2/")
exec "$parley" test --timeout 30 "$@" "${params[@]}"
