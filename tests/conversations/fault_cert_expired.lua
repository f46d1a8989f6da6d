-- fault_cert_expired.lua: a mock whose certificate expired 30 days ago. Even with its issuer
-- trusted (ca_pem), the SMTP client's STARTTLS check fails (exit 3), says why, and says how to
-- relax it; with verify=false the same server is usable.
-- exit: 3
-- args: --timeout 10
-- stderr: fault_cert_expired\.lua:[0-9]+: the certificate of 127\.0\.0\.1:[0-9]+ did not pass the check: certificate has expired
-- stderr: verify=false
-- stdout: verify=false goes on
-- within: 4
local mock = require "parley.mock.smtp"
local smtp = require "parley.smtp"
local m = mock.start { tls = "starttls", cert_profile = "expired" }
local s = smtp.connect { port = m.port, tls = "starttls", verify = false }
assert(s.conn.tls.cert.not_after_epoch < os.time(), "the certificate is expired")
s:quit()
print("verify=false goes on")
smtp.connect { port = m.port, tls = "starttls", ca_pem = m.cert_pem }
print("not reached")
