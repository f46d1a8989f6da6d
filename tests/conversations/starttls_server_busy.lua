-- starttls_server_busy.lua: the server side of STARTTLS must not mistake the client's
-- ClientHello for injected plaintext. A real client starts the handshake as soon as it reads
-- "220"; a busy server may call starttls{} a moment later, when the ClientHello already waits
-- in the socket. Only plaintext pipelined *before* the server's 220 (in parley's buffer) is an
-- injection; bytes that came after it are the handshake and must be accepted.
-- exit: 0
-- args: --timeout 5
-- stdout: handshake after a delay ok
-- stderr-not: STARTTLS refused
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0, tls = "starttls" }
local server = spawn(function()
  local s = srv:accept()
  s:send("220 ready")
  assert(s:read_line() == "STARTTLS")
  s:send("220 go")
  sleep(0.1) -- busy elsewhere: the ClientHello arrives before the handshake starts
  s:starttls {}
  s:send("250 secure")
  s:read_line(2)
end)
local c = connect("127.0.0.1", srv.port)
c:expect(220)
c:send("STARTTLS")
c:expect(220)
c:starttls { ca_pem = srv.cert_pem }
c:expect(250)
c:send("QUIT")
server:join()
print("handshake after a delay ok")
