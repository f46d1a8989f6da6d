"""What tests/cli's checks of library loading share (line_editor.py: libedit; lazy_openssl.py:
OpenSSL): the ok/FAIL lines and their count, the loader's trace (LD_DEBUG=files), and a command
prefix under which a library cannot be loaded (a mount namespace with /dev/null over its file:
root only)."""
import ctypes
import os
import subprocess

failed = 0


def check(what, ok, detail=""):
    """Prints "ok   what" or "FAIL what: detail" (its end) and counts the failures."""
    global failed
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else ": " + detail[-2000:]))
    failed += 0 if ok else 1


def loader_files(path_prefix):
    """What LD_DEBUG=files wrote (to LD_DEBUG_OUTPUT=path_prefix, one file per process)."""
    d, base = os.path.split(path_prefix)
    return "".join(open(os.path.join(d, f)).read() for f in os.listdir(d) if f.startswith(base))


def hiding(soname):
    """(argv prefix that runs a command with `soname` hidden, None), or (None, why it cannot)."""
    ctypes.CDLL(soname)
    lib = next(line.split()[-1] for line in open("/proc/self/maps") if soname in line)
    namespace = ["unshare", "-m", "--propagation", "private"]
    probe = subprocess.run(namespace + ["mount", "--bind", "/dev/null", lib],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return None, "unshare -m and mount need root: " + probe.stderr.strip()
    return namespace + ["sh", "-c", "mount --bind /dev/null \"$1\" && shift && exec \"$@\"",
                        "sh", lib], None
