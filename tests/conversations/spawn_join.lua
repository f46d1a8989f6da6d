-- spawn_join.lua: spawn passes arguments, join returns every result (nils included) and can
-- be called again, done() tells whether a task ended, a task's error is re-raised by join with
-- its exit status, join(seconds) times out on a task that goes on (exit 1), and conversations
-- run concurrently.
-- exit: 0
-- args: --timeout 5
-- stdout: spawn ok
-- within: 6

local parley = require "parley"

local t = spawn(function(a, b) return a + b, nil, "three" end, 1, 2)
local x, y, z = t:join()
assert(x == 3 and y == nil and z == "three", "results: " .. tostring(x) .. tostring(y) .. tostring(z))
assert(select("#", t:join()) == 3, "join again returns the same three results")
assert(t:done(), "done after join")
assert(type(t.id) == "number", "task id")

-- error propagation: fail() inside a task, exit 1 kept
local bad = spawn(function() sleep(0.05); fail("inner trouble") end)
local ok, err = pcall(bad.join, bad)
assert(not ok and type(err) == "table", "join re-raises")
assert(err.exit == 1 and tostring(err):find("inner trouble"), "the task's error: " .. tostring(err))

-- a runtime error inside a task is a script error
local boom = spawn(function() local n = nil; return n.field end)
ok, err = pcall(boom.join, boom)
assert(not ok and type(err) == "table" and err.exit == 2, "a runtime error is a script error (exit 2)")
assert(tostring(err.message):find("attempt to index"), "runtime error: " .. tostring(err.message))
-- (that tostring(err) shows the message too is spawn_error_tostring.lua's business)

-- join timeout: the task goes on, join gives up after ~0.3 s with exit 1
local slow = spawn(function() sleep(2); return "late" end)
local t0 = parley.clock()
ok, err = pcall(slow.join, slow, 0.3)
local waited = parley.clock() - t0
assert(not ok and err.exit == 1, "join timeout is exit 1: " .. tostring(err))
assert(tostring(err):find("did not finish within"), "message: " .. tostring(err))
assert(waited >= 0.25 and waited < 1, "join(0.3) took " .. waited)
assert(not slow:done(), "the slow task still runs")

-- concurrency: three tasks sleeping 0.4 s each end together
t0 = parley.clock()
local tasks = {}
for i = 1, 3 do tasks[i] = spawn(function() sleep(0.4); return i end) end
for i = 1, 3 do assert(tasks[i]:join() == i) end
local took = parley.clock() - t0
assert(took < 0.9, "three 0.4 s sleeps run together, took " .. took)

-- a conversation cannot join itself
local me
me = spawn(function() return pcall(function() return me:join() end) end)
local jok, jerr = me:join()
assert(jok == false and tostring(jerr):find("cannot join itself"), "self join: " .. tostring(jerr))
print("spawn ok")
