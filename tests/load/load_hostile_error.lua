-- load_hostile_error.lua: conversations that raise error objects whose fields raise fail one
-- by one (cause "error", the message says why it cannot be shown); the run goes on and ends
-- with exit 1, never an abort.
-- exit: 0
-- args: --timeout 30
-- stdout: hostile errors counted
-- within: 30

local h = require "helpers"
local res, status = h.load { "-c", "4", "-n", "40", "--timeout", "5", h.client("hostile") }
assert(status == 1, "exit 1, got " .. status)
assert(res.conversations.ok == 20, "ok: " .. res.conversations.ok)
assert(res.conversations.failed == 20, "failed: " .. res.conversations.failed)
assert(#res.failures == 1, "one cause")
local f = res.failures[1]
assert(f.example:find("cannot be shown", 1, true) and f.example:find("hostile index", 1, true),
  f.example)
print("hostile errors counted")
