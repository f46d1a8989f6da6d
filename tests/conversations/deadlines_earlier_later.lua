-- deadlines_earlier_later.lua: the connections of a run share one timer for their deadlines
-- (src/net/connection.cpp, Deadlines). A wait that starts after a longer one, with a shorter
-- timeout, still ends at its own deadline, not at the longer one's; waits on many connections
-- end in the order of their deadlines; and a connection whose read ended (a reply came) is
-- not timed out later by the deadline it had.
-- exit: 0
-- args: --timeout 20
-- stdout: every wait ended at its own deadline
-- within: 15
local parley = require "parley"
local srv = listen { host = "127.0.0.1", port = 0 }
local held = {}
spawn(function()
  while true do
    local ok, s = pcall(srv.accept, srv, 10)
    if not ok then return end
    held[#held + 1] = s
  end
end)

local ended = {}
local function wait(seconds)
  return spawn(function()
    local c = connect("127.0.0.1", srv.port)
    local started = parley.clock()
    local r, why = c:read_reply(seconds)
    assert(r == nil and why == "timeout", "a timeout: " .. tostring(why))
    ended[#ended + 1] = seconds
    c:close()
    return parley.clock() - started
  end)
end

-- The longest first: the shorter ones come with earlier deadlines than the timer waits for.
local long = wait(2.5)
sleep(0.05)
local tasks = {}
for i, seconds in ipairs { 1.2, 0.3, 0.8, 0.5 } do tasks[i] = { seconds, wait(seconds) } end
for _, t in ipairs(tasks) do
  local waited = t[2]:join()
  assert(waited >= t[1] - 0.01, ("waited %.3f s of a %g s timeout"):format(waited, t[1]))
  assert(waited < t[1] + 1, ("waited %.3f s of a %g s timeout"):format(waited, t[1]))
end
assert(long:join() >= 2.49, "the long wait")
assert(table.concat(ended, " ") == "0.3 0.5 0.8 1.2 2.5", "order: " .. table.concat(ended, " "))

-- A read that got its reply leaves the deadlines: the connection is not timed out later.
local c = connect("127.0.0.1", srv.port)
while #held < 6 do sleep(0.01) end
held[6]:send("220 hello")
assert(c:read_reply(0.4).code == 220, "the reply")
sleep(0.6) -- past the deadline of that read
held[6]:send("250 still here")
assert(c:read_reply(1).code == 250, "the next read")
c:close()
for _, s in ipairs(held) do s:close() end
srv:close()
print("every wait ended at its own deadline")
