#!/usr/bin/env bash
# parley run -e CODE [NAME=VALUE ...] and parley run - (the script on stdin): both run like a
# file, take NAME=VALUE arguments, report errors by their chunk name and keep the exit statuses.
# Usage: run_inline.sh PARLEY
set -uo pipefail
parley=$1
failed=0
check() {  # check WHAT WANT_EXIT WANT_REGEX GOT_EXIT GOT_OUTPUT
  if [[ "$4" != "$2" ]] || ! grep -qE -- "$3" <<<"$5"; then
    echo "FAIL $1: exit $4 (wanted $2), output:"
    sed 's/^/    /' <<<"$5"
    failed=1
  else
    echo "ok   $1"
  fi
}

out=$(timeout 20 "$parley" run -e 'print("hello " .. args.who)' who=world 2>&1); rc=$?
check "-e with an argument" 0 '^hello world$' "$rc" "$out"

out=$(timeout 20 "$parley" run -e 'fail("on purpose")' 2>&1); rc=$?
check "-e failing" 1 'on purpose' "$rc" "$out"

out=$(timeout 20 "$parley" run -e 'this is not lua' 2>&1); rc=$?
check "-e syntax error names the command line" 2 '\(command line\):1:' "$rc" "$out"

out=$(timeout 20 "$parley" run --timeout 2 -e 'local c = connect("127.0.0.1", 1)' 2>&1); rc=$?
check "-e network error" 3 'refused' "$rc" "$out"

out=$(printf 'print("from stdin", args.n + 1)\n' | timeout 20 "$parley" run - n=41 2>&1); rc=$?
check "- reads stdin" 0 'from stdin.42' "$rc" "$out"

out=$(timeout 20 "$parley" run - <<'LUA' 2>&1
local srv = listen { port = 0 }
local t = spawn(function()
  local s = srv:accept(); s:send("220 hi"); s:expect("QUIT"); s:send("221 bye"); s:close()
end)
local c = connect("127.0.0.1", srv.port)
c:expect(220); c:send("QUIT"); c:expect(221)
t:join()
print("conversation done")
LUA
); rc=$?
check "- runs a whole conversation from a here-document" 0 'conversation done' "$rc" "$out"

out=$(printf 'error("boom")\n' | timeout 20 "$parley" run - 2>&1); rc=$?
check "- errors name stdin" 2 'stdin:1: boom' "$rc" "$out"

out=$(timeout 20 "$parley" run -e 2>&1); rc=$?
check "-e without code is a usage error" 2 '-e: 1 required CODE missing' "$rc" "$out"

exit $failed
