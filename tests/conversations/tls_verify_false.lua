-- tls_verify_false.lua: verify=false lets the handshake go on against an untrusted
-- certificate: c.tls.verified is false and verify_error says why, both for implicit TLS and
-- for starttls; the transcript says NOT verified.
-- exit: 0
-- args: --timeout 5
-- stdout: unverified: .+
-- stderr: NOT verified: .*verify=false
-- within: 8

local srv = listen { host = "127.0.0.1", port = 0, tls = true }
spawn(function()
  for _ = 1, 1 do
    local s = srv:accept()
    s:send("220 hi")
    s:read_line(3)
    s:close()
  end
end)

local c = connect { host = "127.0.0.1", port = srv.port, tls = true, verify = false }
assert(c.tls, "handshake done")
assert(c.tls.verified == false, "not verified")
assert(type(c.tls.verify_error) == "string" and #c.tls.verify_error > 0, "verify_error set")
assert(c.tls.cert and c.tls.cert.sha256, "the certificate is still described")
c:expect(220)
c:send("QUIT")
c:close()
print("unverified: " .. c.tls.verify_error)

local st = listen { host = "127.0.0.1", port = 0, tls = "starttls" }
spawn(function()
  local s = st:accept()
  s:send("220 ready")
  s:read_line()
  s:send("220 go")
  s:starttls {}
  s:send("250 secure")
  s:read_line(3)
end)
local d = connect("127.0.0.1", st.port)
d:expect(220)
d:send("STARTTLS")
d:expect(220)
d:starttls { verify = false }
assert(d.tls.verified == false and d.tls.verify_error, "starttls verify=false")
d:expect(250)
d:send("QUIT")
d:close()
