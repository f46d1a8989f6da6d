-- load_counts.lua: parley load runs exactly -n conversations (numbered 1..n, each once), at
-- most -c at a time, and its --json has the documented shape: counts, per-step histograms
-- whose buckets add up, failures by reply code and by step (the server refuses every fifth
-- recipient with 550). One thread by default, one per core (at most -c) with --threads auto;
-- the CPU time of parley's threads is reported.
-- exit: 0
-- args: --timeout 30
-- stdout: load counts ok
-- within: 30

local h = require "helpers"
local srv, seen = h.smtp_server { refuse = function(n) return n % 5 == 0 end }
local res, status = h.load { "-c", "4", "-n", "50", h.client("txn"), "port=" .. srv.port }
assert(status == 1, "exit status 1 when a conversation failed, got " .. status)

assert(res.parley_load == 1, "format version")
assert(res.script == h.client("txn"), "script: " .. tostring(res.script))
local s = res.settings
assert(s.concurrency == 4 and s.count == 50 and s.duration == nil and s.rate == nil, "settings")
assert(s.threads == 1, "one thread by default, got " .. s.threads)
assert(type(res.cpu_seconds) == "number" and res.cpu_seconds > 0 and
  res.cpu_seconds <= res.elapsed * 1.5 + 0.05, "cpu_seconds: " .. tostring(res.cpu_seconds))
assert(s.timeout == 30 and s.parts == 1, "timeout, parts")

local conv = res.conversations
assert(conv.done == 50, "done: " .. conv.done)
assert(conv.ok == 40 and conv.failed == 10 and conv.interrupted == 0,
  ("ok %d failed %d interrupted %d"):format(conv.ok, conv.failed, conv.interrupted))
assert(type(res.elapsed) == "number" and res.elapsed > 0, "elapsed")
assert(math.abs(res.throughput - 50 / res.elapsed) < 0.01 * res.throughput, "throughput")

-- Every conversation number 1..50 was used once.
assert(seen.connections == 50, "connections: " .. seen.connections)
table.sort(seen.recipients)
for i = 1, 50 do assert(seen.recipients[i] == i, "recipient numbers 1..50") end
assert(seen.messages == 40, "messages: " .. seen.messages)

local function check_histogram(hist, count, what)
  assert(hist.unit == "us", what .. ": unit")
  assert(hist.count == count, what .. ": count " .. hist.count .. ", wanted " .. count)
  local sum = 0
  for i, b in ipairs(hist.buckets) do
    sum = sum + b[2]
    if i > 1 then assert(b[1] > hist.buckets[i - 1][1], what .. ": buckets in order") end
  end
  assert(sum == count, what .. ": buckets add up")
  if count > 0 then
    assert(hist.min <= hist.p50 and hist.p50 <= hist.p90 and hist.p90 <= hist.p99 and
      hist.p99 <= hist.p999 and hist.p999 <= hist.max, what .. ": percentiles in order")
    for _, p in ipairs { 50, 90, 99 } do
      assert(hist["p" .. p] == h.percentile(hist, p), what .. ": p" .. p .. " from the buckets")
    end
  end
end
check_histogram(res.latency, 40, "latency")
check_histogram(res.failed_latency, 10, "failed_latency")

-- Failures: by reply code, in the step where they happened, with an example.
assert(#res.failures == 1, "one kind of failure")
local f = res.failures[1]
assert(f.cause == "reply 550" and f.step == "rcpt" and f.count == 10,
  ("failure %s in %s x%d"):format(f.cause, tostring(f.step), f.count))
assert(f.example:find("expected 250, got: 550 5.1.1", 1, true), "example: " .. f.example)

-- Steps in script order, each with its own histogram; rcpt failed 10 times.
local names = {}
for i, st in ipairs(res.steps) do names[i] = st.name end
assert(table.concat(names, " ") == "connect greeting ehlo mail rcpt data quit",
  "steps: " .. table.concat(names, " "))
for _, st in ipairs(res.steps) do
  local ok = (st.name == "data" or st.name == "quit") and 40 or 50
  if st.name == "rcpt" then ok = 40 end
  assert(st.ok == ok, st.name .. ": ok " .. st.ok)
  assert(st.failed == (st.name == "rcpt" and 10 or 0), st.name .. ": failed " .. st.failed)
  check_histogram(st.latency, ok, "step " .. st.name)
end
-- --threads auto: one engine per core, at most -c; the numbers are still 1..n, each once.
local cores = h.cores()
local srv2, seen2 = h.smtp_server {}
local auto = h.load { "--threads", "auto", "-c", "3", "-n", "30", h.client("txn"), "port=" .. srv2.port }
assert(auto.settings.threads == math.min(cores, 3),
  ("--threads auto on %d cores: %d threads"):format(cores, auto.settings.threads))
assert(auto.conversations.ok == 30, "auto: ok " .. auto.conversations.ok)
table.sort(seen2.recipients)
for i = 1, 30 do assert(seen2.recipients[i] == i, "auto: recipient numbers 1..30") end
print("load counts ok")
