-- expect_failure_message.lua: a reply that does not match fails the run (exit 1) with a
-- message naming what was expected, what came, what the code means, where in the script,
-- how long it waited of which timeout, and the last bytes received.
-- exit: 1
-- args: --timeout 4
-- stderr: expect_failure_message\.lua:[0-9]+
-- stderr: expected 250, got: 550 5\.1\.1 <nobody@example\.net>: no such user
-- stderr: meaning: .*(mailbox|user|[Mm]ailbox)
-- stderr: waited [0-9]+\.[0-9]{3} s of the 4 s timeout on connection [0-9]+ to 127\.0\.0\.1:[0-9]+
-- stderr: last bytes received: ".*550 5\.1\.1 <nobody@example\.net>: no such user\\r\\n"
-- stderr-not: stack traceback
-- within: 6

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = srv:accept()
  c:send("220 ready")
  c:read_line()
  c:send("550 5.1.1 <nobody@example.net>: no such user")
  c:read_line(3)
end)

local c = connect("127.0.0.1", srv.port)
c:expect(220)
c:send("RCPT TO:<nobody@example.net>")
c:expect(250)  -- this line is named in the failure
print("not reached")
