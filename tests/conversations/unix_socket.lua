-- unix_socket.lua: connect{path=} talks to a unix-domain socket server with the same methods.
-- The server is a small python3 program started with exec{} (parley's listen is TCP only); it
-- says "ready" on its stdout once the socket is bound.
-- exit: 0
-- args: --timeout 5
-- stdout: unix ok
-- within: 8

local path = os.tmpname()
os.remove(path)
local py = [[
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
f = c.makefile("rwb", buffering=0)
f.write(b"220-unix.test LMTP\r\n220 ready\r\n")
line = f.readline().decode().strip()
f.write(("250 2.0.0 got " + line + "\r\n").encode())
c.close(); os.unlink(path)
]]
local helper = exec { "python3", "-c", py, path, framing = "line" }
helper:expect("^ready$")

local c = connect { path = path }
assert(c.peer == path, "peer is the socket path: " .. c.peer)
local r = c:expect(220)
assert(#r.lines == 2 and r.lines[1] == "unix.test LMTP", "multi-line greeting over the unix socket")
c:send("LHLO me")
r = c:expect(250)
assert(r.text == "2.0.0 got LHLO me", r.text)
assert(r.enhanced == "2.0.0")
c:close()
helper:close()

local ok, err = pcall(connect, { path = path .. ".missing" })
assert(not ok and err.exit == 3 and tostring(err):find(".missing", 1, true),
  "a missing socket is a network failure naming the path: " .. tostring(err))
print("unix ok")
