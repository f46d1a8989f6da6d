-- loop_guard_everywhere.lua: the loop guard stops an endless loop wherever it runs: in a
-- spawned task, in a coroutine the script made (coroutine.wrap, coroutine.create), and in a
-- pcall, which catches the error; and it leaves alone a task that computes for a while, waits,
-- and computes again (each stretch under the timeout). Each loop is stopped at the 1 s
-- --timeout, not later.
-- exit: 0
-- args: --timeout 1
-- stdout: task stopped
-- stdout: wrap stopped
-- stdout: create stopped
-- stdout: pcall caught it
-- stdout: steady worker done
-- within: 9

local function stopped(err)
  return tostring(err):find("without waiting on the network %(an endless loop%?%); stopped at the 1 s timeout")
end

local function timed(f)
  sleep(0.01) -- the guard counts from the task's last wait
  local t0 = require("parley").clock()
  local ok, err = pcall(f)
  local took = require("parley").clock() - t0
  assert(not ok and stopped(err), "expected the loop guard, got " .. tostring(err))
  assert(took >= 0.9 and took < 2.5, "stopped after " .. took .. " s")
end

timed(function() return spawn(function() while true do end end):join(5) end)
print("task stopped")

timed(function() coroutine.wrap(function() while true do end end)() end)
print("wrap stopped")

timed(function()
  local co = coroutine.create(function() while true do end end)
  local ok, err = coroutine.resume(co)
  error(err, 0)
end)
print("create stopped")

sleep(0.01)
local ok, err = pcall(function() while true do end end)
assert(not ok and stopped(err), "pcall: " .. tostring(err))
print("pcall caught it")

-- 0.6 s of computing, a wait, 0.6 s more: 1.2 s in all, never 1 s without waiting.
local steady = spawn(function()
  local clock = require("parley").clock
  for _ = 1, 2 do
    local t0 = clock()
    while clock() - t0 < 0.6 do end
    sleep(0.01)
  end
  return "done"
end)
print("steady worker " .. steady:join(5))
