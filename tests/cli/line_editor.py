#!/usr/bin/env python3
"""libedit is parley shell's alone: no other start loads it (the binary does not link it in
the shared build; LD_DEBUG=files shows every library the loader opens), nor does a shell whose
stdin is not a terminal. A shell on a terminal (a pseudo-terminal here) loads it and edits with
it: the up arrow brings back the last line, which goes to the history file. Where libedit cannot
be loaded (a mount namespace with /dev/null over it: root only), the shell says what is missing
and still works: prompts, lines, the password without echo, Ctrl-D. The static build links
libedit into the binary instead (LINKED=ON): no loading at all.

Usage: line_editor.py PARLEY LINKED"""
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

import libload
from libload import check, loader_files

parley = os.path.abspath(sys.argv[1])
linked = sys.argv[2].upper() in ("ON", "1", "TRUE", "YES")


class Terminal:
    """parley shell on a pseudo-terminal: keys in, screen out."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe(argv[0], argv, env)
        self.screen = b""
        self.status = None

    def read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if r:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            self.screen += chunk
            return bool(chunk)
        return True

    def expect(self, pattern, count=1, timeout=15):
        """Until the screen matches `count` times: whether it did."""
        deadline = time.time() + timeout
        while len(re.findall(pattern, self.text())) < count:
            if time.time() > deadline or not self.read(0.2):
                return len(re.findall(pattern, self.text())) >= count
        return True

    def type(self, keys):
        os.write(self.fd, keys.encode())

    def wait(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            self.read(0.1)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        return None

    def text(self):
        return self.screen.decode(errors="replace")


work = tempfile.mkdtemp()
log = open(os.path.join(work, "serve.log"), "w")
serve = subprocess.Popen([parley, "serve", "-q", "--smtp", "0", "--user", "alice:s3cr3t-pw"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
try:
    port = None
    deadline = time.time() + 10
    while port is None and time.time() < deadline:
        time.sleep(0.1)
        m = re.search(r"smtp listening on 127\.0\.0\.1:(\d+)", open(log.name).read())
        port = m and m.group(1)
    assert port, "parley serve did not say its port"
    shell = [parley, "shell", "--no-color", "127.0.0.1", port]

    # --- the binary, and the starts of other commands -----------------------------------
    needed = subprocess.run(["readelf", "-d", parley], capture_output=True, text=True).stdout
    check("readelf -d: parley needs libc (readelf read it)", "libc.so" in needed, needed)
    check("readelf -d: parley does not need libedit", "libedit" not in needed, needed)

    def run_traced(name, argv, **kw):
        trace = os.path.join(work, name)
        env = dict(os.environ, LD_DEBUG="files", LD_DEBUG_OUTPUT=trace)
        p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, **kw)
        return p, loader_files(trace)

    p, files = run_traced("run", [parley, "run", "-e", ""], stdin=subprocess.DEVNULL)
    check("parley run -e '': exit 0", p.returncode == 0, p.stderr)
    check("LD_DEBUG=files shows the libraries the start loads (libc)", "file=libc.so.6" in files,
          files)
    check("parley run loads no libedit", "libedit" not in files, files)

    p, files = run_traced("piped", shell, input="NOOP\n")
    check("piped parley shell: NOOP answered, exit 0",
          p.returncode == 0 and re.search(r"<- 250 ", p.stderr) is not None, p.stderr)
    check("piped parley shell loads no libedit", "libedit" not in files, files)

    # --- on a terminal: libedit edits, with history -------------------------------------------
    history = os.path.join(work, "history")
    trace = os.path.join(work, "tty")
    env = dict(os.environ, PARLEY_HISTORY=history, LD_DEBUG="files", LD_DEBUG_OUTPUT=trace,
               TERM="xterm")
    t = Terminal(shell, env)
    check("terminal: the prompt", t.expect(r"smtp -> "), t.text())
    t.type("NOOP\r")
    check("terminal: NOOP answered", t.expect(r"<- 250 "), t.text())
    t.expect(r"smtp -> ", 2)  # once the next line is read
    t.type("\x1b[A\r")  # the up arrow, Enter: NOOP again
    check("terminal: the up arrow sent NOOP again", t.expect(r"<- 250 ", 2), t.text())
    t.type("\x04")
    check("terminal: Ctrl-D ends the session, exit 0", t.wait() == 0, t.text())
    check("terminal: no notice of a missing line editor", "no line editing" not in t.text(),
          t.text())
    hist = open(history).read() if os.path.exists(history) else ""
    check("terminal: NOOP is in the history file", "NOOP" in hist, hist)
    files = loader_files(trace)
    if linked:
        check("terminal: libedit is in the binary, nothing loaded", "libedit" not in files, files)
    else:
        check("terminal: libedit.so.2 loaded by the shell",
              re.search(r"file=libedit\.so\.2 .*dynamically loaded", files) is not None, files)

    # --- on a terminal, libedit missing: the terminal's own editing, no history ----------------
    if linked:
        print("skip no-libedit fallback: libedit is linked into this build")
    else:
        hide, why = libload.hiding("libedit.so.2")
        if hide is None:
            print("skip no-libedit fallback: cannot hide libedit (" + why + ")")
        else:
            os.remove(history)
            env = dict(os.environ, PARLEY_HISTORY=history, TERM="xterm")
            t = Terminal(hide + shell, env)
            check("no libedit: says what is missing",
                  t.expect(r"parley shell: no line editing nor history: .*libedit\.so\.2.*"
                           r"apt install libedit2"), t.text())
            check("no libedit: the prompt", t.expect(r"smtp -> "), t.text())
            t.type("EHLO x\r")
            t.expect(r"smtp -> ", 2)
            t.type("NOOX\x7fP\r")  # the terminal's erase
            check("no libedit: NOOP (typed with an erase) answered",
                  t.expect(r" -> NOOP\r?\n<- 250 "), t.text())
            t.type(".auth plain alice\r")
            check("no libedit: the password prompt",
                  t.expect(r"Password for alice: "), t.text())
            t.type("s3cr3t-pw\r")
            check("no libedit: authenticated", t.expect(r"<- 235 "), t.text())
            check("no libedit: the password was not echoed", "s3cr3t-pw" not in t.text(),
                  t.text())
            t.type("\x04")
            check("no libedit: Ctrl-D ends the session, exit 0", t.wait() == 0, t.text())
            check("no libedit: no history file", not os.path.exists(history), "")
finally:
    serve.terminate()
    serve.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if libload.failed else 0)
