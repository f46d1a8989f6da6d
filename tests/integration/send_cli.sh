#!/usr/bin/env bash
# parley send against the real Postfix submission port: STARTTLS + AUTH, the message read back
# over IMAP; --script prints a script that `parley run` turns into the same submission; the
# password never shows; exit statuses 1 (refused), 2 (usage), 3 (network); --quit-after.
# Usage: send_cli.sh FIXTURE_DIR PARLEY
set -uo pipefail
dir=$1
parley=$2
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck disable=SC1091
. "$dir/env"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s\n' "$PASS1" >"$work/pw"
failed=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; sed 's/^/    /' "$work/out" | sed "s/$PASS1/<PASSWORD>/g"; failed=1; }
has() { grep -Eq -- "$1" "$work/out"; }
readback() {  # readback TOKEN: alice's INBOX holds a message with TOKEN in its Subject
  timeout 60 "$parley" run -q "$here/../cli/imap_has_message.lua" host="$HOST" port="$IMAP_PORT" \
    ca="$CA_FILE" user="$USER1" password="$PASS1" subject="$1" >"$work/imap" 2>&1
}
token="t$$x$RANDOM"
common=(-s "$HOST:$SUBMISSION_PORT" --starttls --ca "$CA_FILE" -f "alice@$DOMAIN" -t "alice@$DOMAIN")

# 1. The swaks line: STARTTLS, AUTH PLAIN, password from a file.
timeout 60 "$parley" send "${common[@]}" --auth PLAIN -u "$USER1" --password-file "$work/pw" \
  --subject "send $token" --header "X-Parley: one-liner" --body "hello from parley send" \
  </dev/null >"$work/out" 2>&1
rc=$?
if [[ $rc == 0 ]] && has '~> AUTH PLAIN \*\*\*\*' && has '<~ 235' && has '^sent' && ! grep -q "$PASS1" "$work/out"; then
  ok "send with STARTTLS and AUTH PLAIN (exit 0, password masked)"
else bad "send with STARTTLS and AUTH PLAIN (exit $rc)"; fi
if readback "send $token"; then ok "the message is in alice's INBOX (read back over IMAP)"
else cp "$work/imap" "$work/out"; bad "the message is in alice's INBOX"; fi

# 2. --script: the same submission as a script; parley run delivers it too.
timeout 30 "$parley" send "${common[@]}" --auth -u "$USER1" --subject "script $token" \
  --attach "$here/../cli/imap_has_message.lua" --dsn SUCCESS,FAILURE --size --8bit \
  --script >"$work/send.lua" 2>"$work/out"
rc=$?
cp "$work/send.lua" "$work/out"
if [[ $rc == 0 ]] && has 's:starttls' && has 's:auth\(nil, "alice", password\)' && ! grep -q "$PASS1" "$work/send.lua"; then
  ok "--script prints the script (no password in it)"
else bad "--script prints the script (exit $rc)"; fi
PARLEY_PASSWORD="$PASS1" timeout 60 "$parley" run --strict "$work/send.lua" >"$work/out" 2>&1
rc=$?
if [[ $rc == 0 ]] && has 'NOTIFY=SUCCESS,FAILURE' && has 'SIZE=[0-9]+' && has 'BODY=8BITMIME' &&
  ! grep -q "deprecated:" "$work/out"; then
  ok "parley run of the --script output submits (exit 0)"
else bad "parley run of the --script output (exit $rc)"; fi
if readback "script $token"; then ok "the script's message is in alice's INBOX"
else cp "$work/imap" "$work/out"; bad "the script's message is in alice's INBOX"; fi

# 3. Password from the environment; LOGIN.
PARLEY_PASSWORD="$PASS1" timeout 60 "$parley" send "${common[@]}" --auth LOGIN -u "$USER1" \
  --subject "env $token" </dev/null >"$work/out" 2>&1
rc=$?
if [[ $rc == 0 ]] && has 'AUTH LOGIN' && ! grep -q "$PASS1" "$work/out"; then ok "PARLEY_PASSWORD and AUTH LOGIN"
else bad "PARLEY_PASSWORD and AUTH LOGIN (exit $rc)"; fi

# 4. Exit statuses.
printf 'wrong-password\n' >"$work/badpw"
timeout 60 "$parley" send "${common[@]}" --auth PLAIN -u "$USER1" --password-file "$work/badpw" \
  </dev/null >"$work/out" 2>&1
rc=$?
if [[ $rc == 1 ]] && has '535'; then ok "a wrong password: exit 1 with the 535"; else bad "a wrong password (exit $rc)"; fi
timeout 30 "$parley" send -s "$HOST:$SUBMISSION_PORT" -f "alice@$DOMAIN" </dev/null >"$work/out" 2>&1
rc=$?
if [[ $rc == 2 ]] && has 'who to'; then ok "no --to: exit 2"; else bad "no --to (exit $rc)"; fi
timeout 30 "$parley" send "${common[@]}" --auth -u "$USER1" </dev/null >"$work/out" 2>&1
rc=$?
if [[ $rc == 2 ]] && has 'needs a password'; then ok "no password and no terminal: exit 2"; else bad "no password (exit $rc)"; fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 30 "$parley" send -s "127.0.0.1:$port" -f a@b.test -t c@d.test </dev/null >"$work/out" 2>&1
rc=$?
if [[ $rc == 3 ]]; then ok "nobody listening: exit 3"; else bad "nobody listening (exit $rc)"; fi
timeout 30 "$parley" send -s "$HOST:$SMTP_PORT" -f "someone@elsewhere.test" -t "x@elsewhere.test" \
  </dev/null >"$work/out" 2>&1
rc=$?
if [[ $rc == 1 ]] && has '554 5.7.1'; then ok "relaying refused: exit 1"; else bad "relaying refused (exit $rc)"; fi

# 5. --quit-after RCPT: the envelope is tried, no DATA.
timeout 30 "$parley" send -s "$HOST:$SMTP_PORT" -f "x@elsewhere.test" -t "alice@$DOMAIN" \
  --quit-after RCPT </dev/null >"$work/out" 2>&1
rc=$?
if [[ $rc == 0 ]] && has '-> RCPT TO:<alice@' && has '-> QUIT' && ! has '-> DATA'; then
  ok "--quit-after RCPT"
else bad "--quit-after RCPT (exit $rc)"; fi
exit $failed
