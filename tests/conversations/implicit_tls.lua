-- implicit_tls.lua: a TLS listener (tls=true) and connect{tls=true} with the listener's
-- certificate as ca_pem: the handshake happens before the first byte, c.tls is set on both
-- sides at once and verified, and starttls on a connection already under TLS is a script error.
-- exit: 0
-- args: --timeout 5
-- stdout: implicit tls ok
-- within: 8

local srv = listen { host = "127.0.0.1", port = 0, tls = true }
assert(srv.tls == "implicit", "tls=true means implicit: " .. tostring(srv.tls))
local server = spawn(function()
  local s = srv:accept()
  assert(s.tls and s.tls.version:find("^TLS"), "accepted connection is under TLS already")
  s:send("220 tls from the start")
  assert(s:read_line() == "QUIT")
  s:send("221 bye")
  s:close()
end)

local c = connect { host = "127.0.0.1", port = srv.port, tls = true, ca_pem = srv.cert_pem }
assert(c.tls and c.tls.verified == true, "verified against ca_pem")
local r = c:expect(220)
assert(r.text == "tls from the start")
local ok, err = pcall(c.starttls, c, {})
assert(not ok and err.exit == 2 and tostring(err):find("under TLS already"),
  "starttls twice is a script error: " .. tostring(err))
c:send("QUIT")
c:expect(221)
c:close()
server:join()
print("implicit tls ok")
