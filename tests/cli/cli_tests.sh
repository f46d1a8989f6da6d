#!/usr/bin/env bash
# The command line (CLI11): each subcommand's --help lists its own options, --opt=value and
# --opt value both work, errors name the option and exit 2, the version is PROJECT_VERSION.
# Usage: cli_tests.sh PARLEY VERSION
set -uo pipefail
parley=$1
version=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

check() {  # check NAME COMMAND...: the command must succeed
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $name"
  fi
}
has() { grep -Eq -- "$2" "$1" || { echo "  /$2/ not in $1:"; sed 's/^/    /' "$1"; return 1; }; }
hasnt() { ! grep -Eq -- "$2" "$1" || { echo "  /$2/ unexpectedly in $1"; return 1; }; }
# status EXPECTED OUT ARGS...: parley ARGS exits EXPECTED; stdout+stderr into OUT
status() {
  local want=$1 out=$2
  shift 2
  timeout 20 "$parley" "$@" >"$out" 2>&1 </dev/null
  local rc=$?
  [[ $rc == "$want" ]] || { echo "  parley $* exited $rc, not $want:"; sed 's/^/    /' "$out"; return 1; }
}

# --help of each subcommand: exit 0, its own options, not the others'.
check "run --help exits 0" status 0 "$work/run" run --help
check "run --help: --timeout" has "$work/run" "--timeout"
check "run --help: SCRIPT" has "$work/run" "SCRIPT"
check "run --help: not load's --rate" hasnt "$work/run" "--rate"
check "test --help exits 0" status 0 "$work/test" test --help
check "test --help: -j,--jobs" has "$work/test" "-j,.*--jobs"
check "test --help: --shard" has "$work/test" "--shard"
check "load --help exits 0" status 0 "$work/load" load --help
check "load --help: --threads" has "$work/load" "--threads"
check "load --help: --merge" has "$work/load" "--merge"
check "load --help: -j is not offered" hasnt "$work/load" "^ *-j"
check "serve --help exits 0" status 0 "$work/serve" serve --help
check "serve --help: --cert-profile" has "$work/serve" "--cert-profile"
check "explain --help exits 0" status 0 "$work/explain" explain --help
check "explain --help: CODE" has "$work/explain" "CODE"
check "help run = run --help" status 0 "$work/help-run" help run
check "help run lists run's options" has "$work/help-run" "--show-secrets"
check "--help lists the subcommands" status 0 "$work/top" --help
for sub in run demo test load serve explain version help; do
  check "--help lists $sub" has "$work/top" "^  $sub( |$)"
done

# The version, from CMake's PROJECT_VERSION.
check "version" status 0 "$work/v1" version
check "version is PROJECT_VERSION" has "$work/v1" "^parley $version$"
check "--version" status 0 "$work/v2" --version
check "--version is PROJECT_VERSION" has "$work/v2" "^parley $version$"

# --opt=value and --opt value mean the same; a bad value names the option (exit 2).
cat >"$work/t.lua" <<'LUA'
print("timeout=" .. tostring(args.x))
LUA
check "--timeout=5 is accepted" status 0 "$work/eq" run --timeout=5 "$work/t.lua" x=1
check "--timeout 5 is accepted" status 0 "$work/sp" run --timeout 5 "$work/t.lua" x=1
check "NAME=VALUE reaches the script" has "$work/sp" "timeout=1"
check "--timeout=abc is exit 2" status 2 "$work/bad" run --timeout=abc "$work/t.lua"
check "--timeout=abc names the option" has "$work/bad" "--timeout wants a number of seconds above 0, not \"abc\""
check "--timeout without a value is exit 2" status 2 "$work/noval" run "$work/t.lua" --timeout
check "an option after the script is a script argument" has "$work/noval" "NAME=VALUE, not \"--timeout\""
check "unknown option is exit 2" status 2 "$work/unknown" run --bogus "$work/t.lua"
check "unknown option is named" has "$work/unknown" "--bogus"
check "unknown option points at --help" has "$work/unknown" "parley run --help"
check "missing script is exit 2" status 2 "$work/noscript" run
check "missing script is named" has "$work/noscript" "no script given"
check "unknown subcommand is exit 2" status 2 "$work/nosub" frobnicate
check "unknown subcommand is named" has "$work/nosub" "unknown subcommand \"frobnicate\""
check "no subcommand is exit 2" status 2 "$work/none"

# -j: jobs in test (-j N, -jN, --jobs=N); refused in load with a pointer to --threads and -c.
mkdir -p "$work/suite"
printf 'test("a", function() end)\n' >"$work/suite/a.lua"
check "test -j 2" status 0 "$work/j1" test -j 2 "$work/suite"
check "test -j2" status 0 "$work/j2" test -j2 "$work/suite"
check "test --jobs=2" status 0 "$work/j3" test --jobs=2 "$work/suite"
check "test -j 0 is exit 2" status 2 "$work/j0" test -j 0 "$work/suite"
check "test -j 0 names -j" has "$work/j0" "-j wants a whole number above 0"
check "load -j is exit 2" status 2 "$work/lj" load -j 2 -n 1 "$work/t.lua"
check "load -j points at --threads" has "$work/lj" "--threads"
check "test --shard=3/2 names --shard" status 2 "$work/sh" test --shard=3/2 "$work/suite"
check "--shard message" has "$work/sh" "--shard I/N wants I between 1 and N"
check "serve --smtp=70000 names --smtp" status 2 "$work/port" serve --smtp=70000
check "--smtp message" has "$work/port" "--smtp wants a port number"

# --ask-password without a terminal (setsid: none) reads a line of stdin; none is an error.
check "run --ask-password reads stdin without a terminal" bash -c "
  echo hunter2 | setsid '$parley' run --ask-password -e 'print(#args.password)' >'$work/ask' 2>&1
  grep -qx 7 '$work/ask'"
check "run --ask-password: no password given" bash -c "
  ! setsid '$parley' run --ask-password -e 'print(1)' </dev/null >'$work/ask' 2>&1 &&
  grep -q 'no password given' '$work/ask'"

echo "$passed passed, $failed failed"
((failed == 0))
