-- An unexpected refusal fails with exit 1, naming the command, the reply and what it means.
-- exit: 1
-- stderr: lib_smtp_refused.lua:20: RCPT TO:<victim@elsewhere.test>: expected 2xx, got: 554 5.7.1
-- stderr: meaning: 554: .*5.7.1
-- within: 10
local smtp = require "parley.smtp"
local srv = listen { port = 0 }
spawn(function()
  local c = srv:accept()
  c:send("220 mock.example ESMTP")
  while true do
    local line = c:read_line()
    if not line then return end
    if line:match("^RCPT") then c:send("554 5.7.1 Relay access denied") else c:send("250 ok") end
  end
end)
local s = smtp.connect { host = "127.0.0.1", port = srv.port, helo = "client.example" }
s:mail("alice@example.net")
s:rcpt("victim@elsewhere.test", { expect = "5xx" })
s:rcpt("victim@elsewhere.test")
