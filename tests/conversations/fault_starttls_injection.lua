-- fault_starttls_injection.lua: a mock whose STARTTLS hook sends "220" and, in the same write,
-- a "250" that would be read as if it came under TLS (CVE-2011-0411). The SMTP client library's
-- upgrade is refused (exit 3) and the injected bytes are shown.
-- exit: 3
-- args: --timeout 10
-- stderr: fault_starttls_injection\.lua:[0-9]+: STARTTLS refused: [0-9]+ byte\(s\) of plaintext arrived from 127\.0\.0\.1:[0-9]+ before the TLS handshake
-- stderr: 250 injected
-- stderr-not: MAIL FROM
-- within: 4
local mock = require "parley.mock.smtp"
local smtp = require "parley.smtp"
local m = mock.start {
  tls = "starttls",
  on = { STARTTLS = function(cmd, s)
    s.conn:send_raw("220 2.0.0 go ahead\r\n250 injected\r\n")
    s:handshake()
    return true
  end },
}
local s = smtp.connect { port = m.port, tls = "starttls", ca_pem = m.cert_pem }
s:mail("alice@example.net")
