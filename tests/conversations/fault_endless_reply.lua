-- fault_endless_reply.lua: an EHLO reply of "250-" lines that never ends. The client stops at
-- the limit of lines in one reply (exit 1) instead of buffering forever.
-- exit: 1
-- args: --timeout 20
-- stderr: fault_endless_reply\.lua:[0-9]+: malformed input from 127\.0\.0\.1:[0-9]+: reply of more than [0-9]+ lines
-- within: 15
local smtp = require "parley.mock.smtp"
local m = smtp.start { faults = { EHLO = { malformed = "endless_reply" } } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("EHLO client.example")
c:expect(250)
