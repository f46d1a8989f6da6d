-- load_timeout_cancel.lua: a conversation that runs past --timeout is cancelled (task:cancel)
-- and counted as a timeout, even when its own wait asked for longer; the run ends soon after.
-- exit: 0
-- args: --timeout 30
-- stdout: timeout cancel ok
-- within: 20

local parley = require "parley"
local h = require "helpers"
local srv, seen = h.smtp_server { silent = true }
local t0 = parley.clock()
local res, status = h.load { "-c", "2", "-n", "4", "--timeout", "0.5", h.client("patient"),
  "port=" .. srv.port }
local took = parley.clock() - t0
assert(status == 1, "exit 1, got " .. status)
assert(res.conversations.failed == 4 and res.conversations.ok == 0, "all 4 failed")
assert(#res.failures == 1, "one cause")
local f = res.failures[1]
assert(f.cause == "timeout" and f.step == "greeting" and f.count == 4,
  ("%s in %s x%d"):format(f.cause, tostring(f.step), f.count))
assert(f.example:find("longer than the --timeout of 0.5 s", 1, true), f.example)
-- Two rounds of 0.5 s (2 at a time), not the 30 s the script's expect asked for.
assert(res.failed_latency.min >= 450000 and res.failed_latency.max < 2000000,
  "cancelled after about 0.5 s: " .. res.failed_latency.min .. " .. " .. res.failed_latency.max)
assert(took < 6, "took " .. took .. " s")
assert(seen.connections == 4, "connections: " .. seen.connections)
print("timeout cancel ok")
