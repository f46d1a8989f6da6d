-- Ready checks for a mail submission service (port 587, STARTTLS required before AUTH).
--
--   parley test examples/checks/submission.lua host=mail.example.net [submission_port=587]
--       [ca=FILE] [sni=NAME] [days=21]
local smtp = require "parley.smtp"
local crypto = require "parley.crypto"
local checks = require "parley.checks"

local host = checks.host("submission")
local port = checks.port("submission", 587)

local function session()
  return checks.plain(host, port, function()
    return smtp.connect { host = host, port = port, helo = "parley-check.invalid", timeout = checks.wait() }
  end)
end

test("STARTTLS is offered", function()
  local s = session()
  if not s.caps.STARTTLS then
    fail("STARTTLS is not offered on the submission port " .. port .. ": users' passwords and " ..
      "messages would travel in the clear")
  end
  s:quit()
end)

test("AUTH is not offered before STARTTLS", function()
  local s = session()
  if s.caps.AUTH and next(s.caps.AUTH) then
    fail("AUTH is offered before STARTTLS: a mail client may send the password unencrypted " ..
      "(RFC 8314). Offer AUTH only under TLS (Postfix smtpd_tls_auth_only=yes).")
  end
  s:quit()
end)

test("AUTH before STARTTLS is refused", function()
  local s = session()
  -- Made-up credentials: nothing real is ever sent in the clear.
  local probe = crypto.b64encode("\0parley-probe\0not-a-password")
  local r = s:command("AUTH PLAIN " .. probe, { expect = { "2xx", "3xx", "4xx", "5xx" } })
  if r.code // 100 ~= 5 then
    fail("AUTH PLAIN before STARTTLS got " .. r.code .. " " .. r.text .. ": the server reads " ..
      "credentials over a plaintext connection; it should refuse with 530 5.7.0")
  end
  s:quit()
end)

test("AUTH is offered after STARTTLS", function()
  local s = session()
  s:starttls(checks.tls_options(host, { verify = false }))
  if not (s.caps.AUTH and next(s.caps.AUTH)) then
    fail("no AUTH mechanism is offered after STARTTLS: users cannot log in to submit mail")
  end
  local mechs = {}
  for m in pairs(s.caps.AUTH) do mechs[#mechs + 1] = m end
  table.sort(mechs)
  capture("mechanisms", table.concat(mechs, " "))
  s:quit()
end)

test("TLS 1.0 and 1.1 are refused", function()
  checks.old_tls_refused("STARTTLS on port " .. port, function(max)
    local s = session()
    s:starttls(checks.tls_options(host, { tls_max = max, verify = false }))
    s:quit()
  end)
end)

test("the certificate is valid, matches the name and is not about to expire", function()
  local s = session()
  s:starttls(checks.tls_options(host, { verify = false }))
  checks.certificate(s.conn, "submission port " .. port, capture)
  s:quit()
end)
