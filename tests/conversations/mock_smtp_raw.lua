-- mock_smtp_raw.lua: the SMTP mock, command by command as a client types them: order errors,
-- AUTH LOGIN and CRAM-MD5 against the user table, a refused password, recipients of known and
-- unknown users, DATA with dot-unstuffing, BDAT, RSET, NOOP, VRFY, an unknown command, QUIT.
-- exit: 0
-- args: --timeout 5
-- stdout: smtp mock ok
-- within: 5
local crypto = require "parley.crypto"
local smtp = require "parley.mock.smtp"
local m = smtp.start { users = { alice = "secret", bob = "hunter2" }, hostname = "mx.test" }
local c = connect("127.0.0.1", m.port)
c:expect("^mx%.test ESMTP")
c:send("MAIL FROM:<x@example.org>")
c:expect("^5%.5%.1 .*HELO")
c:send("EHLO client.example")
local r = c:expect(250)
assert(r.lines[1] == "mx.test greets client.example", r.lines[1])
assert(r.text:find("AUTH PLAIN LOGIN CRAM-MD5", 1, true) and not r.text:find("STARTTLS"), r.text)
c:send("RCPT TO:<alice@example.net>")
c:expect(503)

-- AUTH LOGIN with a wrong password, then CRAM-MD5 with the right one
c:send("AUTH LOGIN")
assert(crypto.b64decode(c:expect(334).text) == "Username:")
c:send(crypto.b64encode("alice"))
assert(crypto.b64decode(c:expect(334).text) == "Password:")
c:send(crypto.b64encode("wrong"))
c:expect("^5%.7%.8")
c:send("AUTH CRAM-MD5")
local challenge = crypto.b64decode(c:expect(334).text)
c:send(crypto.b64encode("alice " .. crypto.hex(crypto.hmac("md5", "secret", challenge))))
c:expect(235)
c:send("AUTH PLAIN " .. crypto.b64encode("\0alice\0secret"))
c:expect(503)

c:send("MAIL FROM:<carol@example.org> SIZE=100")
c:expect(250)
c:send("RCPT TO:<nobody@example.net>")
r = c:expect(550)
assert(r.enhanced == "5.1.1" and r.text:find("<nobody@example.net>", 1, true), r.text)
c:send("RCPT TO:<BOB@anywhere.example>")
c:expect(250)
c:send("DATA")
c:expect(354)
c:send("Subject: dots")
c:send("")
c:send("..one leading dot")
c:send("...")
c:send(".")
c:expect("^2%.0%.0 Ok: queued as")
local msg = m.store:messages("bob")[1]
assert(msg.text == "Subject: dots\r\n\r\n.one leading dot\r\n..\r\n", msg.text)
assert(msg.from == "carol@example.org" and msg.to[1] == "BOB@anywhere.example")

c:send("MAIL FROM:<>")
c:expect(250)
c:send("RSET")
c:expect(250)
c:send("DATA")
c:expect(503)
c:send("MAIL FROM:<carol@example.org>")
c:expect(250)
c:send("RCPT TO:<alice@example.net>")
c:expect(250)
c:send_raw("BDAT 5\r\nHello")
c:expect(250)
c:send_raw("BDAT 8 LAST\r\n world\r\n")
c:expect("queued as")
assert(m.store:messages("alice")[1].text == "Hello world\r\n")

c:send("NOOP")
c:expect(250)
c:send("VRFY alice")
c:expect(252)
c:send("FROBNICATE")
c:expect(500)
c:send("QUIT")
c:expect(221)
assert(c:read_reply() == nil, "closed after QUIT")
assert(#m.errors == 0 and m.sessions == 1)
print("smtp mock ok")
