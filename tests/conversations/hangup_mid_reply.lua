-- hangup_mid_reply.lua: the server sends half a multi-line reply and hangs up. expect fails
-- (exit 1) saying the peer closed the connection, counts the incomplete reply and shows the last
-- bytes; it does not wait for the timeout.
-- exit: 1
-- args: --timeout 10
-- stderr: hangup_mid_reply\.lua:[0-9]+: expected 2xx, but 127\.0\.0\.1:[0-9]+ closed the connection
-- stderr: an incomplete reply of [0-9]+ bytes was received
-- stderr: last bytes received: ".*250-second line\\r\\n250-thi"
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = srv:accept()
  c:send_raw("250-first line\r\n250-second line\r\n250-thi")
  c:close()
end)

local c = connect("127.0.0.1", srv.port)
c:expect("2xx")
