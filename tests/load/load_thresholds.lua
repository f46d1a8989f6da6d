-- load_thresholds.lua: --threshold and load.thresholds decide the exit status: 1 when one is
-- missed (the report says which and by how much), 0 when a failure threshold allows the
-- failures seen, 2 with a message naming a malformed expression; --merge judges merged
-- results by the script's thresholds of every file and by its own. The JSON's time series
-- adds up to the run's counts.
-- exit: 0
-- args: --timeout 30
-- stdout: thresholds ok
-- within: 50

local h = require "helpers"
local srv = h.smtp_server { refuse = function(n) return n % 10 == 0 end }  -- 4 of 40
local base = { "-c", "4", "-n", "40", h.client("txn"), "port=" .. srv.port }
local function with(...)
  local argv = { ... }
  for _, a in ipairs(base) do argv[#argv + 1] = a end
  return argv
end
local function find(list, expr)
  for _, t in ipairs(list or {}) do
    if t.expr == expr then return t end
  end
end

-- Failures allowed by a failure threshold: exit 0; over it: exit 1, by how much.
local res, status = h.load(with("--threshold", "failed<20%", "--threshold", "p99<30s"))
assert(status == 0, "4 of 40 failed, failed<20% allows it: exit " .. status)
assert(res.conversations.failed == 4, "failed " .. res.conversations.failed)
local t = find(res.thresholds, "failed<20%")
assert(t and t.ok and t.source == "option" and t.value == 10, "failed<20%: " .. tostring(t and t.value))
assert(find(res.thresholds, "p99<30s").ok, "p99<30s")

res, status = h.load(with("--threshold", "failed<5%", "--threshold", "failed(cause=reply 550)<=4"))
assert(status == 1, "failed<5% missed: exit " .. status)
t = find(res.thresholds, "failed<5%")
assert(not t.ok and t.verdict:find("5 points over the limit of 5.00 %", 1, true), t.verdict)
assert(find(res.thresholds, "failed(cause=reply 550)<=4").ok, "by cause")

-- Without a failure threshold, a failure still fails the run (as before thresholds).
res, status = h.load(with("--threshold", "p99<30s"))
assert(status == 1 and find(res.thresholds, "p99<30s").ok, "a failure: exit " .. status)

-- A latency threshold missed: the text report names it, how far over, and the limit.
local out
out, status = h.parley(with("load", "--threshold", "failed<=4", "--threshold", "p50(step=rcpt)<1us",
  "--threshold", "throughput>1000000"))
assert(status == 1, "latency missed: exit " .. status)
assert(out:find("\n  thresholds\n", 1, true), out)
assert(out:find("    ok      failed<=4 +failed 4\n"), out)
assert(out:find("MISSED  p50%(step=rcpt%)<1us +p50%(step=rcpt%) [%d.]+ [mu]?s: [%d.]+ [mu]?s over the limit of 1 us %(%+%d+ %%%)\n"), out)
assert(out:find("MISSED  throughput>1000000 +throughput [%d.]+/s: [%d.]+/s under the limit of 1000000.0/s %(%-%d+ %%%)\n"), out)

-- A step nobody ran: nothing measured is a miss.
res, status = h.load(with("--threshold", "failed<=4", "--threshold", "p99(step=nope)<1s"))
t = find(res.thresholds, "p99(step=nope)<1s")
assert(status == 1 and not t.ok and t.value == nil and t.verdict:find("no step \"nope\""), "nope")

-- Malformed: a usage error naming the expression and what is wrong, before anything runs.
out, status = h.parley(with("load", "--threshold", "p99<fast"), 30, true)
assert(status == 2, "malformed: exit " .. status)
assert(out:find('--threshold "p99<fast": "fast" is not a number', 1, true), out)
out, status = h.parley(with("load", "--threshold", "p99 > 5 parsecs"), 30, true)
assert(status == 2 and out:find("not a unit of time", 1, true), out)

-- The time series adds up to the run's counts.
res = h.load(with())
local started, ok, failed, causes, step_count = 0, 0, 0, 0, 0
for i, s in ipairs(res.series.seconds) do
  assert(s.t == i - 1, "seconds in order")
  started, ok, failed = started + s.started, ok + s.ok, failed + s.failed
  for _, n in pairs(s.failures) do causes = causes + n end
  assert(s.latency.count == s.ok, "a second's latency counts its ok conversations")
  if s.steps.rcpt then step_count = step_count + s.steps.rcpt.count end
end
assert(res.series.interval == 1, "interval")
assert(started == 40 and ok == res.conversations.ok and failed == 4 and causes == 4,
  ("series: started %d ok %d failed %d causes %d"):format(started, ok, failed, causes))
assert(step_count == res.steps[5].ok, "rcpt step: " .. step_count .. " of " .. res.steps[5].ok)

-- Thresholds from the script: judged like the option's, kept in the JSON for --merge.
local srv2 = h.smtp_server {}
local function declared(th, extra)
  local argv = { "-c", "2", "-n", "10" }
  for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
  argv[#argv + 1] = h.client("declares")
  argv[#argv + 1] = "port=" .. srv2.port
  argv[#argv + 1] = "th=" .. th
  return argv
end
res, status = h.load(declared("p99<30s;throughput>0"))
assert(status == 0, "script thresholds met: exit " .. status)
t = find(res.thresholds, "throughput>0")
assert(t and t.ok and t.source == "script", "from the script")
assert(#res.script_thresholds == 2, "declared once each, not once per conversation")
res, status = h.load(declared("max<1us"))
assert(status == 1 and not find(res.thresholds, "max<1us").ok, "script threshold missed: " .. status)
out, status = h.parley({ "load", table.unpack(declared("p99<<3")) }, 30, true)
assert(status == 2, "malformed in the script: exit " .. status)
assert(out:find('load.thresholds: "p99<<3"', 1, true), out)

-- --merge: the files' script thresholds and its own, over the merged results.
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local files = {}
for i = 1, 2 do
  out, status = h.parley { "load", "--json", table.unpack(declared("p99<30s", { "--shard", i .. "/2" })) }
  assert(status == 0, "shard " .. i)
  files[i] = dir .. "/s" .. i .. ".json"
  local f = assert(io.open(files[i], "w"))
  f:write(out)
  f:close()
end
res, status = h.load({ "--merge", "--threshold", "throughput>1000000", files[1], files[2] })
assert(status == 1, "merge: missed throughput: exit " .. status)
assert(find(res.thresholds, "p99<30s").ok and find(res.thresholds, "p99<30s").source == "script",
  "script threshold of the files")
assert(not find(res.thresholds, "throughput>1000000").ok, "merge's own")
local seconds = 0
for _, s in ipairs(res.series.seconds) do seconds = seconds + s.started end
assert(seconds == 10, "merged series: " .. seconds)
out, status = h.parley { "load", "--merge", "--threshold", "p99<30s", files[1], files[2] }
assert(status == 0 and out:find("ok      p99<30s", 1, true), "merge, met: exit " .. status)
os.execute("rm -rf " .. dir)
print("thresholds ok")
