#!/usr/bin/env bash
# Runs one conversation test: `parley run` on a script whose header says what must happen.
#   -- exit: N              the exit status (default 0)
#   -- args: ...            options before the script (e.g. --timeout 2 --strict)
#   -- params: A=B ...      NAME=VALUE arguments after the script
#   -- stderr: REGEX        must appear in stderr (grep -E; may repeat)
#   -- stderr-not: REGEX    must not appear in stderr (may repeat)
#   -- stdout: REGEX        must appear in stdout (may repeat)
#   -- within: S            must end within S seconds (wall clock)
# Usage: run_conversation.sh PARLEY SCRIPT [NAME=VALUE ...]  (extra arguments go to the script)
set -uo pipefail
parley=$1
script=$2
shift 2
extra=("$@")
name=$(basename "$script")

header() { sed -n "s/^-- $1: //p" "$script"; }

want_exit=$(header exit | head -n1)
want_exit=${want_exit:-0}
read -r -a opts <<<"$(header args | head -n1)"
read -r -a params <<<"$(header params | head -n1)"
within=$(header within | head -n1)

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

start=$(date +%s.%N)
timeout 120 "$parley" run "${opts[@]}" "$script" "${params[@]}" "${extra[@]}" >"$out" 2>"$err" </dev/null
got_exit=$?
elapsed=$(python3 -c "print(round($(date +%s.%N) - $start, 3))")

failed=0
complain() {
  echo "FAIL $name: $*"
  failed=1
}
[[ "$got_exit" == "$want_exit" ]] || complain "exit status $got_exit, wanted $want_exit"
while IFS= read -r re; do
  [[ -z "$re" ]] && continue
  grep -Eq -- "$re" "$err" || complain "stderr lacks /$re/"
done < <(header stderr)
while IFS= read -r re; do
  [[ -z "$re" ]] && continue
  grep -Eq -- "$re" "$err" && complain "stderr has /$re/"
done < <(header stderr-not)
while IFS= read -r re; do
  [[ -z "$re" ]] && continue
  grep -Eq -- "$re" "$out" || complain "stdout lacks /$re/"
done < <(header stdout)
if [[ -n "$within" ]] && ! python3 -c "import sys; sys.exit(0 if $elapsed <= $within else 1)"; then
  complain "took ${elapsed}s, limit ${within}s"
fi

if ((failed)); then
  echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"
  exit 1
fi
echo "ok $name (exit $got_exit, ${elapsed}s)"
