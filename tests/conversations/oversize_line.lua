-- oversize_line.lua: a line longer than max_line fails the conversation (exit 1) with
-- "line longer than N bytes" and the last bytes, instead of buffering without end. First the
-- limit on a complete line, then (through pcall) on bytes with no line end at all.
-- exit: 1
-- args: --timeout 5
-- stderr: oversize_line\.lua:[0-9]+: malformed input from 127\.0\.0\.1:[0-9]+: line longer than 100 bytes \(200 bytes\)
-- stderr: last bytes received: "250 xxxx
-- stdout: unterminated line refused
-- within: 5

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = srv:accept()
  c:send_raw(("y"):rep(300)) -- no line end
  c:read_line()
  c:close()
  c = srv:accept()
  c:send_raw("250 " .. ("x"):rep(196) .. "\r\n")
  c:read_line(3)
end)

local c = connect { host = "127.0.0.1", port = srv.port, max_line = 100 }
local ok, err = pcall(c.read_reply, c)
assert(not ok and tostring(err):find("line longer than 100 bytes (no line end in", 1, true),
  "unterminated 300 bytes should be refused: " .. tostring(err))
assert(err.exit == 1, "exit 1")
print("unterminated line refused")
c:send("BYE")
c:close()

c = connect { host = "127.0.0.1", port = srv.port, max_line = 100 }
c:expect(250)
