-- fault_long_line.lua: a greeting of one 100 KB line. The client refuses to buffer it: the
-- read ends with "malformed input ... line longer than 65536 bytes" (exit 1).
-- exit: 1
-- args: --timeout 5
-- stderr: fault_long_line\.lua:[0-9]+: malformed input from 127\.0\.0\.1:[0-9]+: line longer than 65536 bytes
-- within: 3
local smtp = require "parley.mock.smtp"
local m = smtp.start { faults = { greeting = { malformed = "long_line" } } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
