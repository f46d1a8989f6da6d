-- mock_concurrent_stop.lua: 40 clients at once against one SMTP mock, each delivering a
-- message (the accept loop runs each client in its own conversation); store:wait sees them
-- all; stop() ends the sessions still open and closes the listener.
-- exit: 0
-- args: --timeout 10
-- stdout: 40 messages, then stopped
-- within: 10
local mock = require "parley.mock.smtp"
local m = mock.start { users = { alice = "pw" } }
local tasks = {}
for n = 1, 40 do
  tasks[n] = spawn(function()
    local c = connect("127.0.0.1", m.port)
    c:expect(220)
    c:send("HELO c" .. n)
    c:expect(250)
    c:send("MAIL FROM:<c" .. n .. "@example.org>")
    c:expect(250)
    c:send("RCPT TO:<alice@example.net>")
    c:expect(250)
    c:send("DATA")
    c:expect(354)
    c:send("Subject: " .. n)
    c:send(".")
    c:expect(250)
    c:send("QUIT")
    c:expect(221)
  end)
end
for _, t in ipairs(tasks) do t:join() end
assert(m.store:wait("alice", 40, 5), "40 messages stored")
assert(m.sessions == 40 and #m.errors == 0)

local idle = connect("127.0.0.1", m.port)
idle:expect(220)
m:stop()
assert(idle:read_reply(2) == nil, "an open session is ended by stop()")
local ok, err = pcall(connect, "127.0.0.1", m.port)
assert(not ok and err.exit == 3, "the listener is closed: " .. tostring(err))
print("40 messages, then stopped")
