#!/usr/bin/env bash
# Tests of `parley test` itself: outcomes, summary, TAP, JSON Lines, JUnit XML (checked with
# xmllint and python's XML parser), exit statuses, --filter, -j, --fail-fast, --shard, and
# secrets masked in every format.
# Usage: run_runner_tests.sh PARLEY
set -uo pipefail
parley=$1
here=$(cd "$(dirname "$0")" && pwd)
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

# Human report and exit status 2 (the suite has a script error).
"$parley" test --timeout 1 "$here/suite" >"$work/human" 2>"$work/human.err"
check "exit 2 with a script error" test $? -eq 2
check "summary line" has "$work/human" "^4 passed, 3 failed, 1 skipped$"
check "breakdown" has "$work/human" "\(1 failed, 1 errors, 1 timed out\)"
check "failure shows expectation" has "$work/human" "mixed.lua:[0-9]+: expected 250, got: 550 5.1.1"
check "failure shows meaning" has "$work/human" "meaning: 550"
check "failure shows transcript" has "$work/human" "RCPT TO:<nobody@example.test>"
check "timeout named" has "$work/human" "TIME .*too slow"
check "skip reason" has "$work/human" "skip .*not today .* - feature off"
check "plain script is a case" has "$work/human" "ok   .*plain_script.lua: plain_script.lua"
check "hooks" has "$work/human" "ok   .*hooks ran around the case"

# TAP
"$parley" test --timeout 1 --tap "$here/suite/mixed.lua" >"$work/tap"
check "TAP header and plan" has "$work/tap" "^TAP version 13$"
check "TAP plan" has "$work/tap" "^1\.\.7$"
check "TAP not ok" has "$work/tap" "^not ok [0-9]+ - .*recipient refused$"
check "TAP skip" has "$work/tap" "^ok [0-9]+ - .*not today # SKIP feature off$"
check "TAP diagnostics" has "$work/tap" "^  message: "

# JSON Lines: every line parses; counts add up; captures carried.
"$parley" test --timeout 1 --json "$here/suite/mixed.lua" >"$work/json"
check "JSON lines parse and add up" python3 - "$work/json" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
cases, summary = lines[:-1], lines[-1]
assert summary["summary"] and summary["total"] == len(cases) == 7, summary
status = {c["name"]: c["status"] for c in cases}
assert status["greets with 220"] == "pass"
assert status["recipient refused"] == "fail"
assert status["not today"] == "skip"
assert status["too slow"] == "timeout"
assert status["script error"] == "error"
q = [c for c in cases if c["name"] == "captures a queue id"][0]
assert q["captures"]["queue_id"].startswith("Q"), q
assert all({"file", "name", "status", "seconds", "captures"} <= set(c) for c in cases)
PY

# A test's print (and io.write) never enters the JSON Lines or TAP stream: it goes to stderr.
"$parley" test --timeout 5 --json "$here/printing" >"$work/pjson" 2>"$work/pjson.err"
check "JSON with prints: every stdout line is JSON" python3 - "$work/pjson" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[-1]["summary"] and lines[-1]["total"] == 2, lines[-1]
PY
check "JSON with prints: prints on stderr" has "$work/pjson.err" "print from a passing case.42"
check "JSON with prints: io.write on stderr" has "$work/pjson.err" "io.write from a case"
"$parley" test --timeout 5 --tap "$here/printing" >"$work/ptap" 2>"$work/ptap.err"
check "TAP with prints: no print on stdout" hasnt "$work/ptap" "print from|plain print|io.write"
check "TAP with prints: only TAP lines" python3 - "$work/ptap" <<'PY'
import re, sys
for line in open(sys.argv[1]):
    assert re.match(r"^(TAP version 13|1\.\.\d+|(not )?ok \d+ - .*|  .*|  ---|  \.\.\.)$", line.rstrip("\n")), line
PY
check "TAP with prints: prints on stderr" has "$work/ptap.err" "print from a failing case"

# JUnit: valid XML, counts, properties, system-out, and a broken file as an <error> case.
"$parley" test --timeout 1 --junit "$work/junit.xml" "$here/suite" "$here/broken" >/dev/null 2>&1
check "exit 2 with a syntax error" test $? -eq 2
check "xmllint accepts the JUnit XML" xmllint --noout "$work/junit.xml"
check "JUnit structure" python3 - "$work/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites"
cases = root.findall("./testsuite/testcase")
assert int(root.get("tests")) == len(cases) == 10, (root.get("tests"), len(cases))
by = {c.get("name"): c for c in cases}
assert by["recipient refused"].find("failure") is not None
assert "RCPT TO" in by["recipient refused"].find("system-out").text
assert by["syntax.lua"].find("error") is not None, "a file that fails to load is an <error> case"
assert by["still runs"].find("failure") is None and by["still runs"].find("error") is None
assert by["not today"].find("skipped") is not None
props = by["captures a queue id"].findall("./properties/property")
assert props and props[0].get("name") == "queue_id"
PY

# Secrets: a server that echoes the password (plain and base64), an assertion and a capture
# quoting it. Every format masks them, the transcript lines included; --show-secrets shows them.
for fmt in human tap json junit; do
  out="$work/secrets.$fmt"
  case $fmt in
    human) "$parley" test --timeout 3 "$here/secrets" password=hunter2 >"$out" 2>&1 ;;
    tap) "$parley" test --timeout 3 --tap "$here/secrets" password=hunter2 >"$out" 2>&1 ;;
    json) "$parley" test --timeout 3 --json "$here/secrets" password=hunter2 >"$out" 2>&1 ;;
    junit) "$parley" test --timeout 3 --junit "$out" "$here/secrets" password=hunter2 >/dev/null 2>&1 ;;
  esac
  check "$fmt: secrets suite fails (exit 1)" test $? -eq 1
  check "$fmt: the echoed reply is masked" has "$out" "bad password \*\*\*\* \(b64 \*\*\*\*\)"
  check "$fmt: the assertion is masked" has "$out" "got \*\*\*\*"
  check "$fmt: the capture is masked" has "$out" "alice/\*\*\*\*"
  check "$fmt: the AUTH line is masked" has "$out" "AUTH PLAIN \*\*\*\*"
  check "$fmt: no password, no encoding of it" hasnt "$out" "hunter2|aHVudGVyMg|AGFsaWNlAGh1bnRlcjI"
done
"$parley" test --timeout 3 --show-secrets "$here/secrets" password=hunter2 >"$work/shown" 2>&1
check "--show-secrets shows the echo" has "$work/shown" "bad password hunter2 \(b64 aHVudGVyMg==\)"

# Exit statuses 0 and 1, --filter, -j, --fail-fast, --shard.
"$parley" test --filter "greets" "$here/suite/mixed.lua" >"$work/only" 2>&1
check "exit 0 when all pass" test $? -eq 0
check "filter ran one case" has "$work/only" "^1 passed, 0 failed, 0 skipped$"
"$parley" test --timeout 1 --filter "refused" "$here/suite/mixed.lua" >/dev/null 2>&1
check "exit 1 when a case fails" test $? -eq 1
"$parley" test --filter "nothing-matches-this" "$here/suite" >/dev/null 2>"$work/none"
check "exit 2 when nothing ran" test $? -eq 2
"$parley" test --timeout 1 -j 2 "$here/suite" "$here/broken" >"$work/j2" 2>&1
check "-j 2 runs every file" has "$work/j2" "^5 passed, 4 failed, 1 skipped$"
"$parley" test --timeout 1 --fail-fast "$here/suite/mixed.lua" >"$work/ff" 2>&1
check "--fail-fast stops after the first failure" has "$work/ff" "^3 passed, 1 failed, 0 skipped$"
"$parley" test --shard 1/2 "$here/broken" >"$work/s1" 2>&1
"$parley" test --shard 2/2 "$here/broken" >"$work/s2" 2>&1
check "shard 1/2 runs the first file" has "$work/s1" "fine.lua"
check "shard 1/2 skips the second" hasnt "$work/s1" "syntax.lua"
check "shard 2/2 runs the second" has "$work/s2" "syntax.lua"
"$parley" test --junit /nonexistent/dir/x.xml "$here/broken/fine.lua" >/dev/null 2>&1
check "unwritable JUnit path is exit 2" test $? -eq 2
"$parley" test --bogus >/dev/null 2>&1
check "unknown option is exit 2" test $? -eq 2

# Error objects built to be unreadable fail their own case; the others still run.
"$parley" test --timeout 5 --json "$here/hostile" >"$work/hostile" 2>"$work/hostile.err"
check "hostile errors: exit 2 (an error case), not an abort" test $? -eq 2
check "hostile errors fail case by case" python3 - "$work/hostile" <<'PY'
import json, sys
cases = {c["name"]: c for c in map(json.loads, open(sys.argv[1])) if "name" in c}
assert cases["raises a table whose fields raise"]["status"] == "error", cases
assert "cannot be shown" in cases["raises a table whose fields raise"]["message"], cases
assert cases["raises a table whose tostring raises"]["status"] == "fail", cases
assert cases["raises a table whose metatable lies"]["status"] == "fail", cases
assert cases["still runs"]["status"] == "pass", cases
PY

echo "$passed passed, $failed failed"
((failed == 0))
