-- check_implicit_tls_only.lua: a server that only speaks implicit TLS. The plaintext checks
-- pointed at it say "this port speaks TLS first: use tls=true" (not just "nothing came"),
-- and the later cases of the file fail at once instead of waiting again; the implicit-TLS
-- checks talk to it (the certificate is self-signed here: that check fails naming ca=), and
-- skip the services where nothing listens.
-- args: --timeout 90
-- stdout: plain: exit 1
-- stdout: speaks TLS first: use tls=true
-- stdout: an earlier case found it
-- stdout: implicit: exit 1
-- stdout: ok .*SMTP submission over TLS on port [0-9]+: speaks TLS first
-- stdout: not among the trusted CAs
-- stdout: skip .*IMAPS on port [0-9]+.*nothing listens
-- within: 80
local servers = require "servers"

local srv = servers.smtp({}, {}, nil, true)
local closed = listen { host = "127.0.0.1", port = 0 }
local nothing = closed.port
closed:close()

local out, status = servers.parley_test({ "--timeout", "6", "--filter", "well%-formed",
  servers.checks .. "/smtp.lua", "host=127.0.0.1", "smtp_port=" .. srv.port }, 60)
io.stderr:write(out)
print("plain: exit " .. status)
assert(status == 1, "plain checks against a TLS port fail:\n" .. out)
print(out:match("(speaks TLS first: use tls=true)") or "no advice")
print(out:match("(an earlier case found it)") or "the second case waited again")

out, status = servers.parley_test({ "--timeout", "10", servers.checks .. "/implicit_tls.lua",
  "host=127.0.0.1", "smtps_port=" .. srv.port, "imaps_port=" .. nothing,
  "pop3s_port=" .. nothing }, 60)
io.stderr:write(out)
print("implicit: exit " .. status)
assert(status == 1, "the self-signed certificate fails its check:\n" .. out)
for line in out:gmatch("[^\n]+") do
  if line:find("^ok") or line:find("^skip") then print(line) end
end
print(out:match("(not among the trusted CAs)") or "no ca= advice")
srv:close()
