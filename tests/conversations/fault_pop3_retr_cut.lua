-- fault_pop3_retr_cut.lua: the POP3 mock hangs up 30 bytes into the message of RETR. The POP3
-- client library fails at once (exit 1): the server closed the connection mid-response.
-- exit: 1
-- args: --timeout 10
-- stderr: fault_pop3_retr_cut\.lua:[0-9]+: .*closed the connection
-- within: 3
local mock = require "parley.mock.pop3"
local pop3 = require "parley.pop3"
local store = require("parley.mock.store").new()
store:deliver("alice", "Subject: cut\r\n\r\n" .. string.rep("line of text\r\n", 50))
local m = mock.start { users = { alice = "pw" }, store = store, faults = { RETR = { cut = 30 } } }
local p = pop3.connect { port = m.port }
p:login("alice", secret("pw"))
assert(p:stat() == 1)
p:retr(1)
print("not reached")
