#!/usr/bin/env bash
# The command line of `parley serve`: usage errors (exit 2), --fault, --script with hooks and
# NAME=VALUE arguments, a certificate profile, and Ctrl-C (SIGINT) ending it cleanly.
# Parley's own client side, run with `parley run`, checks what the mock does.
# Usage: serve_cli.sh PARLEY
set -uo pipefail
parley=$1
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT

failed=0
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok - $what"
  else
    echo "FAIL - $what"
    failed=1
  fi
}

# usage_error MESSAGE-REGEX ARGS...: parley serve ARGS must end at once with 2 and the message
usage_error() {
  local re=$1
  shift
  timeout 10 "$parley" serve "$@" >"$dir/usage.out" 2>"$dir/usage.err" </dev/null
  local rc=$?
  [[ $rc == 2 ]] && grep -Eq -- "$re" "$dir/usage.err" && return 0
  echo "# exit $rc"
  cat "$dir/usage.err"
  return 1
}
check "--tls wants none, starttls or implicit" usage_error "--tls wants none, starttls or implicit" --tls maybe
check "--user wants NAME:PASSWORD" usage_error "--user wants NAME:PASSWORD" --user alice
check "--smtp wants a port" usage_error "--smtp wants a port number" --smtp 70000
check "--fault: unknown fault" usage_error 'unknown fault "frobnicate"' --smtp 0 --fault smtp:RCPT:frobnicate
check "--fault: the form" usage_error "the form is \[PROTO:\]WHEN:WHAT" --smtp 0 --fault delay
check "--fault: unknown malformed reply" usage_error 'unknown malformed reply "wobbly"' --smtp 0 --fault greeting:malformed=wobbly
check "--script: a missing file" usage_error "cannot load the script" --smtp 0 --script "$dir/none.lua"
check "--user: names that differ only in case" usage_error "case-insensitive" \
  --smtp 0 --user alice:x --user Alice:y
check "--max-connections wants a number" usage_error "--max-connections wants a number" \
  --max-connections 0
check "--write-ca wants TLS" usage_error "no listener uses TLS" --smtp 0 --write-ca "$dir/ca.pem"
check "--write-ca is for the certificate made on the fly" usage_error "made on the fly" \
  --smtp 0 --tls implicit --cert "$dir/x.pem" --key "$dir/x.pem" --write-ca "$dir/ca.pem"


# start_serve NAME ARGS...
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
port_of() {
  sed -n "s/^parley serve: $2 listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$dir/$1.out"
}
stop_serve() { # stop_serve NAME SIGNAL
  local pid_var="${1}_pid"
  local pid=${!pid_var}
  kill "-$2" "$pid"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$pid"
  local rc=$?
  check "$1: SIG$2 ends parley serve with exit 0 (got $rc)" test "$rc" = 0
}
# client EXIT SCRIPT-TEXT NAME=VALUE...: runs a client script, checks its exit status
client() {
  local want=$1 text=$2
  shift 2
  printf '%s\n' "$text" >"$dir/client.lua"
  timeout 30 "$parley" run --timeout 5 "$dir/client.lua" "$@" >"$dir/client.out" 2>"$dir/client.err" </dev/null
  local rc=$?
  [[ $rc == "$want" ]] && return 0
  echo "# exit $rc, wanted $want"
  cat "$dir/client.out" "$dir/client.err"
  return 1
}

# --fault from the command line: a two-digit greeting on SMTP only, a delayed POP3 greeting
start_serve faults --smtp 0 --pop3 0 --user alice:pw \
  --fault smtp:greeting:malformed=two_digits --fault pop3:greeting:delay=0.3,times=1
smtp=$(port_of faults smtp)
pop3=$(port_of faults pop3)
check "the faults are listed" grep -q "smtp faults on: greeting" "$dir/faults.out"
check "smtp client fails on the two-digit greeting (exit 1)" client 1 '
local smtp = require "parley.smtp"
smtp.connect { port = tonumber(args.port) }' "port=$smtp"
check "the failure shows the malformed reply" grep -q "25 malformed reply" "$dir/client.err"
check "pop3 greeting delayed once, then prompt" client 0 '
local parley = require "parley"
local t = parley.clock()
local c = connect { port = tonumber(args.port), framing = "pop3" }
c:expect("ready", 3)
assert(parley.clock() - t >= 0.25, "delayed")
t = parley.clock()
local c2 = connect { port = tonumber(args.port), framing = "pop3" }
c2:expect("ready", 3)
assert(parley.clock() - t < 0.25, "only once")' "port=$pop3"
stop_serve faults TERM

# --script: hooks and options per protocol, NAME=VALUE arguments, the shared store
cat >"$dir/hooks.lua" <<'EOF'
local ctx = ...
assert(ctx.store and ctx.users[1] == "alice", "the script sees the store and the users")
return {
  all = { hostname = ctx.args.name },
  smtp = { on = { RCPT = function(cmd)
    if cmd.address:match("^spam@") then return "550 5.7.1 no spam, says the script" end
  end } },
}
EOF
start_serve hooks --smtp 0 --user alice:pw --script "$dir/hooks.lua" name=mx.hooks.test
smtp=$(port_of hooks smtp)
check "the script's hooks and hostname apply" client 0 '
local c = connect("127.0.0.1", tonumber(args.port))
c:expect("^mx%.hooks%.test ESMTP")
c:send("HELO x")
c:expect(250)
c:send("MAIL FROM:<a@b.example>")
c:expect(250)
c:send("RCPT TO:<spam@example.net>")
c:expect("no spam, says the script")
c:send("RCPT TO:<alice@example.net>")
c:expect(250)
c:send("QUIT")
c:expect(221)' "port=$smtp"
stop_serve hooks INT

# a certificate that fails the client's check
start_serve badcert --imap 0 --tls implicit --cert-profile expired --user alice:pw
imap=$(port_of badcert imap)
check "an expired certificate fails the check (exit 3)" client 3 '
local port = tonumber(args.port)
local first = connect { port = port, tls = true, framing = "imap", verify = false }
local pem = first.tls.cert.pem
first:close()
connect { port = port, tls = true, framing = "imap", ca_pem = pem }' "port=$imap"
check "the failure says it expired" grep -q "certificate has expired" "$dir/client.err"
stop_serve badcert TERM

# --max-connections: a flood gets an orderly "too busy" (421 / * BYE / -ERR) and is closed,
# while a client within the limit is served in under 1 s.
start_serve flood --user alice:pw --max-connections 4
check "the limit is in the start-up lines" grep -q "at most 4 connections at once" "$dir/flood.out"
check "a flood over --max-connections gets 421 / * BYE / -ERR, and a client is served meanwhile" \
  timeout 60 python3 - "$(port_of flood smtp)" "$(port_of flood imap)" "$(port_of flood pop3)" <<'EOF2'
import socket, sys, time
smtp, imap, pop3 = (int(p) for p in sys.argv[1:4])
def first_line(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    data = b""
    while b"\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return s, data.decode()
held = [first_line(smtp)[0] for _ in range(3)]  # 3 of the 4 places
refused = {"421": 0, "* BYE": 0, "-ERR": 0}
for _ in range(20):  # bounded flood
    for port in (smtp, imap, pop3):
        s, line = first_line(port)
        for k in refused:
            if line.startswith(k):
                refused[k] += 1
        if line.startswith("220") or line.startswith("* OK") or line.startswith("+OK"):
            held.append(s)  # the last free place went to the flood
        else:
            assert s.recv(100) == b"", "closed after the refusal"
            s.close()
assert refused["421"] >= 19 and refused["* BYE"] >= 19 and refused["-ERR"] >= 19, refused
assert "too many connections" in first_line(smtp)[1]
for s in held:
    s.close()
time.sleep(0.3)
t = time.monotonic()
s, line = first_line(imap)
assert line.startswith("* OK"), line
s.sendall(b"a LOGIN alice pw\r\n")
assert s.recv(4096).startswith(b"a OK")
assert time.monotonic() - t < 1, "served within 1 s"
EOF2
stop_serve flood TERM

if ((failed)); then
  for f in "$dir"/*.out "$dir"/*.err; do
    echo "--- $f"
    cat "$f"
  done
  exit 1
fi
echo "all serve command-line checks passed"
