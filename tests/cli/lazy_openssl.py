#!/usr/bin/env python3
"""OpenSSL is loaded by the first TLS or crypto call alone (PARLEY_LAZY_OPENSSL, the shared
build): the binary does not link libssl nor libcrypto (readelf -d) and exports none of the
forwarders that stand for their functions (nm -D); `parley run` of an empty script and a plain
SMTP conversation against `parley serve` load neither library (LD_DEBUG=files shows every
library the loader opens, one file per process), a STARTTLS conversation loads both and works.
Where libssl.so.3 cannot be loaded (a mount namespace with /dev/null over it: root only), a plain
conversation still works, and a STARTTLS one ends with exit 3 (a TLS failure, docs/core.md) and
one line that says what is missing. Without lazy loading (LAZY=OFF: the static build links
OpenSSL in) the conversations are checked alone.

Usage: lazy_openssl.py PARLEY LAZY"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import libload
from libload import check, loader_files

parley = os.path.abspath(sys.argv[1])
lazy = sys.argv[2].upper() in ("ON", "1", "TRUE", "YES")
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def openssl_files(files):
    """The lines of an LD_DEBUG=files trace that open libssl or libcrypto."""
    return [line for line in files.splitlines() if re.search(r"file=lib(ssl|crypto)\.so", line)]


work = tempfile.mkdtemp()
servers = []


def serve(name, *argv):
    """parley serve, traced: (process, port, trace prefix)."""
    trace = os.path.join(work, "serve-" + name)
    log = open(os.path.join(work, name + ".log"), "w")
    env = dict(os.environ, LD_DEBUG="files", LD_DEBUG_OUTPUT=trace)
    p = subprocess.Popen([parley, "serve", "--smtp", "0", "--user", "alice:s3cr3t-pw"] +
                         list(argv), stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, env=env)
    servers.append(p)
    deadline = time.time() + 20
    while time.time() < deadline:
        time.sleep(0.1)
        m = re.search(r"smtp listening on 127\.0\.0\.1:(\d+)", open(log.name).read())
        if m:
            return p, m.group(1), trace
    raise SystemExit("parley serve did not say its port: " + open(log.name).read())


# The client: one transaction with parley.smtp, in the clear or after STARTTLS.
client = os.path.join(work, "client.lua")
open(client, "w").write("""
local smtp = require "parley.smtp"
local tls = args.ca and "starttls" or false
local s = smtp.connect { host = "127.0.0.1", port = tonumber(args.port), tls = tls, ca = args.ca }
s:ehlo("client.example")
s:mail("bob@example.net")
s:rcpt("alice@example.net")
s:data { subject = "lazy", body = "hello\\n" }
s:quit()
print("sent")
""")


def run_traced(name, argv, prefix=()):
    trace = os.path.join(work, "trace-" + name)
    env = dict(os.environ, LD_DEBUG="files", LD_DEBUG_OUTPUT=trace)
    p = subprocess.run(list(prefix) + argv, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    return p, loader_files(trace)


try:
    # --- the binary ----------------------------------------------------------------------------
    needed = subprocess.run(["readelf", "-d", parley], capture_output=True, text=True).stdout
    check("readelf -d: parley needs libc (readelf read it)", "libc.so" in needed, needed)
    defined = subprocess.run(["nm", "-D", "--defined-only", parley], capture_output=True,
                             text=True).stdout
    undefined = subprocess.run(["nm", "-D", "--undefined-only", parley], capture_output=True,
                               text=True).stdout
    check("nm -D: read the dynamic symbols (libc's)", "GLIBC_" in undefined, undefined[:500])
    exported = [s for s in ("SSL_new", "SSL_CTX_new", "EVP_Digest", "BIO_new", "RAND_bytes")
                if re.search(r"\b" + s + r"\b", defined)]
    check("nm -D --defined-only: no OpenSSL function exported", not exported, " ".join(exported))
    if lazy:
        check("readelf -d: parley needs neither libssl nor libcrypto",
              "libssl" not in needed and "libcrypto" not in needed, needed)
        check("nm -D --undefined-only: no OpenSSL function imported", "OPENSSL_" not in undefined,
              "\n".join(line for line in undefined.splitlines() if "OPENSSL" in line))

    # --- an empty script ------------------------------------------------------------------------
    p, files = run_traced("empty", [parley, "run", os.path.join(root, "scripts", "bench.d",
                                                               "empty.lua")])
    check("parley run empty.lua: exit 0", p.returncode == 0, p.stderr)
    check("LD_DEBUG=files shows the libraries the start loads (libc)", "file=libc.so.6" in files,
          files)
    if lazy:
        check("parley run empty.lua loads neither libssl nor libcrypto",
              not openssl_files(files), "\n".join(openssl_files(files)))

    # --- a plain SMTP conversation --------------------------------------------------------------
    # (parley serve --user loads OpenSSL at its start: a password is a secret, masked in its
    # base64 forms too, which OpenSSL encodes. So does a client given a secret.)
    server, port, server_trace = serve("plain")
    p, files = run_traced("plain", [parley, "run", client, "port=" + port])
    check("plain conversation: exit 0, message sent", p.returncode == 0 and "sent" in p.stdout,
          p.stdout + p.stderr)
    check("plain conversation: no TLS in the transcript", "<~" not in p.stderr, p.stderr)
    if lazy:
        check("plain conversation: the client loads neither libssl nor libcrypto",
              not openssl_files(files), "\n".join(openssl_files(files)))

    # --- a STARTTLS conversation ----------------------------------------------------------------
    ca = os.path.join(work, "ca.pem")
    tls_server, tls_port, tls_trace = serve("tls", "--tls", "starttls", "--write-ca", ca)
    p, files = run_traced("tls", [parley, "run", client, "port=" + tls_port, "ca=" + ca])
    check("STARTTLS conversation: exit 0, message sent", p.returncode == 0 and "sent" in p.stdout,
          p.stdout + p.stderr)
    check("STARTTLS conversation: the transcript shows the handshake and TLS lines",
          re.search(r"=== .*TLS", p.stderr) is not None and "<~ 250" in p.stderr, p.stderr)
    if lazy:
        for name, lines in (("the client", files), ("parley serve", loader_files(tls_trace))):
            for lib in ("libssl.so.3", "libcrypto.so.3"):
                check("STARTTLS conversation: %s loads %s" % (name, lib),
                      re.search(r"file=" + re.escape(lib) + r" .*dynamically loaded", lines)
                      is not None, "\n".join(openssl_files(lines)))

    # --- libssl.so.3 missing --------------------------------------------------------------------
    if not lazy:
        print("skip missing-libssl checks: OpenSSL is linked into this build")
    else:
        hide, why = libload.hiding("libssl.so.3")
        if hide is None:
            print("skip missing-libssl checks: cannot hide libssl (" + why + ")")
        else:
            p, files = run_traced("hidden-plain", [parley, "run", client, "port=" + port],
                                  prefix=hide)
            check("libssl hidden: a plain conversation still works, exit 0",
                  p.returncode == 0 and "sent" in p.stdout, p.stdout + p.stderr)
            p, files = run_traced("hidden-tls", [parley, "run", client, "port=" + tls_port,
                                                 "ca=" + ca], prefix=hide)
            check("libssl hidden: parley tried to load libssl.so.3 (for STARTTLS)",
                  "file=libssl.so.3" in files, "\n".join(openssl_files(files)))
            check("libssl hidden: STARTTLS ends with exit 3", p.returncode == 3,
                  "exit %d: %s" % (p.returncode, p.stderr))
            said = [line for line in p.stderr.splitlines() if line.startswith("parley: ")]
            check("libssl hidden: one line says TLS needs OpenSSL 3 and what is missing",
                  len(said) == 1 and re.match(
                      r"parley: TLS and crypto need OpenSSL 3, which cannot be loaded: "
                      r".*libssl\.so\.3.* \(Debian: apt install libssl3\)$", said[0]) is not None,
                  p.stderr)
            check("libssl hidden: the transcript up to STARTTLS is there", "<- 220" in p.stderr,
                  p.stderr)
            digest = "print(require('parley.crypto').digest('sha256', 'x'))"
            p, files = run_traced("hidden-crypto", [parley, "run", "-e", digest], prefix=hide)
            check("libssl hidden: crypto.digest ends with exit 3 and the same line",
                  p.returncode == 3 and "parley: TLS and crypto need OpenSSL 3" in p.stderr,
                  "exit %d: %s" % (p.returncode, p.stderr))
finally:
    for s in servers:
        s.terminate()
        s.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)
sys.exit(1 if libload.failed else 0)
