-- fault_hook_loop.lua: a mock whose RCPT hook is stuck in a loop. The engine stops the hook at
-- the --timeout (1 s); the mock survives, reports the failed hook as a warning and answers 451,
-- so the client's expectation of 250 fails (exit 1) within a few seconds.
-- exit: 1
-- args: --timeout 1
-- stderr: the hook on\.RCPT failed: .*without waiting on the network
-- stderr: fault_hook_loop\.lua:[0-9]+: expected 250, got: 451 4\.3\.0
-- within: 5
local smtp = require "parley.mock.smtp"
local m = smtp.start { users = { alice = "pw" }, on = { RCPT = function() while true do end end } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("HELO client.example")
c:expect(250)
c:send("MAIL FROM:<bob@example.org>")
c:expect(250)
c:send("RCPT TO:<alice@example.net>")
c:expect(250, 5)
