-- fault_imap_huge_literal.lua: an IMAP mock that answers FETCH with a literal of 4294967295
-- bytes. The client's IMAP framing refuses to wait for (or buffer) 4 GB: the read fails at once
-- with a clear message (exit 1), long before the timeout.
-- exit: 1
-- args: --timeout 10
-- stderr: fault_imap_huge_literal\.lua:[0-9]+: malformed input from 127\.0\.0\.1:[0-9]+: .*literal of 4294967295 bytes
-- within: 3
local mock = require "parley.mock.imap"
local store = require("parley.mock.store").new()
store:deliver("alice", "Subject: x\r\n\r\nbody\r\n")
local m = mock.start { users = { alice = "pw" }, store = store,
                       faults = { FETCH = { malformed = "huge_literal" } } }
local c = connect { port = m.port, framing = "imap" }
local function tagged(tag)
  local r
  repeat r = c:read_reply() until r.tag == tag
  assert(r.raw:find("^" .. tag .. " OK"), r.raw)
end
c:expect("parley mock IMAP ready")
c:send("a1 LOGIN alice pw")
tagged("a1")
c:send("a2 SELECT INBOX")
tagged("a2")
c:send("a3 FETCH 1 BODY[]")
c:read_reply()
print("not reached")
