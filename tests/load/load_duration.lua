-- load_duration.lua: --duration bounds the run: it ends on time even when every conversation
-- is stuck (they are counted as interrupted, not as failures), and a working load runs for
-- the duration. Without -n or --duration, parley load refuses to start.
-- exit: 0
-- args: --timeout 30
-- stdout: duration ok
-- within: 20

local parley = require "parley"
local h = require "helpers"

-- Stuck: a server that never greets, conversations that would wait 30 s.
local silent = h.smtp_server { silent = true }
local t0 = parley.clock()
local res, status = h.load { "-c", "3", "--duration", "1", "--timeout", "20", h.client("patient"),
  "port=" .. silent.port }
local took = parley.clock() - t0
assert(took < 4, "a 1 s run took " .. took .. " s")
assert(res.elapsed >= 0.99 and res.elapsed < 3, "elapsed " .. res.elapsed)
assert(res.conversations.done == 0, "none done")
assert(res.conversations.interrupted == 3, "interrupted: " .. res.conversations.interrupted)
assert(res.settings.duration == 1 and res.settings.count == nil, "settings")
assert(status == 0, "interrupted conversations are not failures: exit " .. status)

-- Working: conversations run for about the duration.
local srv = h.smtp_server {}
res, status = h.load { "-c", "2", "--duration", "0.5", h.client("txn"), "port=" .. srv.port }
assert(status == 0, "exit " .. status)
assert(res.conversations.ok > 5 and res.conversations.failed == 0, "ok: " .. res.conversations.ok)
assert(res.elapsed >= 0.49 and res.elapsed < 2.5, "elapsed " .. res.elapsed)

-- With --rate: about rate x duration conversations, scheduled (not as fast as possible).
res, status = h.load { "-c", "4", "--duration", "1", "--rate", "40", h.client("txn"),
  "port=" .. srv.port }
assert(status == 0, "exit " .. status)
assert(res.settings.rate == 40, "rate setting")
-- (a busy machine may finish fewer: each thread starts its own scheduled ones, late or not)
assert(res.conversations.done + res.conversations.interrupted >= 30 and
  res.conversations.done + res.conversations.interrupted <= 41,
  "40/s for 1 s: " .. res.conversations.done .. " + " .. res.conversations.interrupted)

-- Both bounds missing: a usage error.
local out, st = h.parley { "load", "-c", "2", h.client("txn") }
assert(st == 2, "usage error exit 2, got " .. st)
print("duration ok")
