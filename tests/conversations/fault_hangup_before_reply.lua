-- fault_hangup_before_reply.lua: the mock hangs up instead of answering RCPT; the SMTP client
-- library fails at once (exit 1) saying the server closed the connection, at the script's line.
-- exit: 1
-- args: --timeout 10
-- stderr: fault_hangup_before_reply\.lua:16: .*closed the connection
-- within: 3
local mock = require "parley.mock.smtp"
local smtp = require "parley.smtp"
local m = mock.start { users = { alice = "pw" }, faults = { RCPT = { hangup = true, after = 1 } } }
local s = smtp.connect { port = m.port }
s:ehlo("client.example")
s:mail("bob@example.org")
s:rcpt("alice@example.net")   -- the first RCPT passes (after = 1)
s:rset()
s:mail("bob@example.org")
s:rcpt("alice@example.net")
print("not reached")
