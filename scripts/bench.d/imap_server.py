#!/usr/bin/env python3
"""scripts/bench (5): a minimal IMAP server on loopback whose message 1 is SIZE bytes.

Answers CAPABILITY, LOGIN, SELECT/EXAMINE, (UID) FETCH and LOGOUT well enough for parley's
bulk.lua and for curl's imap:// client; every connection gets a thread. Prints its port.
Usage: imap_server.py SIZE
"""
import socket
import sys
import threading

SIZE = int(sys.argv[1]) if len(sys.argv) > 1 else 52428800
PAYLOAD = b"x" * (SIZE - 2) + b"\r\n"


def serve(conn):
    f = conn.makefile("rb")
    conn.sendall(b"* OK [CAPABILITY IMAP4rev1] bench ready\r\n")
    while True:
        line = f.readline()
        if not line:
            break
        parts = line.strip().split(b" ")
        tag, cmd = parts[0], (parts[1].upper() if len(parts) > 1 else b"")
        if cmd == b"UID" and len(parts) > 2:
            cmd = parts[2].upper()
        if cmd == b"CAPABILITY":
            conn.sendall(b"* CAPABILITY IMAP4rev1\r\n" + tag + b" OK done\r\n")
        elif cmd in (b"SELECT", b"EXAMINE"):
            conn.sendall(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n" + tag +
                         b" OK [READ-WRITE] selected\r\n")
        elif cmd == b"FETCH":
            conn.sendall(b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % SIZE)
            conn.sendall(PAYLOAD)
            conn.sendall(b")\r\n" + tag + b" OK FETCH done\r\n")
        elif cmd == b"LOGOUT":
            conn.sendall(b"* BYE bench\r\n" + tag + b" OK bye\r\n")
            break
        else:
            conn.sendall(tag + b" OK done\r\n")
    conn.close()


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print(s.getsockname()[1], flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
