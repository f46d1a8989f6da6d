-- oversize_reply.lua: a multi-line reply larger than max_reply fails (exit 1) with "reply
-- larger than N bytes" instead of growing without bound; each line is short, so it is the
-- reply limit, not the line limit, that stops it.
-- exit: 1
-- args: --timeout 3
-- stderr: oversize_reply\.lua:[0-9]+: malformed input from 127\.0\.0\.1:[0-9]+: reply larger than 1000 bytes
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  for i = 1, 200 do s:send("250-line " .. i .. " of a reply that never ends") end
  s:read_line(2)
end)
local c = connect { host = "127.0.0.1", port = srv.port, max_reply = 1000 }
c:expect(250)
