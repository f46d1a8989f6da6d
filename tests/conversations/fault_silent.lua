-- fault_silent.lua: a mock that stops answering after the greeting (it reads, never replies,
-- never hangs up). The client's EHLO fails at its timeout (exit 1), not at the end of a stream.
-- exit: 1
-- args: --timeout 10
-- stderr: fault_silent\.lua:[0-9]+: expected 250, but nothing came from 127\.0\.0\.1:[0-9]+ within 1 s
-- stderr-not: closed the connection
-- within: 4
local smtp = require "parley.mock.smtp"
local m = smtp.start { faults = { EHLO = { silent = true } } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("EHLO client.example")
c:expect(250, 1)
