-- imap_big_literal_reply.lua: responses with literals of 64 KB and more (received straight into
-- the strings of `literals`, `raw` put together when first read) have the same fields and bytes
-- as any other response: raw (by field and by pairs), lines, literals, small literals beside big
-- ones, bare LF line ends, a raw the script set itself, the transcript. A 4 MB literal costs
-- the state 4 MB, not 8, until raw is read.
-- stderr: <- \* 3 FETCH \(BODY\[\] \{70000\}
-- stderr: <-  D \{70000\}
-- stdout: big literal replies ok
local srv = listen { host = "127.0.0.1", port = 0, transcript = false }
local big = (("0123456789"):rep(100) .. "\r\n"):rep(70) .. "tail" -- 70,144 bytes
local other = ("z"):rep(70000)
local responses = {
  -- one big literal
  "* 1 FETCH (BODY[] {" .. #big .. "}\r\n" .. big .. ")\r\n",
  -- small, big, small and big literals; a bare LF after a marker and at the end
  "* 2 FETCH (A {3}\r\nabc B {" .. #big .. "}\n" .. big .. " C {0}\r\n D {" .. #other .. "}\r\n" ..
    other .. ")\n",
  "* 3 FETCH (BODY[] {" .. #other .. "}\r\n" .. other .. ")\r\n",
  -- the script sets raw itself before reading it
  "* 4 FETCH (BODY[] {" .. #other .. "}\r\n" .. other .. ")\r\n",
  "* 5 FETCH (BODY[] {4194304}\r\n" .. ("m"):rep(4194304) .. ")\r\n",
  "a OK done\r\n",
}
local server = spawn(function()
  local s = srv:accept()
  for _, r in ipairs(responses) do s:send_raw(r) end
  s:read_line()
  s:close()
end)

local c = connect { host = "127.0.0.1", port = srv.port, framing = "imap" }
local function check(r, wire, literals)
  assert(r.raw == wire, "raw differs")
  assert(#r.literals == #literals, "literal count")
  for i, l in ipairs(literals) do assert(r.literals[i] == l, "literal " .. i) end
  local joined = {}
  for i, line in ipairs(r.lines) do
    joined[#joined + 1] = line
    if r.literals[i] then joined[#joined + 1] = "\n" .. r.literals[i] end
  end
  assert(table.concat(joined):gsub("\r", "") == wire:gsub("\r", ""):gsub("\n$", ""), "lines")
end

local r1 = c:read_reply()
assert(r1.tag == "*" and r1.text == "* 1 FETCH (BODY[] {" .. #big .. "}")
assert(r1.code == nil and r1.nothing == nil)
check(r1, responses[1], { big })
assert(getmetatable(r1) == nil, "a plain table once raw is read")

local r2 = c:read_reply()
local keys = {}
for k in pairs(r2) do keys[#keys + 1] = k end
table.sort(keys)
assert(table.concat(keys, " ") == "lines literals raw tag text violations", table.concat(keys, " "))
assert(rawget(r2, "raw") == responses[2])
check(r2, responses[2], { "abc", big, "", other })
assert(#r2.violations == 1 and r2.violations[1]:find("bare LF"))

local r3 = c:read_reply()
check(r3, responses[3], { other })

local r4 = c:read_reply()
r4.raw = "mine"
for _ in pairs(r4) do end
assert(r4.raw == "mine" and r4.literals[1] == other)

collectgarbage()
collectgarbage("stop")
local before = collectgarbage("count")
local r5 = c:read_reply()
local grown = collectgarbage("count") - before
assert(grown > 4096 and grown < 4096 + 512, "a 4 MB reply took " .. grown .. " KB")
assert(#r5.raw == #responses[5])
grown = collectgarbage("count") - before
assert(grown > 8192 and grown < 8192 + 512, "with raw read: " .. grown .. " KB")
collectgarbage("restart")
assert(r5.raw == responses[5] and r5.literals[1] == ("m"):rep(4194304))

assert(c:read_reply().text == "a OK done")
c:send("done")
server:join()
print("big literal replies ok")
