#!/usr/bin/env bash
# parley record and parley serve --replay against the real Postfix and Dovecot of the
# fixture: swaks (STARTTLS + AUTH) and python imaplib (STARTTLS + LOGIN + FETCH) recorded
# through the proxy, with the proxy's own certificate (--write-ca) trusted by the clients and
# the servers' verified; the recordings hold no password; they pass with `parley run` and
# fail naming their line when the server's answer changes; a replayed SMTP session accepts
# swaks sending the same message and names the line where swaks sends another recipient.
# Usage: record.sh FIXTURE_DIR PARLEY
set -uo pipefail
dir=$1
parley=$2
# shellcheck disable=SC1091
. "$dir/env"
export PASS1
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL $1"
  [[ -f "$work/err" ]] && sed "s/$PASS1/****/g; s/^/    /" "$work/err"
}
expect() {
  local want=$1 name=$2
  shift 2
  timeout 60 "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [[ $got == "$want" ]]; then ok; else bad "$name (exit $got, wanted $want)"; fi
}
stderr_has() {
  if grep -Eq -- "$2" "$work/err"; then ok; else bad "$1: stderr lacks /$2/"; fi
}
stderr_lacks() {
  if grep -Eq -- "$2" "$work/err"; then bad "$1: stderr has /$2/"; else ok; fi
}
# The port a background parley printed (FILE PATTERN), waiting at most 10 s.
port_in() {
  local i
  for i in $(seq 100); do
    if grep -q "$2" "$1" 2>/dev/null; then
      sed -n "s/.*$2 [^:]*:\([0-9][0-9]*\).*/\1/p" "$1" | head -n1
      return 0
    fi
    sleep 0.1
  done
  return 1
}
# Waits (at most 30 s) for a background process; returns its exit status.
wait_for() {
  local pid=$1 i
  for i in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null
  wait "$pid"
}
no_password() {
  if grep -rq -- "$PASS1" "$2"; then bad "$1: the password is in $2"; else ok; fi
  local b64
  b64=$(printf '\0%s\0%s' "$USER1" "$PASS1" | base64 -w0)
  if grep -rq -- "$b64" "$2"; then bad "$1: the AUTH PLAIN argument is in $2"; else ok; fi
}

# 1. swaks, STARTTLS + AUTH PLAIN, on submission: recorded as Lua.
timeout 60 "$parley" record --listen 0 --to "$HOST:$SUBMISSION_PORT" --ca "$CA_FILE" \
  --write-ca "$work/proxy-ca.pem" --sessions 1 -o "$work/swaks.lua" 2>"$work/rec1.err" &
rec=$!
pids+=("$rec")
port=$(port_in "$work/rec1.err" "listening on") || bad "record did not say its port"
swaks --server 127.0.0.1 --port "$port" --tls --tls-verify --tls-ca-path "$work/proxy-ca.pem" \
  --auth PLAIN --auth-user "$USER1" --auth-password "$PASS1" \
  --from "$USER1@$DOMAIN" --to "$USER1@$DOMAIN" >"$work/swaks1.out" 2>&1 || bad "swaks through the proxy"
wait_for "$rec" || bad "record (swaks) ended with an error: $(cat "$work/rec1.err")"
[[ -s "$work/swaks.lua" ]] && ok || bad "no swaks.lua written"
no_password swaks_lua "$work/swaks.lua"
no_password swaks_record_output "$work/rec1.err"
grep -q 's:starttls' "$work/swaks.lua" && grep -q 's:auth("PLAIN", args.user, args.password' "$work/swaks.lua" \
  && ok || bad "swaks.lua lacks starttls or auth with args"
auth=(ca="$CA_FILE" user="$USER1" password="$PASS1")
# Under --strict, and with the names of docs/vocabulary.md (an old spelling would warn).
expect 0 swaks_lua_runs "$parley" run -q --strict "$work/swaks.lua" port="$SUBMISSION_PORT" "${auth[@]}"
stderr_lacks swaks_lua_runs 'deprecated:'
# The server's behaviour changes: the recipient is refused; then AUTH is not offered at all.
sed "s/s:rcpt(\"$USER1@$DOMAIN\"/s:rcpt(\"nobody@$DOMAIN\"/" "$work/swaks.lua" >"$work/swaks_nobody.lua"
expect 1 swaks_lua_refused "$parley" run -q "$work/swaks_nobody.lua" port="$SUBMISSION_PORT" "${auth[@]}"
stderr_has swaks_lua_refused 'swaks_nobody\.lua:[0-9]+: RCPT TO:<nobody@[^>]*>: expected 250, got: 550'
expect 1 swaks_lua_no_auth "$parley" run -q "$work/swaks.lua" port="$SMTP_PORT" "${auth[@]}"
stderr_has swaks_lua_no_auth 'swaks\.lua:[0-9]+: .*expected'

# 2. python imaplib, STARTTLS + LOGIN + FETCH on Dovecot: recorded as a transcript.
timeout 60 "$parley" record --listen 0 --to "$HOST:$IMAP_PORT" --ca "$CA_FILE" \
  --write-ca "$work/proxy-ca2.pem" --sessions 1 --format transcript -o "$work/imap.transcript" \
  2>"$work/rec2.err" &
rec=$!
pids+=("$rec")
port=$(port_in "$work/rec2.err" "listening on") || bad "record (imap) did not say its port"
cat >"$work/imap.py" <<'PY'
import imaplib, os, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.starttls(ssl_context=ctx)
m.login(os.environ["USER1"], os.environ["PASS1"])
m.select("INBOX")
typ, data = m.fetch("1", "(RFC822)")
assert typ == "OK" and data and data[0], (typ, data)
m.logout()
PY
USER1=$USER1 timeout 30 python3 "$work/imap.py" "$port" "$work/proxy-ca2.pem" >"$work/py.out" 2>&1 \
  || bad "python imaplib through the proxy: $(cat "$work/py.out")"
wait_for "$rec" || bad "record (imap) ended with an error: $(cat "$work/rec2.err")"
no_password imap_transcript "$work/imap.transcript"
grep -q '=== TLS' "$work/imap.transcript" && grep -q 'LOGIN ${user} \*\*\*\*' "$work/imap.transcript" \
  && ok || bad "imap.transcript lacks the TLS point or the masked LOGIN"
expect 0 imap_transcript_runs "$parley" run -q "$work/imap.transcript" "${auth[@]}"
expect 1 imap_transcript_refused "$parley" run -q "$work/imap.transcript" ca="$CA_FILE" \
  user="$USER1" password=not-the-password
stderr_has imap_transcript_refused 'imap\.transcript:[0-9]+: expected t[0-9]+ OK .*got: t[0-9]+ NO'
# parley test takes it as a case
expect 0 imap_transcript_test "$parley" test "$work/imap.transcript" "${auth[@]}"

# 3. An SMTP session recorded as a transcript, replayed to swaks by parley serve --replay.
timeout 60 "$parley" record --listen 0 --to "$HOST:$SUBMISSION_PORT" --ca "$CA_FILE" --sessions 1 \
  --format transcript -o "$work/smtp.transcript" 2>"$work/rec3.err" &
rec=$!
pids+=("$rec")
port=$(port_in "$work/rec3.err" "listening on") || bad "record (smtp) did not say its port"
swaks_send() {  # PORT TO
  swaks --server 127.0.0.1 --port "$1" --tls --auth PLAIN --auth-user "$USER1" --auth-password "$PASS1" \
    --from "$USER1@$DOMAIN" --to "$2" --body "the same message" >"$work/swaks.out" 2>&1
}
swaks_send "$port" "bob@$DOMAIN" || bad "swaks through the proxy (smtp)"
wait_for "$rec" || bad "record (smtp) ended with an error"
no_password smtp_transcript "$work/smtp.transcript"
replay() {  # TO: replays to swaks sending to TO; leaves the replay's output in $work/err
  timeout 60 "$parley" serve -q --replay "$work/smtp.transcript" --port 0 >"$work/replay.out" 2>"$work/err" &
  local srv=$!
  pids+=("$srv")
  local p
  p=$(port_in "$work/replay.out" "replaying") || bad "serve --replay did not say its port"
  swaks_send "$p" "$1"
  local sw=$?
  wait_for "$srv"
  local st=$?
  echo "$sw $st"
}
read -r sw st < <(replay "bob@$DOMAIN")
[[ $sw == 0 && $st == 0 ]] && ok || bad "replay of the same message: swaks $sw, replay $st"
read -r sw st < <(replay "carol@$DOMAIN")
[[ $sw != 0 && $st == 1 ]] && ok || bad "replay, another recipient: swaks $sw, replay $st (wanted !0 and 1)"
stderr_has replay_deviation 'smtp\.transcript:[0-9]+: the client deviated from the transcript: expected "RCPT TO:<bob@'

echo "$passed passed, $failed failed"
((failed == 0))
