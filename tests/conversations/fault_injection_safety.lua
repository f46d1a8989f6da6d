-- fault_injection_safety.lua: a CR or LF inside a line never leaves parley. A mock hook whose
-- reply holds CRLF, and one that calls send with CRLF itself, are both refused (the mock answers
-- 451 and records the error); a bare CR in a client's address is not echoed back. Last, the
-- client side: send with CRLF is a script error (exit 2) and nothing is sent.
-- exit: 2
-- args: --timeout 5
-- stderr: fault_injection_safety\.lua:[0-9]+: send: the line holds a CR at byte 24
-- stderr-not: -> RCPT TO:<b@example\.net>
-- stdout: mock refused both injections
-- within: 4
local smtp = require "parley.mock.smtp"
local m = smtp.start {
  users = { alice = "pw" },
  on = {
    VRFY = "252 ok\r\n250 injected",
    EXPN = function(cmd, s) s.conn:send("250 ok\r\n250 injected") return true end,
  },
}
local c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("HELO client.example")
c:expect(250)
for _, verb in ipairs { "VRFY alice", "EXPN list" } do
  c:send(verb)
  local r = c:expect(451)
  assert(#r.lines == 1, "one reply, nothing injected")
end
assert(#m.errors == 2, "both refusals recorded: " .. table.concat(m.errors, "\n"))
for _, e in ipairs(m.errors) do assert(e:find("CR", 1, true), e) end
c:send("MAIL FROM:<bob@example.org>")
c:expect(250)
c:send_raw("RCPT TO:<alice\r@example.net>\r\n")
local r = c:expect("5xx")
assert(not r.raw:find("\r", 1, true) or r.raw:find("\r") == #r.raw - 1, "no bare CR echoed")
c:send("NOOP")
c:expect(250)
print("mock refused both injections")
c:send("RCPT TO:<a@example.net>\r\nRCPT TO:<b@example.net>")
