-- load_rate_schedule.lua: with --rate, latency counts from each conversation's scheduled start
-- (no coordinated omission). One conversation at a time (-c 1), 20 scheduled a second, each
-- taking 0.2 s: they fall further and further behind their schedule, and the latency says so
-- (it grows well past the 0.2 s each one took), while fewer than scheduled get done.
-- exit: 0
-- args: --timeout 30
-- stdout: rate schedule ok
-- within: 20

local h = require "helpers"
local srv = h.smtp_server { delay = 0.2 }
local res, status = h.load { "-c", "1", "--rate", "20", "--duration", "1.5", h.client("txn"),
  "port=" .. srv.port }
assert(status == 0, "exit " .. status)
local l = res.latency
assert(res.conversations.ok >= 3 and res.conversations.ok <= 8,
  "0.2 s each, one at a time: " .. res.conversations.ok)
assert(l.min >= 190000, "each took at least 0.2 s: " .. l.min)
-- The k-th (from 0) was scheduled at k * 50 ms but started at k * 200 ms.
assert(l.max >= 0.2e6 + (res.conversations.ok - 1) * 0.15e6 - 0.02e6,
  "latency from the schedule grows: max " .. l.max)
-- Each greeting step itself still took about 0.2 s: the wait is before the conversation.
local greeting
for _, st in ipairs(res.steps) do if st.name == "greeting" then greeting = st end end
assert(greeting.latency.max < 0.35e6, "the step itself: " .. greeting.latency.max)
print("rate schedule ok")
