-- fault_hangup_mid_reply.lua: the mock sends the first 40 bytes of its EHLO reply and hangs
-- up. The client fails at once (exit 1): the peer closed the connection, an incomplete reply
-- was received, and the last bytes are shown.
-- exit: 1
-- args: --timeout 10
-- stderr: fault_hangup_mid_reply\.lua:[0-9]+: expected 2xx, but 127\.0\.0\.1:[0-9]+ closed the connection
-- stderr: an incomplete reply of [0-9]+ bytes was received
-- stderr: last bytes received: ".*250-mock\.parley\.test greets
-- within: 3
local smtp = require "parley.mock.smtp"
local m = smtp.start { faults = { EHLO = { cut = 40 } } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("EHLO client.example")
c:expect("2xx")
