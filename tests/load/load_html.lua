-- load_html.lua: --html writes one self-contained page, rendered here by headless Chromium:
-- its text has the settings, the summary figures, the step names and the thresholds; its
-- charts are inline SVG with data; a step name and a failure message holding <script> stay
-- text; the password a failure quotes is masked; nothing is loaded from elsewhere. --merge
-- writes it for merged shards too; a path it cannot write is a usage error before the run, and
-- a run that ends in a script error leaves no page.
-- exit: 0
-- args: --timeout 100
-- stdout: html ok
-- within: 100

local h = require "helpers"
local srv, seen = h.smtp_server { refuse = function(n) return n % 7 == 0 end }
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Headless Chromium: the DOM it built from the page, and a screenshot.
local function chromium(page, png)
  local flags = "--headless --no-sandbox --disable-gpu --no-first-run --disable-extensions " ..
    "--user-data-dir=" .. dir .. "/profile --window-size=1200,2600"
  local p = assert(io.popen("timeout 60 chromium " .. flags .. " --dump-dom file://" .. page ..
    " 2>/dev/null"))
  local dom = p:read("a")
  p:close()
  assert(dom:find("</html>", 1, true), "chromium printed no DOM (is the chromium package installed?)")
  assert(os.execute("timeout 60 chromium " .. flags .. " --screenshot=" .. png .. " file://" ..
    page .. " >/dev/null 2>&1"))
  local shot = read(png)
  assert(shot:sub(1, 8) == "\137PNG\r\n\26\n" and #shot > 20000, "a screenshot: " .. #shot .. " bytes")
  return dom
end

local function count(text, pattern)
  local n = 0
  for _ in text:gmatch(pattern) do n = n + 1 end
  return n
end

-- The charts: inline SVG, each with data drawn.
local function check_charts(dom, kinds)
  for _, kind in ipairs(kinds) do
    local tag = dom:match('<svg class="chart" data%-chart="' .. kind .. '"[^>]*>')
    assert(tag, "no " .. kind .. " chart")
    local points = tonumber(tag:match('data%-points="(%d+)"'))
    assert(points and points > 0, kind .. " chart without data: " .. tag)
  end
  assert(count(dom, "<polyline") + count(dom, "<circle") >= 5 and count(dom, "<rect") >= 3,
    "lines (a point for a one-second run) and bars drawn")
end

local page = dir .. "/report.html"
local out, status = h.parley { "load", "-c", "3", "-n", "40", "--html", page,
  "--threshold", "p99<30s", "--threshold", "failed<1%",
  h.client("hostile_names"), "port=" .. srv.port, "password=hunter2x" }
assert(status == 1, "failed<1% is missed: exit " .. status)
assert(out:find("40 in", 1, true), out)
local html = read(page)
assert(not html:find("hunter2x", 1, true), "the password is masked in the page")
assert(html:find("password ****", 1, true), "the masked failure message is shown")
-- Self-contained: nothing fetched (no src=, href= or url( pointing anywhere), no script.
assert(not html:find("<script", 1, true), "no script element in the page")
assert(not html:lower():find("https?://"), "no link to elsewhere")
assert(not html:find("<[^>]*%ssrc=") and not html:find("<[^>]*%shref=") and not html:find("url%("),
  "nothing to load")

local dom = chromium(page, dir .. "/report.png")
assert(not dom:lower():find("<script", 1, true), "an injected <script> stayed text")
assert(not dom:find("<img", 1, true), "an injected <img> stayed text")
assert(dom:find("&lt;script&gt;alert('step')&lt;/script&gt;", 1, true), "the step name, as text")
assert(dom:find("&lt;script&gt;alert('fail')&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; password ****",
  1, true), "the failure message, as text")
-- Settings, summary, steps, thresholds.
assert(dom:find("<dt>concurrency</dt><dd>3</dd>", 1, true), "settings: concurrency")
assert(dom:find("<dt>count</dt><dd>40</dd>", 1, true), "settings: count")
assert(dom:find('<div class="label">conversations</div><div class="value">40</div>', 1, true),
  "summary: conversations")
-- 1..40: n % 7 == 0 refused (5), else n % 5 == 0 failed (7, 35 is refused first): 12 failed
assert(dom:find('<div class="label">failed</div><div class="value">12</div>', 1, true),
  "summary: failed")
for _, name in ipairs { "connect", "greeting", "rcpt" } do
  assert(dom:find("<tr><td>" .. name .. "</td>", 1, true), "the steps table lists " .. name)
end
assert(dom:find("<code>failed&lt;1%</code>", 1, true) and dom:find("missed</span>: 29", 1, true),
  "the missed threshold and by how much")
assert(dom:find("reply 550", 1, true) and dom:find("failed", 1, true), "failures by cause")
check_charts(dom, { "latency", "throughput", "failures", "steps", "histogram" })

-- --merge --html: the merged shards.
local files = {}
for i = 1, 2 do
  out, status = h.parley { "load", "--json", "-c", "2", "-n", "20", "--shard", i .. "/2",
    h.client("txn"), "port=" .. srv.port }
  assert(status == 1, "shard " .. i .. " has a refused recipient: exit " .. status)
  files[i] = dir .. "/shard" .. i .. ".json"
  local f = assert(io.open(files[i], "w"))
  f:write(out)
  f:close()
end
local merged = dir .. "/merged.html"
out, status = h.parley { "load", "--merge", "--html", merged, "--threshold", "failed<=2", files[1], files[2] }
assert(status == 0 and out:find("2 results merged", 1, true), "merge: 2 refused of 20, failed<=2: exit " .. status)
dom = chromium(merged, dir .. "/merged.png")
assert(dom:find("2 results merged", 1, true), "merged")
assert(dom:find('<div class="label">conversations</div><div class="value">20</div>', 1, true), "20")
assert(dom:find("<tr><td>data</td>", 1, true), "steps of the merged files")
check_charts(dom, { "latency", "throughput", "failures", "steps", "histogram" })

-- A run in which nothing succeeds: the latency charts say so (no axis of 1e-09 us), and the
-- step that always failed shows dashes, not "0 us".
local failing = dir .. "/failing.lua"
local ff = assert(io.open(failing, "w"))
ff:write('step("refused", function() fail("always refused") end)\n')
ff:close()
local empty = dir .. "/empty.html"
out, status = h.parley { "load", "-c", "2", "-n", "6", "--html", empty, failing }
assert(status == 1, "every conversation failed: exit " .. status)
html = read(empty)
assert(html:find("no values: nothing succeeded in any second", 1, true), "the empty latency chart says so")
assert(not html:find("e%-0%d"), "no tick label in e-notation")
assert(html:find("<tr><td>refused</td><td class=\"n\">0</td><td class=\"n\">6</td><td class=\"n\">&ndash;</td>",
  1, true), "a step that never succeeded has no latency figures")

-- A path it cannot write: a usage error, and nothing ran.
local before = seen.connections
out, status = h.parley({ "load", "-n", "5", "--html", dir .. "/no/such/dir/r.html", h.client("txn"),
  "port=" .. srv.port }, 30, true)
assert(status == 2 and out:find("--html: cannot write", 1, true), "unwritable: " .. status .. " " .. out)
assert(seen.connections == before, "nothing ran")
-- A script that does not load: exit 2, and no empty page left behind.
local broken = dir .. "/broken.lua"
local bf = assert(io.open(broken, "w"))
bf:write("this is not lua\n")
bf:close()
out, status = h.parley({ "load", "-n", "1", "--html", dir .. "/broken.html", broken }, 30, true)
assert(status == 2, "a script error: exit " .. status .. " " .. out)
assert(io.open(dir .. "/broken.html") == nil, "no page for a run that did not report")
os.execute("rm -rf " .. dir)
print("html ok")
