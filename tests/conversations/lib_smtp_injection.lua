-- An address that would smuggle a second command is refused before anything is sent (exit 2).
-- exit: 2
-- stderr: lib_smtp_injection.lua:19: MAIL: the address .* refused
-- stderr-not: -> MAIL
-- within: 10
local smtp = require "parley.smtp"
local srv = listen { port = 0 }
spawn(function()
  local c = srv:accept()
  c:send("220 mock.example ESMTP")
  while true do
    local line = c:read_line()
    if not line then return end
    c:send("250 ok")
  end
end)
local s = smtp.connect { host = "127.0.0.1", port = srv.port }
s:ehlo("client.example")
s:mail("alice@example.net>\r\nRCPT TO:<evil@example.net")
