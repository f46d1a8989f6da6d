#!/usr/bin/env python3
"""parley load's live progress line, read through a pseudo-terminal: on a terminal stderr it
shows the totals and the last second's rate, p50, p99 and failures; when stderr is not a
terminal there is no such line. The load runs against `parley serve` (1 in 10 recipients
unknown), bounded: 3 s at 100 conversations a second.

Usage: progress_tty.py PARLEY"""
import os
import pty
import re
import select
import subprocess
import sys
import tempfile
import time

parley = sys.argv[1]
failed = 0


def check(what, ok, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + detail))
    failed += 0 if ok else 1


work = tempfile.mkdtemp()
log = open(os.path.join(work, "serve.log"), "w")
serve = subprocess.Popen([parley, "serve", "-q", "--smtp", "0", "--user", "alice:pw"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
try:
    port = None
    deadline = time.time() + 10
    while port is None and time.time() < deadline:
        time.sleep(0.1)
        m = re.search(r"smtp listening on 127\.0\.0\.1:(\d+)", open(log.name).read())
        port = m and m.group(1)
    assert port, "parley serve did not say its port"
    script = os.path.join(work, "submit.lua")
    with open(script, "w") as f:
        f.write('''local n = ...
local c = step("connect", connect, "127.0.0.1", args.port)
c:expect(220)
c:send("EHLO tty.test"); c:expect(250)
c:send("MAIL FROM:<load@example.net>"); c:expect(250)
step("rcpt", function()
  c:send("RCPT TO:<" .. (n % 10 == 0 and "nobody" or "alice") .. "@example.net>"); c:expect(250)
end)
c:send("QUIT"); c:expect(221); c:close()
''')
    argv = [parley, "load", "-c", "5", "--duration", "3s", "--rate", "100", script, "port=" + port]

    # stderr on a terminal: the progress line.
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    screen = b""
    end = time.time() + 30
    while time.time() < end:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        elif p.poll() is not None:
            break
    report = p.stdout.read().decode()
    p.wait(timeout=30)
    os.close(master)
    text = screen.decode(errors="replace")
    lines = [l for l in text.split("\r\x1b[K") if l.strip()]
    check("the run ended with failures (exit 1)", p.returncode == 1, str(p.returncode))
    check("progress lines were drawn", len(lines) >= 3, repr(text[:300]))
    line = re.compile(r"^ +\d+\.\d s  \d+ done  (\d+)/s  p50 [\d.]+ [mu]?s  p99 [\d.]+ [mu]?s  "
                      r"(\d+) failed \((\d+)/s\)  \d+ running$")
    full = [m for m in (line.match(l) for l in lines) if m]
    check("a line has the last second's rate, p50, p99 and failures", len(full) >= 2,
          repr(lines))
    if full:
        rate = int(full[-1].group(1))
        check("the last second's rate is about --rate 100", 60 <= rate <= 140, str(rate))
        check("failures are counted, 1 in 10", int(full[-1].group(2)) >= 5, full[-1].group(0))
        check("and per second", any(int(m.group(3)) > 0 for m in full), repr(lines))
    check("the line is cleared at the end", text.endswith("\r\x1b[K"), repr(text[-40:]))
    check("the report went to stdout", "conversations" in report and "\x1b" not in report,
          report)

    # stderr not a terminal: no progress line.
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    check("no progress line when stderr is not a terminal",
          b"\x1b[K" not in p.stderr and b" done " not in p.stderr, repr(p.stderr[:200]))
finally:
    serve.terminate()
    serve.wait(timeout=10)

print("progress: all checks passed" if failed == 0 else f"progress: {failed} checks failed")
sys.exit(1 if failed else 0)
