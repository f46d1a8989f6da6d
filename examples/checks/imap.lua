-- Ready checks for an IMAP server (port 143 with STARTTLS).
--
--   parley test examples/checks/imap.lua host=mail.example.net [imap_port=143] [imap_host=]
--       [ca=FILE] [sni=NAME] [days=21]
--
-- For IMAPS (993, TLS first) run examples/checks/implicit_tls.lua.
local imap = require "parley.imap"
local checks = require "parley.checks"

local host = checks.host("imap")
local port = checks.port("imap", 143)

-- A session read with IMAP's own framing (tags, untagged data, literals).
local function open()
  local s = checks.plain(host, port, function()
    return imap.connect { host = host, port = port, timeout = checks.wait() }
  end)
  if s.greeting.status == "PREAUTH" then
    fail("the server logs clients in without credentials (PREAUTH): " .. s.greeting.text)
  end
  return s
end

local function starttls(s, extra)
  s:starttls(checks.tls_options(host, extra or { verify = false }))
end

test("capabilities are sane and STARTTLS is offered", function()
  local s = open()
  local caps = s:capabilities()
  expect_true(caps.IMAP4REV1 or caps.IMAP4REV2, "CAPABILITY lists neither IMAP4rev1 nor IMAP4rev2")
  if not caps.STARTTLS then
    fail("STARTTLS is not offered on port " .. port .. ": logins and mail would travel in the clear")
  end
  s:quit()
end)

test("plaintext login is refused before STARTTLS", function()
  local s = open()
  local caps = s:capabilities()
  if not caps.LOGINDISABLED then
    -- Made-up credentials: the answer tells whether the server reads logins in the clear.
    local r = s:login("parley-probe", "not-a-password", { expect = { "OK", "NO", "BAD" } })
    if r.code ~= "PRIVACYREQUIRED" then
      fail("the server accepts LOGIN before STARTTLS (no LOGINDISABLED; LOGIN answered \"" ..
        r.text .. "\"): passwords may travel in the clear. Require TLS for authentication " ..
        "(Dovecot: disable_plaintext_auth = yes, ssl = required).")
    end
  end
  s:quit()
end)

test("after STARTTLS, login is possible", function()
  local s = open()
  starttls(s)
  local caps = s:capabilities()
  expect_false(caps.LOGINDISABLED, "LOGINDISABLED is still advertised under TLS: users cannot log in")
  s:quit()
end)

test("TLS 1.0 and 1.1 are refused", function()
  checks.old_tls_refused("STARTTLS on port " .. port, function(max)
    local s = open()
    starttls(s, { tls_max = max, verify = false })
    s:quit()
  end)
end)

test("the certificate is valid, matches the name and is not about to expire", function()
  local s = open()
  starttls(s)
  checks.certificate(s, "IMAP port " .. port, capture)
  s:quit()
end)
