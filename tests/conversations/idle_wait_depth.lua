-- idle_wait_depth.lua: a conversation waiting in expect inside step(), pcall or a function with
-- a few locals holds no more Lua memory than one waiting inside a plain function call. A
-- coroutine starts with 40 stack slots and a C function called by Lua wants 20 free ones: a
-- wait (or a call of a connection's method) from deeper than that doubles the coroutine's
-- stack for good, 0.64 KB more for each idle conversation of a load test (step() in Lua put
-- the wait 7 slots deeper; `c:expect` called the C __index above the whole calling frame).
-- exit: 0
-- args: --timeout 20
-- stdout: as shallow as a plain call
-- within: 30
local N = 40
local srv = listen { host = "127.0.0.1", port = 0 }
local held = {}
spawn(function()
  while true do
    local ok, s = pcall(srv.accept, srv, 10)
    if not ok then return end
    held[#held + 1] = s -- says nothing: the clients wait
  end
end)

local function quiet(c)
  c:expect({ { 220 }, timeout = function() end }, 0.5)
end

local VARIANTS = {
  plain = function(c) quiet(c) end,
  step = function(c)
    step("greeting", function() c:expect({ { 220 }, timeout = function() end }, 0.5) end)
  end,
  pcall = function(c) pcall(function() c:expect({ { 220 }, timeout = function() end }, 0.5) end) end,
  locals = function(c)
    local a, b, d, e = 1, 2, 3, 4
    c:expect({ { 220 }, timeout = function() end }, tonumber("0.5"))
    return a + b + d + e
  end,
}

-- Lua memory per conversation while N of them wait.
local function per_waiting(variant)
  collectgarbage()
  collectgarbage()
  local before = collectgarbage("count")
  local tasks = {}
  for i = 1, N do
    tasks[i] = spawn(function()
      local c = connect("127.0.0.1", srv.port)
      variant(c)
      c:close()
    end)
  end
  sleep(0.25) -- all connected and waiting
  collectgarbage()
  collectgarbage()
  local kb = (collectgarbage("count") - before) / N
  for i = 1, N do tasks[i]:join() end
  for i = #held, 1, -1 do
    held[i]:close()
    held[i] = nil
  end
  return kb
end

per_waiting(VARIANTS.plain) -- parley.core loads, the caches fill
local plain = per_waiting(VARIANTS.plain)
for _, name in ipairs { "step", "pcall", "locals" } do
  local kb = per_waiting(VARIANTS[name])
  assert(kb < plain + 0.35, ("a wait inside %s: %.2f KB per conversation, %.2f KB inside a " ..
    "plain call"):format(name, kb, plain))
end
srv:close()
print("as shallow as a plain call")
