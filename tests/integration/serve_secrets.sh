#!/usr/bin/env bash
# `parley serve` never shows a password, at any verbosity: the AUTH PLAIN and AUTH LOGIN
# exchanges, an IMAP LOGIN, POP3 PASS, and a reply that echoes the password (plain and
# base64) show ****; a password under 6 bytes is masked in the clients' lines only, so the
# greeting that happens to contain it stays readable. A password the mock does not know (so
# never registered as a secret) is hidden by the shape of the login, in every form a client
# sends it: SMTP AUTH PLAIN (lower case, another authzid, as a continuation), AUTH LOGIN's
# continuations, POP3 PASS and AUTH, IMAP LOGIN (atom, quoted, literal) and AUTHENTICATE;
# --show-secrets shows them.
# Usage: serve_secrets.sh PARLEY
set -uo pipefail
parley=$1
dir=$(mktemp -d)
pid=
cleanup() {
  [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
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
has() { grep -Eq -- "$2" "$1" || { echo "# /$2/ not in $1"; return 1; }; }
hasnt() { ! grep -Eq -- "$2" "$1" || { echo "# /$2/ in $1:"; grep -E -- "$2" "$1"; return 1; }; }

cat >"$dir/echo.lua" <<'EOF'
-- a server that quotes the password back in its refusal of AUTH PLAIN
return { smtp = { on = { AUTH = function(cmd)
  if cmd.arg:upper():match("^PLAIN") then
    return "535 5.7.8 bad password hunter2x (b64 aHVudGVyMng=)"
  end
end } } }
EOF
cat >"$dir/client.lua" <<'EOF'
local smtp, pop3, imap = require "parley.smtp", require "parley.pop3", require "parley.imap"
local s = smtp.connect { port = tonumber(args.smtp) }
assert(s.greeting.text:find("mock.parley.test", 1, true), "greeting")
s:ehlo("client.test")
s:auth("LOGIN", "alice", "hunter2x")
s:quit()
s = smtp.connect { port = tonumber(args.smtp) }
s:ehlo("client.test")
s:auth("PLAIN", "alice", "hunter2x", { expect = 535 })
s:quit()
local p = pop3.connect { port = tonumber(args.pop3) }
p:login("bob", "mock")
p:quit()
local i = imap.connect { port = tonumber(args.imap) }
i:login("alice", "hunter2x")
i:logout()
print("client done")
EOF

# Unregistered passwords: wrongpass1 (b64 d3JvbmdwYXNzMQ==) and the PLAIN blobs built from it.
cat >"$dir/unknown.lua" <<'EOF'
local crypto = require "parley.crypto"
local function plain(z, u, p) return crypto.b64encode(z .. "\0" .. u .. "\0" .. p) end
local s = connect("127.0.0.1", tonumber(args.smtp))
s:expect(220) s:send("EHLO client.test") s:expect(250)
s:send("auth plain " .. plain("", "alice", "wrongpass1")) s:expect(535)
s:send("AUTH PLAIN " .. plain("Alice", "ALICE", "wrongpass1")) s:expect(535)
s:send("AUTH PLAIN") s:expect(334) s:send(plain("", "alice", "wrongpass1")) s:expect(535)
s:send("AUTH LOGIN") s:expect(334) s:send(crypto.b64encode("alice")) s:expect(334)
s:send(crypto.b64encode("wrongpass1")) s:expect(535)
s:send("QUIT") s:expect(221)
local p = connect("127.0.0.1", tonumber(args.pop3))
p:set_framing("pop3")
p:expect("+OK") p:send("USER alice") p:expect("+OK") p:send("PASS wrongpass1") p:expect("-ERR")
p:send("AUTH PLAIN " .. plain("", "alice", "wrongpass1")) p:expect("-ERR")
p:send("QUIT") p:expect("+OK")
local i = connect("127.0.0.1", tonumber(args.imap))
i:set_framing("imap")
i:expect("*")
i:send("a LOGIN alice wrongpass1") i:expect("a")
i:send('b login "alice" "wrongpass1"') i:expect("b")
i:send("c LOGIN alice {10}") i:expect("+") i:send("wrongpass1") i:expect("c")
i:send("d AUTHENTICATE PLAIN " .. plain("", "alice", "wrongpass1")) i:expect("d")
i:send("e AUTHENTICATE PLAIN") i:expect("+") i:send(plain("", "alice", "wrongpass1")) i:expect("e")
i:send("f LOGOUT") i:expect("%*") i:expect("f")
print("unknown done")
EOF
for verbosity in -v -vv show; do
  flags=("$verbosity")
  [[ $verbosity == show ]] && flags=(-v --show-secrets)
  out="$dir/unknown$verbosity"
  "$parley" serve "${flags[@]}" --smtp 0 --pop3 0 --imap 0 --user alice:hunter2x \
    >"$out.out" 2>"$out.err" </dev/null &
  pid=$!
  for _ in $(seq 100); do
    [[ $(grep -c "listening on" "$out.out" 2>/dev/null) == 3 ]] && break
    sleep 0.1
  done
  port() { sed -n "s/^parley serve: $1 listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$out.out"; }
  timeout 60 "$parley" run -q --timeout 10 "$dir/unknown.lua" smtp="$(port smtp)" \
    pop3="$(port pop3)" imap="$(port imap)" >"$out.client" 2>&1 </dev/null
  check "unknown passwords, $verbosity: the client ran (exit $?)" has "$out.client" "unknown done"
  sleep 0.3
  kill -TERM "$pid"
  wait "$pid"
  pid=
  cat "$out.out" "$out.err" >"$out.all"
  # wrongpass1, its base64 at the three alignments, and the PLAIN blobs' base64
  leaks="wrongpass1|d3JvbmdwYXNzMQ|dyb25ncGFzczE|3cm9uZ3Bhc3Mx|YWxpY2UAd3Jvbmd|QUxJQ0UAd3Jvbmd"
  if [[ $verbosity == show ]]; then
    check "--show-secrets: POP3 PASS is shown" has "$out.all" "\] +-> PASS wrongpass1"
    check "--show-secrets: IMAP LOGIN is shown" has "$out.all" "\] +-> a LOGIN alice wrongpass1"
    check "--show-secrets: AUTH LOGIN's answer is shown" has "$out.all" " -> d3JvbmdwYXNzMQ=="
    check "--show-secrets: AUTH PLAIN is shown" has "$out.all" " -> auth plain AGFsaWNlAHdyb25ncGFzczE="
  else
    check "unknown passwords, $verbosity: never shown" hasnt "$out.all" "$leaks"
    check "$verbosity: SMTP AUTH PLAIN masked" has "$out.all" " -> auth plain \*\*\*\*"
    check "$verbosity: AUTH LOGIN's lines masked" has "$out.all" " -> \*\*\*\*"
    check "$verbosity: POP3 PASS masked" has "$out.all" "\] +-> PASS \*\*\*\*"
    check "$verbosity: IMAP LOGIN masked" has "$out.all" "\] +-> a LOGIN alice \*\*\*\*"
    check "$verbosity: IMAP LOGIN's literal announced" has "$out.all" "\] +-> c LOGIN alice \{10\}"
    check "$verbosity: IMAP AUTHENTICATE masked" has "$out.all" "\] +-> d AUTHENTICATE PLAIN \*\*\*\*"
    check "$verbosity: the commands after the logins are shown" has "$out.all" "\] +-> f LOGOUT"
  fi
done

for verbosity in -v default -q; do
  flags=()
  [[ $verbosity != default ]] && flags=("$verbosity")
  out="$dir/serve$verbosity"
  "$parley" serve "${flags[@]}" --smtp 0 --pop3 0 --imap 0 --user alice:hunter2x \
    --user bob:mock --script "$dir/echo.lua" >"$out.out" 2>"$out.err" </dev/null &
  pid=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$out.out" 2>/dev/null && [[ $(grep -c "listening on" "$out.out") == 3 ]] && break
    sleep 0.1
  done
  port() { sed -n "s/^parley serve: $1 listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$out.out"; }
  timeout 60 "$parley" run -q --timeout 10 --show-secrets "$dir/client.lua" smtp="$(port smtp)" \
    pop3="$(port pop3)" imap="$(port imap)" >"$out.client" 2>&1 </dev/null
  check "$verbosity: the client ran (exit $?)" has "$out.client" "client done"
  sleep 0.3
  kill -TERM "$pid"
  wait "$pid"
  pid=
  cat "$out.out" "$out.err" >"$out.all"
  check "$verbosity: no password, no base64 of it" \
    hasnt "$out.all" "hunter2x|aHVudGVyMng|YWxpY2UAaHVudGVy|AGFsaWNlAGh1bnRlcjJ4|PASS mock"
  if [[ $verbosity == -v ]]; then
    check "-v: the echoing reply is masked" has "$out.all" "<- 535 5\.7\.8 bad password \*\*\*\* \(b64 \*\*\*\*\)"
    check "-v: AUTH PLAIN is masked" has "$out.all" " -> AUTH PLAIN \*\*\*\*"
    check "-v: the AUTH LOGIN exchange was shown (and masked: above)" has "$out.all" "<- 334 UGFzc3dvcmQ6"
    check "-v: IMAP LOGIN is masked" has "$out.all" 'LOGIN "?alice"? "?\*\*\*\*"?'
    check "-v: a short password is masked in the client's line" has "$out.all" " -> PASS \*\*\*\*"
    check "-v: ... and not in the greeting" has "$out.all" "<- 220 mock\.parley\.test ESMTP"
    check "-v: the short password is warned about" has "$out.all" "too short to mask everywhere"
  elif [[ $verbosity == default ]]; then
    check "default: the log shows the AUTH line masked" has "$out.all" "AUTH PLAIN \*\*\*\*"
  fi
done

if ((failed)); then
  for f in "$dir"/*.out "$dir"/*.err "$dir"/*.client; do
    echo "--- $f"
    cat "$f"
  done
  exit 1
fi
echo "all serve secret checks passed"
