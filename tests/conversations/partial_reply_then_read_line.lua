-- partial_reply_then_read_line.lua: a read_reply that times out in the middle of a multi-line
-- reply must not swallow the lines it had seen. After the timeout the script switches to raw
-- reading; read_line must return "250-first" (received, never handed to the script) before
-- "250 last".
-- exit: 0
-- args: --timeout 3
-- stdout: no line lost
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  s:send("250-first")
  sleep(0.4)
  s:send("250 last")
  s:read_line(2)
end)
local c = connect("127.0.0.1", srv.port)
local r, why = c:read_reply(0.2)
assert(r == nil and why == "timeout", "the reply is not complete yet")
local l1 = c:read_line(1)
local l2 = c:read_line(1)
assert(l1 == "250-first", "first line after the timeout: " .. tostring(l1))
assert(l2 == "250 last", "second line: " .. tostring(l2))
print("no line lost")
