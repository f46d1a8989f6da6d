-- spawn_cancel.lua: task:cancel([why]) ends a task and every task it spawned, closes what they
-- opened (the server sees the client hang up), wakes its joiners with an error (exit 1) saying
-- why; a cancelled task is done, is not reported as an unnoticed failure, and a conversation
-- cannot cancel itself.
-- exit: 0
-- args: --timeout 5
-- stdout: cancel ok
-- stderr-not: spawned conversation [0-9]+ failed
-- within: 4

local parley = require "parley"
local srv = listen { host = "127.0.0.1", port = 0 }
local server = spawn(function()
  local s = srv:accept()
  local l, why = s:read_line(3)
  return l, why
end)

local child
local client = spawn(function()
  local c = connect("127.0.0.1", srv.port)
  child = spawn(function() sleep(10); return "child finished" end)
  c:expect(220) -- waits forever (the server says nothing): cancelled below
end)
sleep(0.1)
assert(not client:done() and not child:done(), "both running")

local t0 = parley.clock()
client:cancel("the test gave up on it")
assert(client:done(), "cancelled task is done")
local ok, err = pcall(client.join, client)
assert(not ok and err.exit == 1 and tostring(err):find("the test gave up on it"),
  "join gets the cancel reason: " .. tostring(err))
ok, err = pcall(child.join, child, 1)
assert(not ok and child:done(), "the task's child is cancelled too: " .. tostring(err))
assert(parley.clock() - t0 < 0.5, "cancel does not wait for the child's sleep")

local l, why = server:join()
assert(l == nil and why == "eof", "the cancelled task's connection was closed: " .. tostring(why))

-- a task that is never joined, cancelled: no failure reported, exit stays 0
local idle = spawn(function() sleep(10) end)
sleep(0.05)
idle:cancel()

local selfish
selfish = spawn(function() return pcall(function() selfish:cancel() end) end)
local sok, serr = selfish:join()
assert(sok == false and tostring(serr):find("cannot cancel itself"), "self cancel: " .. tostring(serr))
print("cancel ok")
