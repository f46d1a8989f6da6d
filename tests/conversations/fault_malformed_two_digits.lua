-- fault_malformed_two_digits.lua: a greeting whose code has two digits is no SMTP reply: the
-- client library fails (exit 1) showing what came.
-- exit: 1
-- args: --timeout 5
-- stderr: fault_malformed_two_digits\.lua:10: .*25 malformed reply: two-digit code
-- within: 3
local mock = require "parley.mock.smtp"
local smtp = require "parley.smtp"
local m = mock.start { faults = { greeting = { malformed = "two_digits" } } }
smtp.connect { port = m.port }
print("not reached")
