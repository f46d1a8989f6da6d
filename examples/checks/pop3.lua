-- Ready checks for a POP3 server (port 110 with STLS).
--
--   parley test examples/checks/pop3.lua host=mail.example.net [pop3_port=110] [pop3_host=]
--       [ca=FILE] [sni=NAME] [days=21]
--
-- For POP3S (995, TLS first) run examples/checks/implicit_tls.lua.
local pop3 = require "parley.pop3"
local checks = require "parley.checks"

local host = checks.host("pop3")
local port = checks.port("pop3", 110)

local function session()
  return checks.plain(host, port, function()
    return pop3.connect { host = host, port = port, timeout = checks.wait() }
  end)
end

test("capabilities are sane and STLS is offered", function()
  local s = session()
  local caps = s:capa()
  if not caps then fail("CAPA is not supported (RFC 2449): clients cannot discover STLS or SASL") end
  if not caps.STLS then
    fail("STLS is not offered on port " .. port .. ": logins and mail would travel in the clear")
  end
  s:quit()
end)

test("plaintext login is refused before STLS", function()
  local s = session()
  -- A made-up user: a server that answers +OK would read the password in the clear next.
  local r = s:user("parley-probe", { expect = { "+OK", "-ERR" } })
  if r.ok then
    fail("USER is accepted before STLS: the next command would carry the password in the clear. " ..
      "Require TLS for authentication (Dovecot: disable_plaintext_auth = yes, ssl = required).")
  end
  s:quit()
end)

test("TLS 1.0 and 1.1 are refused", function()
  checks.old_tls_refused("STLS on port " .. port, function(max)
    local s = session()
    s:starttls(checks.tls_options(host, { tls_max = max, verify = false }))
    s:quit()
  end)
end)

test("the certificate is valid, matches the name and is not about to expire", function()
  local s = session()
  s:starttls(checks.tls_options(host, { verify = false }))
  checks.certificate(s.conn, "POP3 port " .. port, capture)
  s:quit()
end)
