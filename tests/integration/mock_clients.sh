#!/usr/bin/env bash
# Real clients against `parley serve`: swaks sends mail through the SMTP mock (plain, and with
# STARTTLS + AUTH PLAIN), curl sends one over SMTPS, curl reads the mail back over IMAP and POP3
# (plain and STARTTLS) and deletes it, and SIGTERM stops the server cleanly (exit 0).
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
start_serve plain --tls starttls --user "alice:$pass" --user bob:other
smtp=$(port_of plain smtp)
pop3=$(port_of plain pop3)
imap=$(port_of plain imap)
echo "# ports: smtp $smtp, pop3 $pop3, imap $imap"

swaks_send() { # swaks_send OUTFILE ARGS...
  local out=$1
  shift
  timeout 30 swaks --server 127.0.0.1 --port "$smtp" --from carol@example.org \
    --helo client.example "$@" >"$out" 2>&1
}
check "swaks sends a message in the clear" \
  swaks_send "$dir/swaks1" --to alice@example.net --header "Subject: plain one" \
  --body $'first message\n.leading dot\nend'
check "swaks: queued" grep -q "250 2.0.0 Ok: queued as" "$dir/swaks1"
check "swaks sends with STARTTLS and AUTH PLAIN" \
  swaks_send "$dir/swaks2" --to alice@other.example --tls --auth PLAIN --auth-user alice \
  --auth-password "$pass" --header "Subject: over tls" --body "second message"
check "swaks: STARTTLS and AUTH happened" \
  grep -q "235 2.7.0 Authentication successful" "$dir/swaks2"
swaks_send "$dir/swaks3" --to nobody@example.net --header "Subject: lost"
check "swaks: an unknown recipient is refused with 550 5.1.1" grep -q "550 5.1.1" "$dir/swaks3"
check "swaks: a wrong password is refused with 535" \
  bash -c "! timeout 30 swaks --server 127.0.0.1 --port $smtp --to alice@example.net --tls \
    --auth PLAIN --auth-user alice --auth-password wrong >'$dir/swaks4' 2>&1"
check "swaks: 535" grep -q "535 5.7.8" "$dir/swaks4"

curl_get() { # curl_get OUTFILE URL ARGS...
  local out=$1 url=$2
  shift 2
  timeout 30 curl -sS --max-time 20 -u "alice:$pass" "$url" "$@" >"$out" 2>"$out.err"
}
check "curl IMAP fetches UID 1" curl_get "$dir/imap1" "imap://127.0.0.1:$imap/INBOX;UID=1"
check "curl IMAP: the body, dot-unstuffed" grep -q "^\.leading dot" "$dir/imap1"
check "curl IMAP: the subject" grep -q "^Subject: plain one" "$dir/imap1"
check "curl IMAP over STARTTLS fetches UID 2" \
  curl_get "$dir/imap2" "imap://127.0.0.1:$imap/INBOX;UID=2" --ssl-reqd -k
check "curl IMAP: the second message" grep -q "second message" "$dir/imap2"
check "curl POP3 retrieves message 1" curl_get "$dir/pop1" "pop3://127.0.0.1:$pop3/1"
check "curl POP3: the body" grep -q "^\.leading dot" "$dir/pop1"
check "curl POP3 over STLS retrieves message 2" \
  curl_get "$dir/pop2" "pop3://127.0.0.1:$pop3/2" --ssl-reqd -k
check "curl POP3: the second message" grep -q "second message" "$dir/pop2"
check "curl: a wrong password is refused" \
  bash -c "! timeout 30 curl -sS --max-time 20 -u alice:wrong 'imap://127.0.0.1:$imap/INBOX;UID=1' >/dev/null 2>&1"

# delete UID 1 over IMAP, then what is left (UID 2, message 1 now) over POP3
check "curl IMAP flags UID 1 \\Deleted" \
  curl_get "$dir/store" "imap://127.0.0.1:$imap/INBOX" -X 'UID STORE 1 +FLAGS (\Deleted)'
check "curl IMAP: the flag is set" grep -q 'FLAGS (\\Deleted' "$dir/store"
check "curl IMAP expunges" curl_get "$dir/expunge" "imap://127.0.0.1:$imap/INBOX" -X EXPUNGE
check "curl IMAP: one message expunged" grep -q '^\* 1 EXPUNGE' "$dir/expunge"
check "curl IMAP searches" curl_get "$dir/search" "imap://127.0.0.1:$imap/INBOX" -X 'UID SEARCH ALL'
check "curl IMAP: UID 2 is left" grep -q '^\* SEARCH 2' "$dir/search"
check "curl POP3 deletes message 1" curl_get "$dir/dele" "pop3://127.0.0.1:$pop3/1" -X DELE -I
check "curl POP3 lists" curl_get "$dir/list" "pop3://127.0.0.1:$pop3/"
check "curl POP3: the mailbox is empty" bash -c "! grep -q '^[0-9]' '$dir/list'"

check "the log has a line per connection" grep -q "^smtp 1: connection from 127.0.0.1:" "$dir/plain.out"
check "the log has a line per command" grep -q "^imap [0-9]*: A[0-9]* UID STORE 1" "$dir/plain.out"
check "the log never shows the password" bash -c "! grep -q -- '$pass' '$dir/plain.out' '$dir/plain.err'"
stop_serve plain

# Implicit TLS: curl submits over SMTPS with AUTH, reads over IMAPS and POP3S.
start_serve implicit --tls implicit --user "alice:$pass"
smtp=$(port_of implicit smtp)
pop3=$(port_of implicit pop3)
imap=$(port_of implicit imap)
printf 'From: carol@example.org\r\nTo: alice@example.net\r\nSubject: smtps\r\n\r\nthird message\r\n' \
  >"$dir/msg.txt"
check "curl sends over SMTPS with AUTH" \
  timeout 30 curl -sS --max-time 20 -k "smtps://127.0.0.1:$smtp" -u "alice:$pass" \
  --mail-from carol@example.org --mail-rcpt alice@example.net --upload-file "$dir/msg.txt"
check "curl IMAPS fetches it" curl_get "$dir/imaps" "imaps://127.0.0.1:$imap/INBOX;UID=1" -k
check "curl IMAPS: the message" grep -q "third message" "$dir/imaps"
check "curl POP3S retrieves it" curl_get "$dir/pop3s" "pop3s://127.0.0.1:$pop3/1" -k
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
