#!/usr/bin/env bash
# `parley serve` never shows a password, at any verbosity: the AUTH PLAIN and AUTH LOGIN
# exchanges, an IMAP LOGIN, POP3 PASS, and a reply that echoes the password (plain and
# base64) show ****; a password under 6 bytes is masked in the clients' lines only, so the
# greeting that happens to contain it stays readable.
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
