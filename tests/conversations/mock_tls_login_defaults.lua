-- mock_tls_login_defaults.lua: with tls = "starttls" the mocks take no password in the clear,
-- as a real server does: SMTP lists no AUTH and answers 538 before STARTTLS, IMAP says
-- LOGINDISABLED and NO [PRIVACYREQUIRED], POP3 hides USER/SASL and answers -ERR; after the
-- upgrade logins work. allow_plaintext_auth = true opts out.
-- exit: 0
-- args: --timeout 5
-- stdout: tls login defaults ok
-- within: 20
local crypto = require "parley.crypto"
local users = { alice = "secret" }
local plain = crypto.b64encode("\0alice\0secret")

local function smtp_check(opts, in_clear)
  local m = require("parley.mock.smtp").start(opts)
  local c = connect("127.0.0.1", m.port)
  c:expect(220)
  c:send("EHLO client.example")
  local r = c:expect(250)
  assert((r.text:find("AUTH PLAIN", 1, true) ~= nil) == in_clear, r.text)
  c:send("AUTH PLAIN " .. plain)
  if in_clear then
    c:expect(235)
  else
    c:expect("^5%.7%.11")
    c:send("MAIL FROM:<a@example.org>") -- mail without AUTH is still taken (port 25 style)
    c:expect(250)
    c:send("RSET")
    c:expect(250)
    c:send("STARTTLS")
    c:expect(220)
    c:starttls { ca_pem = m.cert_pem }
    c:send("EHLO client.example")
    assert(c:expect(250).text:find("AUTH PLAIN", 1, true))
    c:send("AUTH PLAIN " .. plain)
    c:expect(235)
  end
  c:close()
  m:stop()
end

local function imap_check(opts, in_clear)
  local m = require("parley.mock.imap").start(opts)
  local c = connect { port = m.port, framing = "imap" }
  local g = c:expect("^%* OK")
  assert((g.text:find("LOGINDISABLED", 1, true) == nil) == in_clear, g.text)
  assert((g.text:find("AUTH=PLAIN", 1, true) ~= nil) == in_clear, g.text)
  c:send("a LOGIN alice secret")
  if in_clear then
    c:expect("^a OK")
  else
    c:expect("^a NO %[PRIVACYREQUIRED%]")
    c:send("b AUTHENTICATE PLAIN " .. plain)
    c:expect("^b NO %[PRIVACYREQUIRED%]")
    c:send("c STARTTLS")
    c:expect("^c OK")
    c:starttls { ca_pem = m.cert_pem }
    c:send("d LOGIN alice secret")
    c:expect("^d OK")
  end
  c:close()
  m:stop()
end

local function pop3_check(opts, in_clear)
  local m = require("parley.mock.pop3").start(opts)
  local c = connect { port = m.port, framing = "pop3" }
  c:expect("^%+OK")
  c:send("CAPA")
  c:want_block() -- a multi-line answer, up to "."
  local r = c:expect("^%+OK")
  assert((r.raw:find("\nUSER", 1, true) ~= nil) == in_clear, r.raw)
  c:send("USER alice")
  if in_clear then
    c:expect("^%+OK")
    c:send("PASS secret")
    c:expect("^%+OK")
  else
    c:expect("^%-ERR")
    c:send("AUTH PLAIN " .. plain)
    c:expect("^%-ERR")
    c:send("STLS")
    c:expect("^%+OK")
    c:starttls { ca_pem = m.cert_pem }
    c:send("USER alice")
    c:expect("^%+OK")
    c:send("PASS secret")
    c:expect("^%+OK")
  end
  c:close()
  m:stop()
end

for _, check in ipairs { smtp_check, imap_check, pop3_check } do
  check({ users = users, tls = "starttls" }, false)
  check({ users = users, tls = "starttls", allow_plaintext_auth = true }, true)
  check({ users = users }, true) -- no TLS at all: nothing to wait for
end
print("tls login defaults ok")
