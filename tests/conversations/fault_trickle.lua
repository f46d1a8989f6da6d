-- fault_trickle.lua: a mock that sends its greeting a byte at a time. A fast trickle is read
-- whole; a slow one cannot stretch the client's deadline: the wait ends at 1 s (exit 1) and
-- says how much of the reply had come.
-- exit: 1
-- args: --timeout 10
-- stderr: fault_trickle\.lua:[0-9]+: expected 220, but nothing came from 127\.0\.0\.1:[0-9]+ within 1 s
-- stderr: an incomplete reply of [0-9]+ bytes was received
-- stdout: fast trickle read whole
-- within: 4
local smtp = require "parley.mock.smtp"

local fast = smtp.start { faults = { greeting = { trickle = 0.002 } } }
local c = connect("127.0.0.1", fast.port)
local r = c:expect(220, 3)
assert(r.text:find("ESMTP parley mock ready", 1, true), r.text)
c:close()
print("fast trickle read whole")

local slow = smtp.start { faults = { greeting = { trickle = 0.2 } } }
local c2 = connect("127.0.0.1", slow.port)
c2:expect(220, 1)
print("not reached")
