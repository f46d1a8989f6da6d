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

--- The deadline of each wait of a check's conversation: a third of the case's (--timeout),
-- so that a server that never answers is reported with the reason before the case's own
-- deadline cuts it short.
function M.wait()
  return math.max(1, (parley.options.timeout or 30) / 3)
end

--- Days before expiry below which a certificate fails (`days=`, default 21).
function M.min_days()
  return tonumber(arg("days")) or 21
end

-- The names a certificate carries (its subject alternative names, else its subject).
local function cert_names(cert)
  local names = {}
  for _, san in ipairs(cert and cert.sans or {}) do names[#names + 1] = san:gsub("^%u+:", "") end
  if #names == 0 and cert and cert.subject then names[1] = cert.subject end
  return names
end

--- What to do about a certificate that failed verification: for a name mismatch the names it
-- carries and `sni=`; for an unknown issuer (a private CA) `ca=`; `verify=false` always.
function M.verify_advice(tls, checked)
  local err = tostring(tls.verify_error or "")
  if err:find("mismatch") then
    local names = cert_names(tls.cert)
    return "The certificate names " .. table.concat(names, ", ") ..
      (checked and (", not " .. checked) or "") .. ". If clients reach the server under one " ..
      "of those names, check with sni=" .. (names[1] or "NAME") .. "; otherwise install a " ..
      "certificate that names " .. (checked or "the host") .. ". (ca=FILE trusts a private " ..
      "CA; verify=false looks without checking.)"
  end
  if err:find("issuer") or err:find("self%-signed") or err:find("leaf signature") then
    return "Its issuer (" .. tostring(tls.cert and tls.cert.issuer) .. ") is not among the " ..
      "trusted CAs. For a private CA, check with ca=FILE (that CA's certificate); clients " ..
      "need it too. Otherwise install a certificate from a CA clients trust. (verify=false " ..
      "looks without checking.)"
  end
  return "Clients that check certificates will refuse to connect, and those that do not are " ..
    "open to a man in the middle. Install a certificate from a trusted CA that names the host."
end

--- Fails unless the certificate facts of `c.tls` pass: verified against the trusted CAs,
-- matching the name, and not expiring within min_days().
-- @param record optional function(name, value), e.g. the test file's `capture`
function M.certificate(c, what, record)
  local tls = c.tls
  if not tls then fail(what .. ": no TLS session to inspect") end
  if not tls.verified then
    fail(what .. ": the certificate does not pass verification (" .. tostring(tls.verify_error) ..
      "). " .. M.verify_advice(tls, arg("sni") or c.host))
  end
  local left = (tls.cert.not_after_epoch - os.time()) / 86400
  if record then record(what .. " certificate expires", tls.cert.not_after) end
  if left < M.min_days() then
    fail(string.format("%s: the certificate expires in %.0f days (%s), less than the %d days " ..
      "this check wants. Renew it before clients start refusing the connection.",
      what, left, tls.cert.not_after, M.min_days()))
  end
end

-- Whether an error is a TLS or network failure (a refusal), not a script error.
local function refusal(err)
  return type(err) == "table" and (err.kind == "tls" or err.kind == "network")
end

--- Fails when `handshake(tls_max)` succeeds with TLS 1.1 or older: `handshake` opens the
-- service and runs the TLS handshake with the given maximum version (nil: the defaults).
-- The premise is checked first: when no handshake succeeds at all, not even with TLS 1.2 or
-- 1.3, refusing the old versions proves nothing, and the check fails saying why.
function M.old_tls_refused(what, handshake)
  local ok, err = pcall(handshake, nil)
  if not ok then
    if not refusal(err) then error(err, 0) end
    fail(what .. ": no TLS handshake succeeds at all, not even with TLS 1.2 or 1.3, so " ..
      "whether TLS 1.0 and 1.1 are refused cannot be told. The handshake failed: " ..
      tostring(err.message or err))
  end
  for _, v in ipairs { "1.0", "1.1" } do
    ok, err = pcall(handshake, v)
    if ok then
      fail(what .. ": TLS " .. v .. " is accepted. TLS 1.0 and 1.1 are deprecated (RFC 8996): " ..
        "their weak ciphers and handshake let an attacker downgrade or decrypt sessions. " ..
        "Allow TLS 1.2 and 1.3 only.")
    elseif not refusal(err) then
      error(err, 0)
    end
  end
end

-- Services found to speak TLS first, by "host:port": later cases fail at once instead of
-- waiting for a greeting that never comes.
local tls_first = {}

--- Opens a plaintext session with `open()` (and returns its results), failing at once (with
-- the advice) when an earlier case found that `host:port` speaks TLS first. When `open`
-- times out, a probe tells whether the port speaks TLS first, and the failure says so.
function M.plain(host, port, open)
  local key = tostring(host) .. ":" .. tostring(port)
  if tls_first[key] then
    fail("port " .. port .. " speaks TLS first (an earlier case found it): these checks are " ..
      "for a plaintext port with STARTTLS; for implicit TLS run examples/checks/implicit_tls.lua")
  end
  local results = table.pack(pcall(open))
  if results[1] then return table.unpack(results, 2, results.n) end
  local res = results[2]
  if type(res) == "table" and res.kind == "timeout" and
     not tostring(res.message or ""):find("speaks TLS first") and M.speaks_tls_first(host, port) then
    res.message = tostring(res.message) .. "\n  this port speaks TLS first: use tls=true (a TLS " ..
      "handshake on it succeeds)"
  end
  if type(res) == "table" and tostring(res.message or ""):find("speaks TLS first") then
    tls_first[key] = true
  end
  error(res, 0)
end

--- Whether a TLS handshake on `host:port` succeeds (the certificate unchecked): a probe for a
-- port that said nothing to a plaintext client.
function M.speaks_tls_first(host, port)
  local ok, c = pcall(parley.connect, { host = host, port = port, tls = true, verify = false,
    timeout = math.min(2, M.wait()) })
  if ok then pcall(c.close, c) end
  return ok
end

return M
