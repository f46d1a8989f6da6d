-- starttls_both_sides.lua: STARTTLS played by both sides. The server upgrades an accepted
-- connection with the listener's on-the-fly certificate, the client trusts it through
-- ca_pem = srv.cert_pem, and c.tls holds the facts: version "TLS...", a cipher, verified true,
-- a certificate with subject, issuer, serial, dates, a SHA-256 fingerprint, SANs with
-- DNS:localhost and IP:127.0.0.1 and the PEM itself. The conversation goes on under TLS and
-- the transcript switches to the TLS arrows.
-- exit: 0
-- args: --timeout 5
-- stdout: starttls ok TLS
-- stderr: === TLS TLS.*\(verified\)
-- stderr: ~> EHLO again
-- stderr: <~ 250 under tls
-- within: 8

local srv = listen { host = "127.0.0.1", port = 0, tls = "starttls" }
assert(srv.tls == "starttls")
assert(type(srv.cert_pem) == "string" and srv.cert_pem:find("^%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-"),
  "the listener shows its certificate")

local server = spawn(function()
  local s = srv:accept()
  s:send("220 ready")
  assert(s:read_line() == "STARTTLS")
  s:send("220 2.0.0 go ahead")
  local facts = s:starttls {}
  assert(type(facts) == "table" and facts.version:find("^TLS"), "server side gets facts too")
  assert(s.tls and s.tls.version == facts.version, "server's c.tls")
  local l = s:read_line()
  assert(l == "EHLO again", "first line under TLS: " .. tostring(l))
  s:send("250 under tls")
  assert(s:read_line() == "QUIT")
  s:send("221 bye")
  s:close()
end)

local c = connect("127.0.0.1", srv.port)
c:expect(220)
c:send("STARTTLS")
c:expect(220)
local facts = c:starttls { ca_pem = srv.cert_pem }
local t = c.tls
assert(t, "c.tls after the handshake")
assert(facts.version == t.version, "starttls returns the same facts")
assert(type(t.version) == "string" and t.version:find("^TLS"), "version: " .. tostring(t.version))
assert(type(t.cipher) == "string" and #t.cipher > 0, "cipher")
assert(t.verified == true, "verified with ca_pem: " .. tostring(t.verify_error))
assert(t.verify_error == nil, "no verify error when verified")
local cert = t.cert
assert(cert, "peer certificate")
assert(cert.subject:find("localhost"), "subject: " .. cert.subject)
assert(type(cert.issuer) == "string" and #cert.issuer > 0, "issuer")
assert(type(cert.serial) == "string" and #cert.serial > 0, "serial")
assert(type(cert.not_before) == "string" and type(cert.not_after) == "string", "dates")
assert(math.type(cert.not_after_epoch) == "integer" and cert.not_after_epoch > os.time(),
  "not_after_epoch in the future")
assert(cert.sha256:upper():gsub("[^0-9A-F]", ""):len() == 64, "sha256 has 64 hex digits: " .. cert.sha256)
assert(cert.sha256:find("^%x%x:%x%x") or cert.sha256:find("^%x+$"), "sha256 format: " .. cert.sha256)
local sans = table.concat(cert.sans, ",")
local has = {}
for _, s in ipairs(cert.sans) do has[s] = true end
assert(has["DNS:localhost"], "SANs include DNS:localhost: " .. sans)
assert(has["IP:127.0.0.1"], "SANs include IP:127.0.0.1: " .. sans)
assert(cert.pem == srv.cert_pem or cert.pem:gsub("%s", "") == srv.cert_pem:gsub("%s", ""),
  "the peer's PEM is the listener's certificate")

c:send("EHLO again")
c:expect(250)
c:send("QUIT")
c:expect(221)
c:close()
server:join()
-- (a second starttls on one connection is a script error: see implicit_tls.lua)
print("starttls ok " .. t.version)
