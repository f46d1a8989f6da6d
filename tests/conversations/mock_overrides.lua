-- mock_overrides.lua: every reply of the mocks can be overridden from the script: a 421
-- greeting (the mock then hangs up), one recipient refused with 550 5.1.1, EHLO without
-- STARTTLS, a message refused after DATA, a POP3 RETR answered -ERR, an IMAP LOGIN answered NO
-- (the tag is added), and a hook that answers and hangs up.
-- exit: 0
-- args: --timeout 5
-- stdout: overrides ok
-- within: 5
local smtp = require "parley.mock.smtp"
local users = { alice = "pw", bob = "pw" }

local busy = smtp.start { on = { greeting = "421 4.3.2 Service not available, try later" } }
local c = connect("127.0.0.1", busy.port)
c:expect(421)
assert(c:read_reply() == nil, "the mock hangs up after a 421")

local m = smtp.start {
  tls = "starttls", users = users,
  extensions = function(list)
    local out = {}
    for _, e in ipairs(list) do if e ~= "STARTTLS" then out[#out + 1] = e end end
    return out
  end,
  on = {
    RCPT = function(cmd, s)
      if cmd.address == "bob@example.net" then
        return "550 5.1.1 <bob@example.net>: this one is refused by the test"
      end
    end,
    message = function(cmd) if cmd.text:find("VIAGRA") then return "554 5.7.1 spam" end end,
    HELP = { "214-first", "214 and goodbye", close = true },
  },
}
c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("EHLO client.example")
assert(not c:expect(250).text:find("STARTTLS"), "STARTTLS not advertised")
c:send("MAIL FROM:<x@example.org>")
c:expect(250)
c:send("RCPT TO:<bob@example.net>")
assert(c:expect(550).text:find("refused by the test", 1, true))
c:send("RCPT TO:<alice@example.net>")
c:expect(250)
c:send("DATA")
c:expect(354)
c:send("Subject: VIAGRA")
c:send(".")
c:expect("^5%.7%.1 spam")
assert(m.store:count("alice") == 0, "a refused message is not stored")
c:send("HELP")
assert(#c:expect(214).lines == 2)
assert(c:read_reply() == nil, "closed after the HELP hook")

local store = require("parley.mock.store").new()
store:deliver("alice", "Subject: x\r\n\r\ny\r\n")
local pop = require("parley.mock.pop3").start {
  users = users, store = store, on = { RETR = "-ERR [SYS/TEMP] try again later" },
}
local p = require("parley.pop3").connect { port = pop.port }
p:login("alice", secret("pw"))
local ok, err = pcall(p.retr, p, 1)
assert(not ok and tostring(err):find("try again later", 1, true), tostring(err))
p:quit()

local imap = require("parley.mock.imap").start {
  users = users, store = store,
  on = { LOGIN = function(cmd) if cmd.args[1] == "bob" then return "NO [UNAVAILABLE] maintenance" end end },
}
local i = connect { port = imap.port, framing = "imap" }
i:read_reply()
i:send("t1 LOGIN bob pw")
local r = i:read_reply()
assert(r.raw == "t1 NO [UNAVAILABLE] maintenance\r\n", r.raw)
i:send("t2 LOGIN alice pw")
assert(i:read_reply().raw:find("^t2 OK"))
for _, x in ipairs { busy, m, pop, imap } do assert(#x.errors == 0, table.concat(x.errors, "\n")) end
print("overrides ok")
