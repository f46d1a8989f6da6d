#!/usr/bin/env bash
# `parley serve` out of file descriptors: under `ulimit -n 40` clients connect until the mock
# cannot accept any more (the kernel still completes their handshakes; they get no greeting).
# The connections it has keep working; its log says why accepting failed; once clients go
# away it accepts again, and a new client gets its greeting. SIGTERM still ends it with 0.
# Usage: mock_fd_limit.sh PARLEY
set -uo pipefail
parley=$1
# UBSan cannot run out of descriptors: its vptr check finds out whether memory is readable by
# writing it to a pipe, so with no descriptor left pipe() fails and a sound object is reported
# as having an "invalid vptr" ("memory cannot be printed"); built with -fno-sanitize-recover the
# process then dies. The release build runs this test (and so does an ASan-only build).
if grep -aq __ubsan_handle_dynamic_type_cache_miss "$parley"; then
  echo "SKIP: UBSan's vptr check needs free descriptors (a false report under ulimit -n)"
  exit 77
fi
dir=$(mktemp -d)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

# --max-connections above the descriptors: this test is about running out of them (by default
# the limit is half the descriptors, and a flood gets 421 instead: see serve_cli.sh)
(ulimit -n 40 && exec "$parley" serve --smtp 0 --user alice:pw --max-connections 1000) >"$dir/out" 2>"$dir/err" </dev/null &
pid=$!
for _ in $(seq 100); do
  grep -q "parley serve: users:" "$dir/out" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/^parley serve: smtp listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/out")
if [[ -z "$port" ]]; then
  echo "FAIL: parley serve did not start"
  cat "$dir/out" "$dir/err"
  exit 1
fi

timeout 60 python3 - "$port" <<'EOF'
import socket, sys, time

port = int(sys.argv[1])

def greeting(sock, wait):
    sock.settimeout(wait)
    try:
        data = sock.recv(4096)
    except socket.timeout:
        return None
    return data

def command(sock, line, wait=5):
    """Sends a command; returns its whole reply (up to the line "ddd text")."""
    sock.sendall(line.encode() + b"\r\n")
    sock.settimeout(wait)
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) > 1 and any(len(l) >= 4 and l[3:4] == b" " for l in lines[:-1]):
            return data

# a whole conversation first, while descriptors are plenty
warm = socket.create_connection(("127.0.0.1", port), timeout=5)
assert greeting(warm, 5).startswith(b"220 ")
assert command(warm, "EHLO client.example").startswith(b"250")
assert command(warm, "NOOP").startswith(b"250")
command(warm, "QUIT")
warm.close()

greeted, stuck = [], []
for n in range(100):  # bounded: the limit is 40 descriptors
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    g = greeting(s, 1.0)
    if g is None:
        stuck.append(s)
        if len(stuck) >= 3:
            break
    else:
        assert g.startswith(b"220 "), g
        greeted.append(s)
print(f"# {len(greeted)} connections greeted, then {len(stuck)} without a greeting")
assert stuck, "the descriptor limit was never reached"
assert len(greeted) >= 10, "too few connections before the limit"

# the connections the mock has keep working
for s in greeted[:5]:
    assert command(s, "NOOP").startswith(b"250"), "an open session stopped answering"

# clients go away: the mock accepts again (the stuck ones first, which are gone by then)
for s in stuck + greeted[:10]:
    s.close()
rest = greeted[10:]
fresh = socket.create_connection(("127.0.0.1", port), timeout=5)
deadline = time.time() + 15
g = None
while g is None and time.time() < deadline:
    g = greeting(fresh, 1.0)
assert g and g.startswith(b"220 "), "no greeting after descriptors were freed"
assert command(fresh, "EHLO client.example").startswith(b"250"), "the new session works"
assert command(rest[0], "NOOP").startswith(b"250"), "the old sessions still work"
for s in rest + [fresh]:
    command(s, "QUIT")
    s.close()
print("ok - the mock kept serving and recovered after running out of descriptors")
EOF
status=$?

grep -q "accept failed: .*Too many open files" "$dir/out" || {
  echo "FAIL: the log does not say why accepting failed"
  status=1
}
kill -TERM "$pid"
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
wait "$pid"
rc=$?
pid=
if [[ $rc != 0 ]]; then
  echo "FAIL: parley serve ended with $rc after SIGTERM"
  status=1
fi
if [[ $status != 0 ]]; then
  echo "--- log"
  tail -50 "$dir/out"
  echo "--- stderr"
  cat "$dir/err"
fi
exit $status
