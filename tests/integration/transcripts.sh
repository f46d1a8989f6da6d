#!/usr/bin/env bash
# Transcripts that run, against the real Postfix and Dovecot of the fixture: the guide-style
# sessions of examples/transcripts/ through `parley run` and `parley test`, a swaks transcript
# (STARTTLS + AUTH, password hidden by swaks), parley's own -v transcript with --exact, and
# the failures: a refused recipient names the transcript's line, wrong credentials too.
# Usage: transcripts.sh FIXTURE_DIR PARLEY
set -uo pipefail
dir=$1
parley=$2
root="$(cd "$(dirname "$0")/../.." && pwd)"
ex="$root/examples/transcripts"
# shellcheck disable=SC1091
. "$dir/env"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL $1"
  [[ -f "$work/err" ]] && sed "s/$PASS1/****/g; s/^/    /" "$work/err"
}
# expect STATUS NAME COMMAND...: the command must exit with STATUS
expect() {
  local want=$1 name=$2
  shift 2
  timeout 60 "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [[ $got == "$want" ]]; then ok; else bad "$name (exit $got, wanted $want)"; fi
}
# stderr_has NAME REGEX
stderr_has() {
  if grep -Eq -- "$2" "$work/err"; then ok; else bad "$1: stderr lacks /$2/"; fi
}

common=(host="$HOST" ca="$CA_FILE" user="$USER1" password="$PASS1")
# A message for alice first: the POP3 and IMAP sessions fetch message 1.
expect 0 smtp_plain "$parley" run -q "$ex/smtp_plain.transcript" host="$HOST" port="$SMTP_PORT" \
  from=someone@elsewhere.example to=alice@"$DOMAIN"
expect 0 smtp_auth_login "$parley" run -q "$ex/smtp_auth_login.transcript" "${common[@]}" \
  port="$SUBMISSION_PORT" from=alice@"$DOMAIN" to=bob@"$DOMAIN"
expect 0 smtp_starttls "$parley" run -q "$ex/smtp_starttls.transcript" "${common[@]}" \
  port="$SUBMISSION_PORT" from=alice@"$DOMAIN" to=bob@"$DOMAIN"
expect 0 pop3_retr "$parley" run -q "$ex/pop3_retr.transcript" "${common[@]}" port="$POP3_PORT"
expect 0 imap_fetch "$parley" run -q "$ex/imap_fetch.transcript" "${common[@]}" port="$IMAP_PORT"
# The run's own transcript masks the password it replayed.
expect 0 pop3_masked "$parley" run "$ex/pop3_retr.transcript" "${common[@]}" port="$POP3_PORT"
if grep -q -- "$PASS1" "$work/err"; then bad "pop3_masked: the password shows in the transcript"; else ok; fi

# parley test: the folder, one case per transcript, ports by protocol.
expect 0 parley_test "$parley" test --junit "$work/junit.xml" "$ex" "${common[@]}" \
  smtp_port="$SMTP_PORT" submission_port="$SUBMISSION_PORT" pop3_port="$POP3_PORT" \
  imap_port="$IMAP_PORT" from=alice@"$DOMAIN" to=alice@"$DOMAIN"
if [[ $(grep -c '<testcase ' "$work/junit.xml") == 5 ]]; then ok; else bad "parley_test: 5 cases in the JUnit report"; fi

# Server behaviour changed: the recipient is refused now. Exit 1, the transcript's line named.
expect 1 refused_rcpt "$parley" run -q "$ex/smtp_plain.transcript" host="$HOST" port="$SMTP_PORT" \
  from=someone@elsewhere.example to=nobody@"$DOMAIN"
stderr_has refused_rcpt 'smtp_plain\.transcript:10: expected 250 .*got: 550 5\.1\.1'
stderr_has refused_rcpt 'meaning: 550'
expect 1 wrong_password "$parley" run -q "$ex/imap_fetch.transcript" host="$HOST" port="$IMAP_PORT" \
  user="$USER1" password=not-the-password
stderr_has wrong_password 'imap_fetch\.transcript:6: expected t1 OK .*got: t1 NO'
expect 2 masked_needs_password "$parley" run -q "$ex/smtp_auth_login.transcript" host="$HOST" \
  port="$SUBMISSION_PORT" ca="$CA_FILE" from=alice@"$DOMAIN" to=bob@"$DOMAIN"
stderr_has masked_needs_password 'masked .*password='

# swaks's transcript (STARTTLS, AUTH PLAIN with --auth-hide-password): replayed with password=.
if command -v swaks >/dev/null; then
  swaks --server "$HOST" --port "$SUBMISSION_PORT" --tls --tls-ca-path "$CA_FILE" --auth PLAIN \
    --auth-user "$USER1" --auth-password "$PASS1" --auth-hide-password \
    --from alice@"$DOMAIN" --to bob@"$DOMAIN" >"$work/swaks.txt" 2>&1 || bad "swaks itself failed"
  expect 0 swaks_replay "$parley" run -q "$work/swaks.txt" port="$SUBMISSION_PORT" ca="$CA_FILE" \
    password="$PASS1"
  sed -i "s/bob@$DOMAIN/nobody@$DOMAIN/" "$work/swaks.txt"
  expect 1 swaks_changed "$parley" run -q "$work/swaks.txt" port="$SUBMISSION_PORT" ca="$CA_FILE" \
    password="$PASS1"
  stderr_has swaks_changed 'swaks\.txt:[0-9]+: expected 250 .*got: 550'
else
  bad "swaks is not installed (scripts/install-deps --test installs it)"
fi

# parley's own transcript, with -v timestamps, runs again, text compared with --exact.
"$parley" run -v --transcript "$work/own.txt" "$ex/smtp_plain.transcript" host="$HOST" \
  port="$SMTP_PORT" from=someone@elsewhere.example to=alice@"$DOMAIN" >/dev/null 2>&1
expect 0 own_exact "$parley" run -q --exact "$work/own.txt"
sed -i 's/<- 250 2.1.0 Ok/<- 250 2.1.0 Okay/' "$work/own.txt"
expect 1 own_exact_changed "$parley" run -q --exact "$work/own.txt"
stderr_has own_exact_changed 'own\.txt:[0-9]+: expected the text'

echo "$passed passed, $failed failed"
((failed == 0))
