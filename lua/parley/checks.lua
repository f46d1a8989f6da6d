--- Helpers shared by the ready checks in examples/checks/: the arguments they take, the TLS
-- options derived from them, and the checks every TLS service gets (certificate, old
-- protocol versions). Each failure says what is wrong and why it matters.
-- @module parley.checks

local parley = require "parley"

local M = {}

local function arg(name) return parley.args[name] end

--- The host to check (`host=`, or `NAME_host=` for one service), failing clearly without one.
function M.host(service)
  local h = (service and arg(service .. "_host")) or arg("host")
  if not h then
    parley.raise(2, "script", "the checks need host=NAME (the server to check), e.g. " ..
      "parley test examples/checks host=mail.example.net")
  end
  return h
end

--- The port of a service: `NAME_port=` or its standard number.
function M.port(service, default)
  return tonumber(arg(service .. "_port")) or default
end

--- TLS options from the arguments: `ca=FILE` (else the system's CAs), `sni=NAME` (the name
-- the certificate must carry; default the host), `verify=false` to look without checking.
function M.tls_options(host, extra)
  local t = { ca = arg("ca"), sni = arg("sni") or host, verify = arg("verify") ~= "false" }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

--- Days before expiry below which a certificate fails (`days=`, default 21).
function M.min_days()
  return tonumber(arg("days")) or 21
end

--- Fails unless the certificate facts of `c.tls` pass: verified against the trusted CAs,
-- matching the name, and not expiring within min_days().
-- @param record optional function(name, value), e.g. the test file's `capture`
function M.certificate(c, what, record)
  local tls = c.tls
  if not tls then fail(what .. ": no TLS session to inspect") end
  if not tls.verified then
    fail(what .. ": the certificate does not pass verification (" .. tostring(tls.verify_error) ..
      "). Clients that check certificates will refuse to connect, and those that do not are " ..
      "open to a man in the middle. Install a certificate from a trusted CA that names the host.")
  end
  local left = (tls.cert.not_after_epoch - os.time()) / 86400
  if record then record(what .. " certificate expires", tls.cert.not_after) end
  if left < M.min_days() then
    fail(string.format("%s: the certificate expires in %.0f days (%s), less than the %d days " ..
      "this check wants. Renew it before clients start refusing the connection.",
      what, left, tls.cert.not_after, M.min_days()))
  end
end

--- Fails when `handshake(tls_max)` succeeds with TLS 1.1 or older: `handshake` opens the
-- service and runs the TLS handshake with the given maximum version.
function M.old_tls_refused(what, handshake)
  for _, v in ipairs { "1.0", "1.1" } do
    local ok, err = pcall(handshake, v)
    if ok then
      fail(what .. ": TLS " .. v .. " is accepted. TLS 1.0 and 1.1 are deprecated (RFC 8996): " ..
        "their weak ciphers and handshake let an attacker downgrade or decrypt sessions. " ..
        "Allow TLS 1.2 and 1.3 only.")
    elseif type(err) ~= "table" or (err.kind ~= "tls" and err.kind ~= "network") then
      error(err, 0)
    end
  end
end

return M
