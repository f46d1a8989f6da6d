#!/usr/bin/env bash
# The ready checks (examples/checks) against the real Postfix and Dovecot of the fixture:
# configured well, every check passes; pointed at what the fixture has configured badly
# (plaintext login allowed, a certificate for another name, a too-short expiry margin), each
# such check fails and says why.
# Usage: checks.sh FIXTURE_DIR PARLEY
set -uo pipefail
dir=$1
parley=$2
checks="$(cd "$(dirname "$0")/../.." && pwd)/examples/checks"
# shellcheck disable=SC1091
. "$dir/env"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0
failed=0
check() {
  local name=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name"; sed 's/^/    /' "$out"; fi
}
has() { grep -Eq -- "$1" "$out"; }
hasnt() { ! grep -Eq -- "$1" "$out"; }

good=(host="$HOST" smtp_port="$SMTP_PORT" submission_port="$SUBMISSION_PORT"
  imap_host="$STRICT_HOST" imap_port="$IMAP_STRICT_PORT" pop3_host="$STRICT_HOST"
  pop3_port="$POP3_STRICT_PORT" smtps_port="$SMTPS_PORT" imaps_port="$IMAPS_PORT"
  pop3s_port="$POP3S_PORT" ca="$CA_FILE" sni=localhost)
"$parley" test --timeout 15 --junit "$dir/checks.xml" "$checks" "${good[@]}" >"$out" 2>&1
check "a good configuration passes every check" test $? -eq 0
check "all 33 checks ran" has "^33 passed, 0 failed, 0 skipped$"
check "JUnit of the checks is valid XML" xmllint --noout "$dir/checks.xml"
check "VRFY compared a known and an unknown user" has "VRFY and EXPN do not confirm users"

# The IMAP checks read IMAP with IMAP's framing: clean under --strict, no unread bytes.
"$parley" test --strict --timeout 15 "$checks/imap.lua" host="$STRICT_HOST" \
  imap_port="$IMAP_STRICT_PORT" ca="$CA_FILE" sni=localhost >"$out" 2>&1
check "IMAP checks pass under --strict" test $? -eq 0
check "IMAP checks: 5 passed" has "^5 passed, 0 failed, 0 skipped$"
check "IMAP checks: no unread bytes" hasnt "unread"

# The plaintext checks pointed at an implicit-TLS port say so (once), and do not wait again.
"$parley" test --timeout 9 "$checks/imap.lua" host="$HOST" imap_port="$IMAPS_PORT" >"$out" 2>&1
check "IMAP checks at IMAPS: exit 1" test $? -eq 1
check "IMAP checks at IMAPS: TLS first named" has "this port speaks TLS first: use tls=true"
check "IMAP checks at IMAPS: later cases fail at once" has "an earlier case found it"

# Plaintext IMAP and POP3 logins are allowed on the non-strict listeners.
"$parley" test --timeout 15 "$checks/imap.lua" "$checks/pop3.lua" host="$HOST" \
  imap_port="$IMAP_PORT" pop3_port="$POP3_PORT" ca="$CA_FILE" sni=localhost >"$out" 2>&1
check "plaintext logins: exit 1" test $? -eq 1
check "IMAP plaintext login caught" has "FAIL .*imap.lua: plaintext login is refused before STARTTLS"
check "IMAP explanation" has "passwords may travel in the clear"
check "POP3 plaintext login caught" has "FAIL .*pop3.lua: plaintext login is refused before STLS"

# A certificate that does not name the host, and one that expires too soon for days=.
"$parley" test --timeout 15 --filter certificate "$checks/smtp.lua" host="$HOST" \
  smtp_port="$SMTP_PORT" ca="$CA_FILE" sni=wrong.example >"$out" 2>&1
check "wrong name: caught" has "FAIL .*smtp.lua: the certificate is valid"
check "wrong name: explained" has "does not pass verification \(hostname mismatch\)"
check "wrong name: the certificate's names" has "The certificate names localhost, mail.example.test, 127.0.0.1, 127.0.0.2, not wrong.example"
check "wrong name: sni= suggested" has "check with sni=localhost"
"$parley" test --timeout 15 --filter certificate "$checks/submission.lua" host="$HOST" \
  submission_port="$SUBMISSION_PORT" ca="$CA_FILE" sni=localhost days=100000 >"$out" 2>&1
check "expiry margin: caught" has "the certificate expires in [0-9]+ days .* less than the 100000 days"

# Without the fixture's CA the certificate is not trusted.
"$parley" test --timeout 15 --filter certificate "$checks/imap.lua" host="$STRICT_HOST" \
  imap_port="$IMAP_STRICT_PORT" sni=localhost >"$out" 2>&1
check "untrusted CA: caught" has "does not pass verification"
check "untrusted CA: ca= suggested" has "not among the trusted CAs. For a private CA, check with ca=FILE"

echo "$passed passed, $failed failed"
((failed == 0))
