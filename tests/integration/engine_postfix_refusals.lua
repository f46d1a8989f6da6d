-- Real Postfix refusals, seen with the bare engine: relay refused on the MX port, AUTH before
-- STARTTLS refused on submission, an unknown user refused; the failure message names the
-- RFC meaning of the code.
-- exit: 1
-- args: --timeout 10
-- stderr: expected 250, got: 550 5\.1\.1
-- stderr: meaning: 550
-- stderr: engine_postfix_refusals\.lua:31
local c = connect { host = args.HOST, port = args.SMTP_PORT }
c:expect(220)
c:send("EHLO parley.test")
c:expect(250)
c:send("MAIL FROM:<probe@parley.test>")
c:expect(250)
c:send("RCPT TO:<victim@elsewhere.test>")
local relay = c:expect("5xx")
assert(relay.enhanced == "5.7.1", "relay refused with 5.7.1, got " .. tostring(relay.enhanced))

local sub = connect { host = args.HOST, port = args.SUBMISSION_PORT }
sub:expect(220)
sub:send("EHLO parley.test")
local caps = sub:expect(250)
assert(not caps.text:find("AUTH"), "no AUTH offered before STARTTLS")
sub:send("AUTH PLAIN " .. require("parley.crypto").b64encode("\0" .. args.USER1 .. "\0" .. args.PASS1))
sub:expect(530)
sub:send("QUIT")
sub:expect(221)

-- The last expectation fails on purpose: the header checks the message.
c:send("RCPT TO:<nobody@" .. args.DOMAIN .. ">")
c:expect(250)
