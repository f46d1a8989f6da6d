-- tls_verify_failure.lua: verification is on by default. Against a self-signed certificate
-- without ca/ca_pem, connect{tls=true} fails with exit 3, naming host:port and the reason, and
-- saying how to relax it: verify=false or ca=FILE.
-- exit: 3
-- args: --timeout 5
-- stderr: tls_verify_failure\.lua:[0-9]+: the certificate of 127\.0\.0\.1:[0-9]+ did not pass the check
-- stderr: verify=false
-- stderr: ca=FILE
-- stderr: Its issuer \(.*\) is not among the trusted CAs: for a private CA pass ca=FILE
-- within: 6

local srv = listen { host = "127.0.0.1", port = 0, tls = true }
spawn(function()
  local s = srv:accept()
  s:read_line(3)
end)

connect { host = "127.0.0.1", port = srv.port, tls = true }
print("not reached")
