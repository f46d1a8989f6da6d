-- unread_input_warning.lua: closing a connection with input left unread is a warning on
-- stderr (how many bytes, what they were, where), not a failure.
-- exit: 0
-- args: --timeout 3
-- stderr: unread_input_warning\.lua:[0-9]+: connection [0-9]+ to 127\.0\.0\.1:[0-9]+ closed with [0-9]+ byte\(s\) unread: "250 never read
-- stdout: closed with a warning
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  s:send("220 hi")
  s:send("250 never read")
  s:read_line(2)
end)
local c = connect("127.0.0.1", srv.port)
c:expect(220)
sleep(0.1) -- the second line arrives and stays unread
c:close()
print("closed with a warning")
