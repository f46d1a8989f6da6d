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
-- The time series counts the run's seconds for a thread that joined later too: the first
-- second is one thread's, the fourth two threads' (a joined thread counting from its own
-- start would add its later seconds to the first ones).
local seconds = res.series.seconds
assert(#seconds <= 5, "seconds of a 4 s run: " .. #seconds)
if want == 2 then
  assert(seconds[1].ok * 1.3 < seconds[4].ok,
    ("second 0: %d, second 3: %d conversations"):format(seconds[1].ok, seconds[4].ok))
end
print("adaptive threads ok")
