#!/usr/bin/env bash
# Runs every example in examples/ against the real Postfix and Dovecot of the fixture, with
# --strict: each must succeed, without a deprecation warning (they use the current names). The
# examples are what users copy; they must keep working.
# Usage: examples.sh FIXTURE_DIR PARLEY
set -uo pipefail
dir=$1
parley=$2
examples="$(cd "$(dirname "$0")/../.." && pwd)/examples"
# shellcheck disable=SC1091
. "$dir/env"
passed=0
failed=0
run() {
  local name=$1
  shift
  # Under --strict an old spelling warns: the examples use the names of docs/vocabulary.md.
  if timeout 60 "$parley" run -q --strict "$examples/$name" "$@" >/dev/null 2>"$dir/example.err" &&
    ! grep -q "deprecated:" "$dir/example.err"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name $(echo "$*" | sed "s/$PASS1/****/g")"
    sed 's/^/    /' "$dir/example.err"
  fi
}
auth=(ca="$CA_FILE" user="$USER1" password="$PASS1")
run smtp_submit.lua host="$HOST" port="$SUBMISSION_PORT" "${auth[@]}" mech=PLAIN to=bob@"$DOMAIN" from=alice@"$DOMAIN"
run smtp_submit.lua host="$HOST" port="$SUBMISSION_PORT" "${auth[@]}" mech=LOGIN to=bob@"$DOMAIN" from=alice@"$DOMAIN"
run smtp_submit.lua host="$HOST" port="$SUBMISSION_PORT" "${auth[@]}" mech=scram-sha-256 to=bob@"$DOMAIN" from=alice@"$DOMAIN"
run smtp_submit.lua host="$HOST" port="$SUBMISSION_PORT" "${auth[@]}" mech=CRAM-MD5 to=bob@"$DOMAIN" from=alice@"$DOMAIN"
run smtp_submit.lua host="$HOST" port="$SMTP_PORT" tls=none to=bob@"$DOMAIN" from=someone@elsewhere.example
run smtp_implicit_tls.lua host="$HOST" port="$SMTPS_PORT" "${auth[@]}" to=bob@"$DOMAIN"
run smtp_dsn.lua host="$HOST" port="$SUBMISSION_PORT" "${auth[@]}" from=alice@"$DOMAIN" to=bob@"$DOMAIN"
run smtp_open_relay.lua host="$HOST" port="$SMTP_PORT" local_rcpt=postmaster@"$DOMAIN"
run smtp_commands.lua host="$HOST" port="$SMTP_PORT" user="$USER1"
run smtp_auth_requires_tls.lua host="$HOST" port="$SUBMISSION_PORT" ca="$CA_FILE"
run pop3_login.lua host="$HOST" port="$POP3_PORT" "${auth[@]}"
run pop3_login.lua host="$HOST" port="$POP3S_PORT" tls=implicit "${auth[@]}" mech=SCRAM-SHA-256
run pop3_login.lua host="$STRICT_HOST" port="$POP3_STRICT_PORT" "${auth[@]}"
run imap_login.lua host="$HOST" port="$IMAP_PORT" "${auth[@]}"
run imap_login.lua host="$HOST" port="$IMAPS_PORT" tls=implicit "${auth[@]}" mech=CRAM-MD5
run imap_login.lua host="$STRICT_HOST" port="$IMAP_STRICT_PORT" "${auth[@]}"
run submit_idle_fetch.lua host="$HOST" smtp_port="$SUBMISSION_PORT" imap_port="$IMAP_PORT" "${auth[@]}" to=alice@"$DOMAIN"
run load_delivery_latency.lua host="$HOST" smtp_port="$SUBMISSION_PORT" imap_port="$IMAP_PORT" "${auth[@]}" to=alice@"$DOMAIN"
run lmtp_deliver.lua path="$LMTP_SOCKET" to=alice@"$DOMAIN",bob@"$DOMAIN",nobody@"$DOMAIN"
echo "$passed passed, $failed failed"
((failed == 0))
