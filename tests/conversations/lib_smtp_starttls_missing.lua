-- smtp.connect{tls="starttls"} against a server that does not offer STARTTLS: exit 3, the
-- failure points at the script's line, and nothing after EHLO goes out in the clear.
-- exit: 3
-- stderr: lib_smtp_starttls_missing.lua:22: STARTTLS asked for but not offered
-- stderr-not: MAIL FROM
-- within: 10
local smtp = require "parley.smtp"
local srv = listen { port = 0 }
spawn(function()
  local c = srv:accept()
  c:send("220 plain.example ESMTP")
  while true do
    local line = c:read_line()
    if not line then return end
    if line:match("^EHLO") then
      c:send("250-plain.example"); c:send("250 AUTH PLAIN")
    else
      c:send("250 ok")
    end
  end
end)
local s = smtp.connect { host = "127.0.0.1", port = srv.port, tls = "starttls" }
s:mail("alice@example.net")
