-- coroutine_wrap_wait.lua: a network wait inside a coroutine the script made (coroutine.wrap)
-- cannot be resumed by the engine: it is a clear script error (exit 2) that says where waits
-- may happen, not a hang or a crash.
-- exit: 2
-- args: --timeout 3
-- stderr: coroutine_wrap_wait\.lua:[0-9]+: cannot wait here: network waits run in a conversation
-- stdout: sleep refused inside coroutine
-- within: 4

local gen = coroutine.wrap(function() sleep(0.1); return "slept" end)
local ok, err = pcall(gen)
assert(not ok and tostring(err):find("cannot wait here"), "sleep inside wrap: " .. tostring(err))
print("sleep refused inside coroutine")

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function() srv:accept() end)
local c = connect("127.0.0.1", srv.port)
local lines = coroutine.wrap(function()
  while true do coroutine.yield(c:read_line()) end
end)
lines()
