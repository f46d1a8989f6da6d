-- fault_malformed_letter_code.lua: a reply code with a letter in it ("2x0") does not match
-- 2xx: expect fails (exit 1) and shows the reply as it came.
-- exit: 1
-- args: --timeout 5
-- stderr: fault_malformed_letter_code\.lua:12: expected 2xx, got: 2x0 malformed reply: letter in the code
-- within: 3
local smtp = require "parley.mock.smtp"
local m = smtp.start { faults = { NOOP = { malformed = "letter_code" } } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("NOOP")
c:expect("2xx")
