#!/usr/bin/env bash
# Real clients against `parley serve`: swaks sends mail through the SMTP mock (plain, and with
# STARTTLS + AUTH PLAIN), curl sends one over SMTPS, curl reads the mail back over IMAP and POP3
# (STARTTLS) and deletes it, python's smtplib, imaplib and poplib send and read one; every TLS
# client verifies the certificate through the file --write-ca wrote, and logins in the clear
# are refused. SIGTERM stops the server cleanly (exit 0).
# Everything on 127.0.0.1, kernel-chosen ports, every wait bounded.
# Usage: mock_clients.sh PARLEY
set -uo pipefail
parley=$1
for tool in swaks curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed (scripts/fixture/mailservers install)"
    exit 77
  fi
done

dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT

failed=0
check() { # check DESCRIPTION COMMAND...: runs the command, records a failure
  local what=$1
  shift
  if "$@"; then
    echo "ok - $what"
  else
    echo "FAIL - $what"
    failed=1
  fi
}

# start_serve NAME ARGS...: starts parley serve, waits (at most 10 s) for its listeners.
start_serve() {
  local name=$1
  shift
  "$parley" serve "$@" >"$dir/$name.out" 2>"$dir/$name.err" </dev/null &
  pids+=($!)
  eval "${name}_pid=$!"
  for _ in $(seq 100); do
    grep -q "parley serve: users:" "$dir/$name.out" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "FAIL - parley serve $* did not start"
  cat "$dir/$name.out" "$dir/$name.err"
  exit 1
}
port_of() { # port_of NAME PROTO
  sed -n "s/^parley serve: $2 listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$dir/$1.out"
}
# stop_serve NAME: SIGTERM, then at most 10 s for a clean exit 0.
stop_serve() {
  local name=$1 pid_var="${1}_pid"
  local pid=${!pid_var}
  kill -TERM "$pid"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$pid"
  local rc=$?
  check "$name: SIGTERM ends parley serve with exit 0 (got $rc)" test "$rc" = 0
  check "$name: says it stopped" grep -q "^parley serve: stopped" "$dir/$name.out"
}

pass='Pw-9f3kQ'
ca="$dir/ca.pem"
start_serve plain --tls starttls --user "alice:$pass" --user bob:other --write-ca "$ca"
smtp=$(port_of plain smtp)
pop3=$(port_of plain pop3)
imap=$(port_of plain imap)
echo "# ports: smtp $smtp, pop3 $pop3, imap $imap"
check "the start-up lines say where the CA is" grep -q "CA of the TLS certificate is in $ca" "$dir/plain.out"
check "the CA file is a certificate" grep -q "BEGIN CERTIFICATE" "$ca"

swaks_send() { # swaks_send OUTFILE ARGS...
  local out=$1
  shift
  timeout 30 swaks --server 127.0.0.1 --port "$smtp" --from carol@example.org \
    --helo client.example "$@" >"$out" 2>&1
}
check "swaks sends a message in the clear (no AUTH)" \
  swaks_send "$dir/swaks1" --to alice@example.net --header "Subject: plain one" \
  --body $'first message\n.leading dot\nend'
check "swaks: queued" grep -q "250 2.0.0 Ok: queued as" "$dir/swaks1"
check "swaks sends with STARTTLS, verifying the certificate through the CA file, and AUTH PLAIN" \
  swaks_send "$dir/swaks2" --to alice@other.example --tls --tls-verify --tls-ca-path "$ca" \
  --auth PLAIN --auth-user alice --auth-password "$pass" --header "Subject: over tls" \
  --body "second message"
check "swaks: STARTTLS and AUTH happened" \
  grep -q "235 2.7.0 Authentication successful" "$dir/swaks2"
check "swaks: AUTH in the clear is refused (not offered before STARTTLS)" \
  bash -c "! timeout 30 swaks --server 127.0.0.1 --port $smtp --to alice@example.net \
    --auth PLAIN --auth-user alice --auth-password '$pass' >'$dir/swaks5' 2>&1"
check "swaks: no 235 in the clear" bash -c "! grep -q '^<-  235' '$dir/swaks5'"
swaks_send "$dir/swaks3" --to nobody@example.net --header "Subject: lost"
check "swaks: an unknown recipient is refused with 550 5.1.1" grep -q "550 5.1.1" "$dir/swaks3"
check "swaks: a wrong password is refused with 535" \
  bash -c "! timeout 30 swaks --server 127.0.0.1 --port $smtp --to alice@example.net --tls \
    --tls-verify --tls-ca-path '$ca' --auth PLAIN --auth-user alice --auth-password wrong \
    >'$dir/swaks4' 2>&1"
check "swaks: 535" grep -q "535 5.7.8" "$dir/swaks4"

curl_get() { # curl_get OUTFILE URL ARGS...: over STARTTLS, the certificate checked
  local out=$1 url=$2
  shift 2
  timeout 30 curl -sS --max-time 20 -u "alice:$pass" --ssl-reqd --cacert "$ca" "$url" "$@" \
    >"$out" 2>"$out.err"
}
check "curl IMAP in the clear cannot log in (LOGINDISABLED)" \
  bash -c "! timeout 30 curl -sS --max-time 20 -u 'alice:$pass' 'imap://127.0.0.1:$imap/INBOX;UID=1' >/dev/null 2>&1"
check "curl POP3 in the clear cannot log in" \
  bash -c "! timeout 30 curl -sS --max-time 20 -u 'alice:$pass' 'pop3://127.0.0.1:$pop3/1' >/dev/null 2>&1"
check "curl without the CA refuses the certificate (exit 60)" \
  bash -c "timeout 30 curl -sS --max-time 20 -u 'alice:$pass' --ssl-reqd 'imap://127.0.0.1:$imap/INBOX;UID=1' >/dev/null 2>&1; test \$? = 60"
check "curl IMAP over STARTTLS fetches UID 1" curl_get "$dir/imap1" "imap://127.0.0.1:$imap/INBOX;UID=1"
check "curl IMAP: the body, dot-unstuffed" grep -q "^\.leading dot" "$dir/imap1"
check "curl IMAP: the subject" grep -q "^Subject: plain one" "$dir/imap1"
check "curl IMAP over STARTTLS fetches UID 2" curl_get "$dir/imap2" "imap://127.0.0.1:$imap/INBOX;UID=2"
check "curl IMAP: the second message" grep -q "second message" "$dir/imap2"
check "curl POP3 over STLS retrieves message 1" curl_get "$dir/pop1" "pop3://127.0.0.1:$pop3/1"
check "curl POP3: the body" grep -q "^\.leading dot" "$dir/pop1"
check "curl POP3 over STLS retrieves message 2" curl_get "$dir/pop2" "pop3://127.0.0.1:$pop3/2"
check "curl POP3: the second message" grep -q "second message" "$dir/pop2"
check "curl: a wrong password is refused" \
  bash -c "! timeout 30 curl -sS --max-time 20 -u alice:wrong --ssl-reqd --cacert '$ca' 'imap://127.0.0.1:$imap/INBOX;UID=1' >/dev/null 2>&1"

# Python's clients, each verifying the certificate through the CA file
check "python smtplib, imaplib and poplib send and read mail over STARTTLS (verified)" \
  timeout 60 python3 - "$ca" "$smtp" "$imap" "$pop3" other <<'PYEOF'
import imaplib, poplib, smtplib, ssl, sys
ca, smtp, imap, pop3, pw = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
s = smtplib.SMTP("localhost", smtp, timeout=10)
s.ehlo()
assert not s.has_extn("auth"), "AUTH offered in the clear"
try:
    s.login("bob", pw)
    raise SystemExit("login in the clear accepted")
except smtplib.SMTPNotSupportedError:
    pass
s.starttls(context=ctx)
s.ehlo()
assert s.has_extn("auth")
s.login("bob", pw)
s.sendmail("carol@example.org", ["bob@example.net"], "Subject: from python\r\n\r\npython body\r\n")
s.quit()
m = imaplib.IMAP4("localhost", imap, timeout=10)
assert "LOGINDISABLED" in m.capabilities, m.capabilities
m.starttls(ssl_context=ctx)
m.login("bob", pw)
m.select("INBOX")
typ, data = m.search(None, "SUBJECT", "python")
assert typ == "OK" and data[0], data
typ, msg = m.fetch(data[0].split()[-1], "(RFC822)")
assert b"python body" in msg[0][1], msg
m.logout()
p = poplib.POP3("localhost", pop3, timeout=10)
try:
    p.user("bob")
    raise SystemExit("USER in the clear accepted")
except poplib.error_proto:
    pass
p.stls(context=ctx)
p.user("bob")
p.pass_(pw)
count, _ = p.stat()
resp, lines, _ = p.retr(count)
assert b"python body" in b"\n".join(lines), lines
p.quit()
PYEOF

# Implicit TLS: curl submits over SMTPS with AUTH, reads over IMAPS and POP3S.
start_serve implicit --tls implicit --user "alice:$pass" --write-ca "$dir/ca2.pem"
smtp=$(port_of implicit smtp)
pop3=$(port_of implicit pop3)
imap=$(port_of implicit imap)
printf 'From: carol@example.org\r\nTo: alice@example.net\r\nSubject: smtps\r\n\r\nthird message\r\n' \
  >"$dir/msg.txt"
check "curl sends over SMTPS with AUTH" \
  timeout 30 curl -sS --max-time 20 --cacert "$dir/ca2.pem" "smtps://127.0.0.1:$smtp" -u "alice:$pass" \
  --mail-from carol@example.org --mail-rcpt alice@example.net --upload-file "$dir/msg.txt"
check "curl IMAPS fetches it" curl_get "$dir/imaps" "imaps://127.0.0.1:$imap/INBOX;UID=1" --cacert "$dir/ca2.pem"
check "curl IMAPS: the message" grep -q "third message" "$dir/imaps"
check "curl POP3S retrieves it" curl_get "$dir/pop3s" "pop3s://127.0.0.1:$pop3/1" --cacert "$dir/ca2.pem"
check "curl POP3S: the message" grep -q "third message" "$dir/pop3s"
stop_serve implicit

if ((failed)); then
  for f in "$dir"/*.out "$dir"/*.err; do
    echo "--- $f"
    cat "$f"
  done
  exit 1
fi
echo "all mock client checks passed"
