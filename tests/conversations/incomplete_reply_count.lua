-- incomplete_reply_count.lua: when the server hangs up in the middle of a multi-line reply, the
-- failure counts every byte of the incomplete reply (two complete continuation lines and a
-- partial one: 16 + 17 + 7 = 40 bytes), not only the bytes after the last line end.
-- exit: 1
-- args: --timeout 3
-- stderr: closed the connection
-- stderr: an incomplete reply of 40 bytes was received
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  s:send_raw("250-first line\r\n250-second line\r\n250-thi")
  s:close()
end)
local c = connect("127.0.0.1", srv.port)
c:expect(250)
