-- load_merge.lua: --shard I/N runs the I-th part of the load (shards 1/2 and 2/2 together run
-- -n once, numbers 1..n each once), and --merge adds results up exactly: counts, failures,
-- histogram buckets, and percentiles recomputed from the merged buckets. A hand-made pair of
-- result files checks exact merged percentiles; a file that is not a result is refused.
-- exit: 0
-- args: --timeout 30
-- stdout: merge ok
-- within: 30

local h = require "helpers"
local srv, seen = h.smtp_server { refuse = function(n) return n % 7 == 0 end }
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

local function save(name, text)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:write(text)
  f:close()
  return dir .. "/" .. name
end

local parts, files = {}, {}
for i = 1, 2 do
  local out, status = h.parley { "load", "--json", "-c", "3", "-n", "31", "--shard", i .. "/2",
    h.client("txn"), "port=" .. srv.port }
  assert(status == 1, "shard " .. i .. " exit " .. status)
  parts[i] = h.decode(out)
  files[i] = save("shard" .. i .. ".json", out)
  assert(parts[i].settings.shard == i .. "/2", "shard setting")
end
assert(parts[1].conversations.done == 16 and parts[2].conversations.done == 15, "16 + 15")
assert(parts[1].settings.concurrency == 2 and parts[2].settings.concurrency == 1, "2 + 1")
table.sort(seen.recipients)
assert(#seen.recipients == 31, "31 recipients")
for i = 1, 31 do assert(seen.recipients[i] == i, "numbers 1..31 once each") end

local out, status = h.parley { "load", "--merge", "--json", files[1], files[2] }
assert(status == 1, "merged results hold failures: exit " .. status)
local m = h.decode(out)
assert(m.settings.parts == 2 and m.settings.shard == nil, "parts")
assert(m.settings.count == 31 and m.settings.concurrency == 3, "settings add up")
assert(m.conversations.done == 31 and m.conversations.failed == 4 and m.conversations.ok == 27,
  "counts add up")
assert(m.elapsed == math.max(parts[1].elapsed, parts[2].elapsed), "elapsed: the longest part")
assert(#m.failures == 1 and m.failures[1].cause == "reply 550" and m.failures[1].count == 4,
  "failures add up")

-- Buckets: the sum of both parts' buckets; percentiles: from the merged buckets.
local function bucket_map(hist)
  local t = {}
  for _, b in ipairs(hist.buckets) do t[b[1]] = (t[b[1]] or 0) + b[2] end
  return t
end
local function check_merged(a, b, merged, what)
  local want = bucket_map(a)
  for k, v in pairs(bucket_map(b)) do want[k] = (want[k] or 0) + v end
  local got = bucket_map(merged)
  for k, v in pairs(want) do assert(got[k] == v, what .. ": bucket " .. k) end
  for k, v in pairs(got) do assert(want[k] == v, what .. ": bucket " .. k) end
  assert(merged.count == a.count + b.count, what .. ": count")
  assert(merged.sum == a.sum + b.sum, what .. ": sum")
  assert(merged.max == math.max(a.max, b.max), what .. ": max")
  if a.count > 0 and b.count > 0 then
    assert(merged.min == math.min(a.min, b.min), what .. ": min")
  end
  for _, p in ipairs { 50, 90, 99, 99.9 } do
    local key = p == 99.9 and "p999" or "p" .. p
    assert(merged[key] == h.percentile(merged, p), what .. ": " .. key)
  end
end
check_merged(parts[1].latency, parts[2].latency, m.latency, "latency")
check_merged(parts[1].failed_latency, parts[2].failed_latency, m.failed_latency, "failed")
for i, st in ipairs(m.steps) do
  check_merged(parts[1].steps[i].latency, parts[2].steps[i].latency, st.latency, st.name)
end

-- Hand-made: 3 values at 100 us in one file, 1 at 300 us in the other (bucket 300..301).
local function result(buckets, count, min, max, sum)
  return ([[{"parley_load":1,"script":"x.lua","settings":{"concurrency":1,"threads":1,
"count":%d,"duration":null,"rate":null,"timeout":30,"shard":null,"parts":1},"started_at":0,
"elapsed":1,"conversations":{"done":%d,"ok":%d,"failed":0,"interrupted":0},"throughput":1,
"latency":{"unit":"us","count":%d,"min":%d,"max":%d,"sum":%d,"buckets":%s},
"failed_latency":{"unit":"us","count":0,"min":0,"max":0,"sum":0,"buckets":[]},
"failures":[],"steps":[]}]]):format(count, count, count, count, min, max, sum, buckets)
end
local a = save("a.json", result("[[100,3]]", 3, 100, 100, 300))
local b = save("b.json", result("[[300,1]]", 1, 301, 301, 301))
out, status = h.parley { "load", "--merge", "--json", a, b }
assert(status == 0, "exit " .. status)
m = h.decode(out)
local l = m.latency
assert(l.count == 4 and l.min == 100 and l.max == 301 and l.sum == 601, "exact extremes")
assert(l.p50 == 100 and l.p90 == 300 and l.p99 == 300 and l.p999 == 300, "exact percentiles")
assert(m.conversations.ok == 4 and m.settings.count == 4, "counts")

-- Text report of a merge, and refusals.
out, status = h.parley { "load", "--merge", a, b }
assert(status == 0 and out:find("4 ok, 0 failed", 1, true) and out:find("2 results merged", 1, true),
  "text: " .. out)
local bad = save("bad.json", '{"hello": 1}')
out, status = h.parley { "load", "--merge", a, bad }
assert(status == 2, "not a result: exit " .. status)
local odd = save("odd.json", result("[[301,1]]", 1, 301, 301, 301))
out, status = h.parley { "load", "--merge", odd }
assert(status == 2, "301 is not a bucket's first value: exit " .. status)
os.execute("rm -rf " .. dir)
print("merge ok")
