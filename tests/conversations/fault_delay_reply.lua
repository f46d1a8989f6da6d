-- fault_delay_reply.lua: a mock that delays its greeting. A delay shorter than the client's
-- timeout is only slow; one longer fails the expectation at its deadline (exit 1), saying that
-- nothing came within the timeout, without waiting for the late reply.
-- exit: 1
-- args: --timeout 10
-- stderr: fault_delay_reply\.lua:[0-9]+: expected 220, but nothing came from 127\.0\.0\.1:[0-9]+ within 1 s
-- stdout: short delay tolerated
-- within: 4
local parley = require "parley"
local smtp = require "parley.mock.smtp"

local slow = smtp.start { faults = { greeting = { delay = 0.3 } } }
local t0 = parley.clock()
local c = connect("127.0.0.1", slow.port)
c:expect(220, 2)
assert(parley.clock() - t0 >= 0.25, "the greeting was delayed")
c:close()
print("short delay tolerated")

local late = smtp.start { faults = { greeting = { delay = 3 } } }
local c2 = connect("127.0.0.1", late.port)
c2:expect(220, 1)
print("not reached")
