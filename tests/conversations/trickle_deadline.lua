-- trickle_deadline.lua: a server that trickles one byte every 200 ms, never ending a line.
-- expect's timeout is a deadline for the whole wait, not an idle timer: expect(250, 1) must fail
-- after about 1 s although bytes keep coming, while the run's own --timeout is much longer.
-- The failure counts the incomplete reply and shows the bytes that came.
-- exit: 1
-- args: --timeout 20
-- stderr: expected 250, but nothing came from 127\.0\.0\.1:[0-9]+ within 1 s
-- stderr: waited (0\.9[0-9]{2}|1\.[0-4][0-9]{2}) s of the 1 s timeout
-- stderr: an incomplete reply of [0-9]+ bytes was received
-- stderr: last bytes received: "250 tr
-- stdout: read_line deadline held
-- within: 5

local parley = require "parley"
local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = srv:accept()
  local text = "250 trickle trickle trickle trickle trickle trickle trickle trickle trickle"
  for i = 1, #text do
    c:send_raw(text:sub(i, i))
    sleep(0.2)
  end
  c:close()
end)

local c = connect("127.0.0.1", srv.port)

-- read_line has the same deadline semantics
local t0 = parley.clock()
local line, why = c:read_line(0.5)
local took = parley.clock() - t0
assert(line == nil and why == "timeout", "read_line(0.5) should time out, got " .. tostring(line))
assert(took < 0.9, "read_line(0.5) deadline stretched to " .. took .. " s")
print("read_line deadline held")

c:expect(250, 1)
