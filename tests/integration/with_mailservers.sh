#!/usr/bin/env bash
# Runs a conversation test against the real Postfix and Dovecot started by the fixture:
# every variable of DIR/env becomes a NAME=VALUE argument of the script (args.SMTP_PORT,
# args.CA_FILE, args.USER1, args.PASS1 (a secret: its name says so), ...).
# Usage: with_mailservers.sh FIXTURE_DIR PARLEY SCRIPT
set -euo pipefail
dir=$1
parley=$2
script=$3
if [[ ! -f "$dir/env" ]]; then
  echo "the mail servers are not running (no $dir/env): the fixture test failed to start them" >&2
  exit 1
fi
mapfile -t params < <(grep -E '^[A-Z0-9_]+=' "$dir/env" | sed -E "s/^([A-Z0-9_]+)=['\"]?([^'\"]*)['\"]?$/\1=\2/")
exec "$(dirname "$0")/../run_conversation.sh" "$parley" "$script" "${params[@]}"
