-- load_failure_kinds.lua: failures are counted by cause from the engine's error objects:
-- a refused connection ("connect"), fail() ("failed"), a script error ("script"), a server
-- that hangs up ("eof"); successful conversations are not failures; exit status 1.
-- exit: 0
-- args: --timeout 30
-- stdout: failure kinds ok
-- within: 30

local h = require "helpers"
local srv = h.smtp_server { hangup = function(n) return true end }
-- A port nobody listens on: bind one, note it, close it.
local closed = listen { host = "127.0.0.1", port = 0 }
local closed_port = closed.port
closed:close()

local res, status = h.load { "-c", "3", "-n", "25", "--timeout", "10", h.client("kinds"),
  "port=" .. srv.port, "closed_port=" .. closed_port }
assert(status == 1, "exit 1, got " .. status)
local by = {}
for _, f in ipairs(res.failures) do
  by[f.cause] = f
  assert(f.step == nil, "no steps in this script")
end
-- n % 5: 1 connect, 2 failed, 3 script, 4 eof, 0 ok  (5 of each in 1..25)
assert(res.conversations.ok == 5, "ok: " .. res.conversations.ok)
assert(res.conversations.failed == 20, "failed: " .. res.conversations.failed)
for _, cause in ipairs { "connect", "failed", "script", "eof" } do
  assert(by[cause] and by[cause].count == 5, cause .. ": " .. (by[cause] and by[cause].count or 0))
end
assert(by.connect.example:find("cannot connect to 127.0.0.1:" .. closed_port, 1, true), by.connect.example)
assert(by.failed.example == "the test says so", by.failed.example)
assert(by.script.example:find("kinds.lua:%d+: attempt to index"), by.script.example)
assert(by.eof.example:find("closed the connection", 1, true), by.eof.example)
print("failure kinds ok")
