-- fault_malformed_mixed_codes.lua: a multi-line EHLO reply whose lines carry different codes
-- (250, 550, 250). Leniently it reads as one reply; with --strict it is a protocol violation
-- (exit 1) that names the two codes.
-- exit: 1
-- args: --timeout 5 --strict
-- stderr: fault_malformed_mixed_codes\.lua:13: protocol violation \(--strict\).*reply codes differ within one reply \(250 and 550\)
-- within: 3
local smtp = require "parley.mock.smtp"
local m = smtp.start { faults = { EHLO = { malformed = "mixed_codes" } } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("EHLO client.example")
c:expect("2xx")
