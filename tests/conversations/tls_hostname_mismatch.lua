-- tls_hostname_mismatch.lua: the certificate is trusted (ca_pem) but made for localhost and
-- 127.0.0.1; asking for sni="wrong.example" must fail the name check with exit 3, naming the
-- names the certificate carries and suggesting sni= (and ca=, verify=false). First through
-- pcall on STARTTLS, then for real with implicit TLS.
-- exit: 3
-- args: --timeout 5
-- stderr: the certificate of 127\.0\.0\.1:[0-9]+ did not pass the check
-- stderr: verify=false
-- stderr: hostname mismatch
-- stderr: The certificate names localhost, 127\.0\.0\.1, ::1, not wrong\.example
-- stderr: pass sni=localhost
-- stderr: ca=FILE
-- stdout: starttls name check refused
-- within: 6

local srv = listen { host = "127.0.0.1", port = 0, tls = "starttls" }
spawn(function()
  local s = srv:accept()
  s:send("220 ready")
  s:read_line()
  s:send("220 go")
  pcall(s.starttls, s, {})
  s:close()
end)

local c = connect("127.0.0.1", srv.port)
c:expect(220)
c:send("STARTTLS")
c:expect(220)
local ok, err = pcall(c.starttls, c, { sni = "wrong.example", ca_pem = srv.cert_pem })
assert(not ok and type(err) == "table" and err.exit == 3,
  "a name mismatch must fail the STARTTLS check: " .. tostring(err))
assert(not c:is_open(), "the connection is closed after a failed check")
print("starttls name check refused")

local tsrv = listen { host = "127.0.0.1", port = 0, tls = true }
spawn(function()
  for _ = 1, 2 do
    local s = tsrv:accept()
    spawn(function() s:read_line(3) end)
  end
end)
-- the same trust, the right name: accepted
local good = connect { host = "127.0.0.1", port = tsrv.port, tls = true, ca_pem = tsrv.cert_pem }
assert(good.tls.verified, "127.0.0.1 matches the IP SAN")
good:close()
connect { host = "127.0.0.1", port = tsrv.port, tls = true, sni = "wrong.example", ca_pem = tsrv.cert_pem }
print("not reached")
