-- tls_verify_failure_starttls.lua: the same default check on c:starttls{}: without ca_pem the
-- self-signed certificate fails with exit 3 (verify=false / ca=FILE named), and the
-- connection is closed.
-- exit: 3
-- args: --timeout 5
-- stderr: tls_verify_failure_starttls\.lua:[0-9]+: the certificate of 127\.0\.0\.1:[0-9]+ did not pass the check: .*not among the trusted CAs: for a private CA pass ca=FILE .*; to go on anyway pass verify=false
-- within: 6

local srv = listen { host = "127.0.0.1", port = 0, tls = "starttls" }
spawn(function()
  local s = srv:accept()
  s:send("220 ready")
  s:read_line()
  s:send("220 go")
  s:starttls {}
  s:read_line(3)
end)

local c = connect("127.0.0.1", srv.port)
c:expect(220)
c:send("STARTTLS")
c:expect(220)
c:starttls {}
print("not reached")
