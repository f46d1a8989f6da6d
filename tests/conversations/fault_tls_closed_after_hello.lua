-- fault_tls_closed_after_hello.lua: the mock answers STARTTLS with 220, then closes the
-- connection as soon as the ClientHello arrives. The client's handshake fails with a network/TLS
-- error (exit 3) that names the peer, without waiting for its timeout.
-- exit: 3
-- args: --timeout 10
-- stderr: fault_tls_closed_after_hello\.lua:[0-9]+: TLS handshake with 127\.0\.0\.1:[0-9]+ failed
-- within: 3
local smtp = require "parley.mock.smtp"
local m = smtp.start { tls = "starttls", faults = { tls = { fail = true } } }
local c = connect("127.0.0.1", m.port)
c:expect(220)
c:send("EHLO client.example")
c:expect(250)
c:send("STARTTLS")
c:expect(220)
c:starttls { ca_pem = m.cert_pem }
print("not reached")
