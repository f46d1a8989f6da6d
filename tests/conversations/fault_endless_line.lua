-- fault_endless_line.lua: a greeting line that never ends. The client stops at the line limit
-- (exit 1, "line longer than") well before its timeout, and the mock stops sending when the
-- client is gone.
-- exit: 1
-- args: --timeout 10
-- stderr: fault_endless_line\.lua:[0-9]+: malformed input from 127\.0\.0\.1:[0-9]+: line longer than 65536 bytes
-- within: 4
local smtp = require "parley.mock.smtp"
local m = smtp.start { faults = { greeting = { malformed = "endless" } } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
