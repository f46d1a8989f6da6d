-- fault_cert_wrong_host.lua: a POP3S mock whose certificate is made for wrong.example only.
-- With its issuer trusted, the name check still fails: for the address connected to (IP
-- address mismatch), and for sni="localhost" (hostname mismatch). Exit 3.
-- exit: 3
-- args: --timeout 10
-- stderr: fault_cert_wrong_host\.lua:[0-9]+: the certificate of 127\.0\.0\.1:[0-9]+ did not pass the check: hostname mismatch
-- stdout: IP address mismatch refused
-- within: 4
local pop3 = require "parley.mock.pop3"
local m = pop3.start { tls = "implicit", cert_profile = "wrong-host" }
local ok, err = pcall(connect, { port = m.port, tls = true, ca_pem = m.cert_pem, framing = "pop3" })
assert(not ok and err.exit == 3 and tostring(err):find("IP address mismatch", 1, true), tostring(err))
print("IP address mismatch refused")
local good = connect { port = m.port, tls = true, ca_pem = m.cert_pem, sni = "wrong.example",
                       framing = "pop3" }
assert(good.tls.verified, "the certificate is good for the name it was made for")
good:close()
connect { port = m.port, tls = true, ca_pem = m.cert_pem, sni = "localhost", framing = "pop3" }
print("not reached")
