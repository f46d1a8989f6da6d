-- fault_malformed_bare_lf.lua: the mock ends its EHLO lines with a bare LF. Without --strict
-- the reply still reads; with --strict (here) it is a protocol violation (exit 1).
-- exit: 1
-- args: --timeout 5 --strict
-- stderr: fault_malformed_bare_lf\.lua:[0-9]+: protocol violation \(--strict\).*bare LF
-- within: 3
local smtp = require "parley.mock.smtp"
local m = smtp.start { faults = { EHLO = { malformed = "bare_lf" } } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("EHLO client.example")
c:expect("2xx")
