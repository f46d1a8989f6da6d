-- fault_tls_implicit_closed.lua: an implicit-TLS mock (IMAPS) that closes the connection right
-- after the ClientHello: connect{tls=true} fails (exit 3) naming the peer. A second mock that
-- answers the ClientHello with plain text fails the same way.
-- exit: 3
-- args: --timeout 10
-- stderr: fault_tls_implicit_closed\.lua:[0-9]+: TLS handshake with 127\.0\.0\.1:[0-9]+ failed
-- stdout: garbage answer refused
-- within: 3
local imap = require "parley.mock.imap"
local garbage = imap.start { tls = "implicit", faults = { tls = { garbage = true } } }
local ok, err = pcall(connect, { port = garbage.port, tls = true, ca_pem = garbage.cert_pem,
                                 framing = "imap" })
assert(not ok and err.exit == 3 and tostring(err):find("TLS handshake", 1, true), tostring(err))
print("garbage answer refused")

local m = imap.start { tls = "implicit", faults = { tls = { fail = true } } }
connect { port = m.port, tls = true, ca_pem = m.cert_pem, framing = "imap" }
print("not reached")
