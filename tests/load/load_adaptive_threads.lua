-- load_adaptive_threads.lua: without --threads, parley load starts on one thread and adds
-- another while they pay. A conversation that only computes (no server to share the cores
-- with) keeps every thread busy, and a second thread nearly doubles the rate: on a machine of
-- two cores or more it is kept; on one core none is tried. (Run alone: another test's load
-- on the cores would make the second thread look useless.)
-- exit: 0
-- args: --timeout 30
-- stdout: adaptive threads ok
-- within: 30

local h = require "helpers"
local cores = h.cores()
local script = os.tmpname()
local f = assert(io.open(script, "w"))
f:write([[
local n = ...
local x = 0
for i = 1, 100000 do x = x + i % 7 end
sleep(0)
return n
]])
f:close()
local res, status = h.load { "-c", "4", "--duration", "4", script }
os.remove(script)
assert(status == 0, "exit status " .. status)
local want = cores >= 2 and 2 or 1
assert(res.settings.threads == want,
  ("%d cores: %d threads, wanted %d"):format(cores, res.settings.threads, want))
assert(res.conversations.failed == 0, "failed: " .. res.conversations.failed)
print("adaptive threads ok")
