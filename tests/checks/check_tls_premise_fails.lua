-- check_tls_premise_fails.lua: with a server whose every TLS handshake fails (it answers
-- STARTTLS with 220, then sends garbage instead of a ServerHello), "TLS 1.0 and 1.1 are
-- refused" must not pass: its premise, that some TLS handshake succeeds, is false.
-- args: --timeout 60
-- stdout: exit 1
-- stdout: no TLS handshake succeeds at all
-- within: 50
local servers = require "servers"

local srv = servers.smtp({}, { "STARTTLS" }, function(c)
  c:read(5, 5)  -- the start of the ClientHello: the client is in its handshake now
  c:send_raw("this is not TLS\r\n")
  c:close()
end)
local out, status = servers.parley_test({ "--timeout", "10", "--filter", "TLS 1%.0",
  servers.checks .. "/smtp.lua", "host=127.0.0.1", "smtp_port=" .. srv.port })
io.stderr:write(out)
print("exit " .. status)
assert(status == 1, "the check must fail:\n" .. out)
print(out:match("(no TLS handshake succeeds at all[^\n]*)") or "no reason given")
srv:close()
