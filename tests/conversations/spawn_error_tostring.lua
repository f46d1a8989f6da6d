-- spawn_error_tostring.lua: an error re-raised by join prints as its message, whatever ended
-- the task: fail() (an engine error object) and a Lua runtime error alike. tostring(err) must
-- show "attempt to index ...", not "table: 0x...".
-- exit: 0
-- args: --timeout 3
-- stdout: error objects print
-- within: 4

local a = spawn(function() fail("failed on purpose") end)
local ok, err = pcall(a.join, a)
assert(not ok and tostring(err):find("failed on purpose"), "fail(): " .. tostring(err))

local b = spawn(function() local t = nil; return t.x end)
ok, err = pcall(b.join, b)
assert(not ok, "the runtime error is re-raised")
assert(tostring(err):find("attempt to index"), "tostring of a runtime error from join: " .. tostring(err))
print("error objects print")
