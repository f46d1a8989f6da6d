-- starttls_timeout.lua: a server that says "220 go" to STARTTLS and then never starts the
-- handshake. starttls{timeout=0.5} gives up after about half a second with exit 3 and says the
-- handshake did not finish within 0.5 s (the timeout as given, not rounded down to 0).
-- exit: 3
-- args: --timeout 10
-- stderr: starttls_timeout\.lua:[0-9]+: TLS handshake with 127\.0\.0\.1:[0-9]+ failed: it did not finish within 0\.5 s
-- within: 3

local srv = listen { host = "127.0.0.1", port = 0, tls = "starttls" }
spawn(function()
  local s = srv:accept()
  s:send("220 ready")
  s:read_line()
  s:send("220 go")
  sleep(8) -- never answers the ClientHello
end)
local c = connect("127.0.0.1", srv.port)
c:expect(220)
c:send("STARTTLS")
c:expect(220)
c:starttls { ca_pem = srv.cert_pem, timeout = 0.5 }
