-- unread_input_strict.lua: with --strict, closing a connection with input left unread fails the
-- run (exit 1), even when the bytes are still in the kernel and were never read by parley.
-- exit: 1
-- args: --strict --timeout 3
-- stderr: unread_input_strict\.lua:[0-9]+: connection [0-9]+ to 127\.0\.0\.1:[0-9]+ closed with [0-9]+ byte\(s\) unread.*\(--strict\)
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  s:send("220 hi")
  s:send("250 never read")
  s:read_line(2)
end)
local c = connect("127.0.0.1", srv.port)
sleep(0.2) -- nothing read at all: both lines wait in the kernel
c:close()
print("not reached")
