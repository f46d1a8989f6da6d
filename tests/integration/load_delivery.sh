#!/usr/bin/env bash
# examples/load_delivery_latency.lua under parley load against the real Postfix and Dovecot:
# every message submitted over SMTP is seen in IMAP IDLE, the steps submit and delivered are
# timed for each, the script's threshold (p95 of delivered) is judged, and the HTML report is
# written. Bounded: 20 conversations, 4 at once, 30 s each at most, 120 s in all.
# Usage: load_delivery.sh FIXTURE_DIR PARLEY
set -uo pipefail
dir=$1
parley=$2
example="$(cd "$(dirname "$0")/../.." && pwd)/examples/load_delivery_latency.lua"
# shellcheck disable=SC1091
. "$dir/env"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

timeout 120 "$parley" load --json -c 4 -n 20 --timeout 30 --html "$work/report.html" "$example" \
  host="$HOST" smtp_port="$SUBMISSION_PORT" imap_port="$IMAP_PORT" ca="$CA_FILE" \
  user="$USER1" password="$PASS1" to="$USER1@$DOMAIN" >"$work/out.json" 2>"$work/err"
status=$?
if ((status != 0)); then
  echo "FAIL parley load exited $status"
  sed "s/$PASS1/****/g" "$work/err" "$work/out.json" | head -40
  exit 1
fi
python3 - "$work/out.json" "$work/report.html" "$PASS1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
html = open(sys.argv[2]).read()
passed = failed = 0
def check(what, ok):
    global passed, failed
    print(("ok   " if ok else "FAIL ") + what)
    passed += 1 if ok else 0
    failed += 0 if ok else 1
c = r["conversations"]
check("20 conversations, all ok", c["ok"] == 20 and c["failed"] == 0)
steps = {s["name"]: s for s in r["steps"]}
check("the steps are submit and delivered", list(steps) == ["submit", "delivered"])
check("each step completed 20 times",
      all(steps[n]["ok"] == 20 and steps[n]["latency"]["count"] == 20 for n in steps))
d = steps["delivered"]["latency"]
check("delivery takes time: p50 above 0 and within the 30 s wait", 0 < d["p50"] < 30e6)
check("a conversation lasts at least its two steps",
      r["latency"]["min"] >= steps["submit"]["latency"]["min"] + d["min"])
th = r.get("thresholds", [])
check("the script's threshold is judged and met",
      len(th) == 1 and th[0]["source"] == "script" and th[0]["expr"] == "p95(step=delivered)<5s"
      and th[0]["ok"])
seconds = r["series"]["seconds"]
check("the series counts every conversation", sum(s["ok"] for s in seconds) == 20)
check("the series times the delivered step",
      sum(s["steps"].get("delivered", {"count": 0})["count"] for s in seconds) == 20)
check("the HTML report has both steps", "<td>submit</td>" in html and "<td>delivered</td>" in html)
check("the password shows nowhere", sys.argv[3] not in html and sys.argv[3] not in open(sys.argv[1]).read())
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
