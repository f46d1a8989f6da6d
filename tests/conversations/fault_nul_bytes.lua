-- fault_nul_bytes.lua: a greeting with NUL bytes in its text. The code still reads as 220 and
-- the transcript shows the NULs escaped; a check of the text fails (exit 1) at the script's line.
-- exit: 1
-- args: --timeout 5
-- stderr: <- 220 \\x00\\x00mock\.parley\.test ESMTP
-- stderr: fault_nul_bytes\.lua:15: expected pattern "\^mock%\.parley%\.test ESMTP", got: 220
-- within: 3
local smtp = require "parley.mock.smtp"
local m = smtp.start { faults = { greeting = { malformed = "nul" } } }
local c = connect("127.0.0.1", m.port)
local r = c:read_reply()
assert(r.code == 220 and r.text:find("\0", 1, true), "the NULs came through in the text")
c:close()
local c2 = connect("127.0.0.1", m.port)
c2:expect("^mock%.parley%.test ESMTP")
