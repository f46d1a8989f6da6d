-- loop_guard_spawned.lua: the loop guard also stops an endless loop in a spawned conversation
-- and inside a coroutine the script created; the main script sees the error through join.
-- exit: 2
-- args: --timeout 1
-- stderr: without waiting on the network
-- stdout: coroutine loop stopped
-- within: 5

local co = coroutine.wrap(function()
  while true do end
end)
local ok, err = pcall(co)
assert(not ok and tostring(err):find("without waiting"), "loop in a coroutine: " .. tostring(err))
print("coroutine loop stopped")

local t = spawn(function()
  local x = 0
  while true do x = x + 1 end
end)
t:join(10)
