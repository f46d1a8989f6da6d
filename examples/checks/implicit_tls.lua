-- Ready checks for the implicit-TLS ports, where the server speaks TLS first (RFC 8314):
-- SMTP submission on 465, IMAPS on 993, POP3S on 995. For each: the handshake and the
-- greeting under TLS, TLS 1.0/1.1 refused, and the certificate.
--
--   parley test examples/checks/implicit_tls.lua host=mail.example.net [smtps_port=465]
--       [imaps_port=993] [pop3s_port=995] [smtps_host=] [imaps_host=] [pop3s_host=]
--       [ca=FILE] [sni=NAME] [days=21]
--
-- A port where nothing listens (connection refused) is skipped: the service is not offered.
local smtp = require "parley.smtp"
local imap = require "parley.imap"
local pop3 = require "parley.pop3"
local checks = require "parley.checks"

local services = {
  { name = "smtps", label = "SMTP submission over TLS", port = 465, lib = smtp,
    bye = function(s) s:quit() end },
  { name = "imaps", label = "IMAPS", port = 993, lib = imap, bye = function(s) s:quit() end },
  { name = "pop3s", label = "POP3S", port = 995, lib = pop3, bye = function(s) s:quit() end },
}

for _, svc in ipairs(services) do
  local host = checks.host(svc.name)
  local port = checks.port(svc.name, svc.port)
  local what = svc.label .. " on port " .. port

  -- A session over TLS from the first byte; nothing listening skips the case.
  local function open(extra)
    local opts = checks.tls_options(host, extra or { verify = false })
    opts.host, opts.port, opts.tls, opts.timeout = host, port, "implicit", checks.wait()
    local ok, s = pcall(svc.lib.connect, opts)
    if ok then return s end
    local msg = type(s) == "table" and tostring(s.message or "") or tostring(s)
    if type(s) == "table" and s.kind == "network" and msg:find("[Rr]efused") then
      skip("nothing listens on port " .. port .. " (connection refused): no " .. svc.label ..
        " service to check")
    end
    error(s, 0)
  end

  test(what .. ": speaks TLS first and greets under it", function()
    local s = open()
    expect_true(s.tls ~= nil, "no TLS session")
    capture(svc.name .. " TLS", s.tls.version .. " " .. s.tls.cipher)
    svc.bye(s)
  end)

  test(what .. ": TLS 1.0 and 1.1 are refused", function()
    checks.old_tls_refused(what, function(max)
      local s = open { tls_max = max, verify = false }
      svc.bye(s)
    end)
  end)

  test(what .. ": the certificate is valid, matches the name and is not about to expire", function()
    local s = open()
    checks.certificate(s, what, capture)
    svc.bye(s)
  end)
end
