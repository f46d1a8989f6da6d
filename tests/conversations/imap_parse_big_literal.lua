-- imap_parse_big_literal.lua: imap.parse_response (what s:fetch and every session command
-- use) reads a response with a literal of 64 KB or more without copying it: the FETCH item is
-- the unit's own literal string, raw is read from the unit when first asked for, and the items
-- are the ones a response without big literals gives (small literals beside big ones, literal
-- bytes that look like markers, NUL bytes, parsing from a string, a raw the script set). A 4 MB
-- literal costs the state about 4 MB, not five times that.
-- stdout: parse big literals ok
local imap = require "parley.imap"
local srv = listen { host = "127.0.0.1", port = 0, transcript = false }
local big = (("0123456789"):rep(100) .. "\r\n"):rep(70) .. "tail" -- 70,144 bytes
-- bytes that look like a token, a literal marker and the end of the list
local tricky = ("\0" .. "1\0{3}\r\nabc) "):rep(6000)
local huge = ("m"):rep(4194304)
local responses = {
  "* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {" .. #big .. "}\r\n" .. big .. ")\r\n",
  "* 2 FETCH (BODY[HEADER] {5}\r\nhello BODY[TEXT] {" .. #tricky .. "}\r\n" .. tricky ..
    " UID 9)\r\n",
  "* 2 FETCH (BODY[] {" .. #big .. "}\r\n" .. big .. ")\r\n",
  "* 3 FETCH (BODY[] {" .. #huge .. "}\r\n" .. huge .. ")\r\n",
  "a OK done\r\n",
}
local server = spawn(function()
  local s = srv:accept()
  for _, r in ipairs(responses) do s:send_raw(r) end
  s:read_line()
  s:close()
end)

local c = connect { host = "127.0.0.1", port = srv.port, framing = "imap", transcript = false,
  max_reply = 8 * 1024 * 1024 }

local u1 = c:read_reply()
local r1 = imap.parse_response(u1)
assert(r1.tag == "*" and r1.type == "FETCH" and r1.number == 1, r1.type)
assert(r1.items.UID == 7 and r1.items.FLAGS[1] == "\\Seen" and #r1.items.FLAGS == 1)
assert(r1.items["BODY[]"] == big, "BODY[] differs")
assert(r1.text == "* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {" .. #big .. "}", r1.text)
assert(rawget(r1, "raw") == nil, "raw is made when first read")
assert(r1.raw == responses[1], "raw differs")
assert(getmetatable(r1) == nil and rawget(r1, "raw") == responses[1])

local r2 = imap.parse_response(c:read_reply())
local keys = {}
for k in pairs(r2) do keys[#keys + 1] = k end
table.sort(keys)
assert(table.concat(keys, " ") == "items number raw tag text type", table.concat(keys, " "))
assert(r2.raw == responses[2])
assert(r2.items["BODY[HEADER]"] == "hello" and r2.items["BODY[TEXT]"] == tricky)
assert(r2.items.UID == 9, "the item after the big literal")

-- a raw the script set itself is kept by pairs
r2 = imap.parse_response(c:read_reply())
r2.raw = "mine"
for _ in pairs(r2) do end
assert(r2.raw == "mine" and getmetatable(r2) == nil, "pairs replaced the script's raw")

-- the same response as a string: the literals inline, the same items
local s2 = imap.parse_response(responses[2])
assert(s2.items["BODY[TEXT]"] == tricky and s2.items["BODY[HEADER]"] == "hello" and
  s2.items.UID == 9)

collectgarbage("collect")
local before = collectgarbage("count")
local u3 = c:read_reply()
local r3 = imap.parse_response(u3)
collectgarbage("collect")
local grown = collectgarbage("count") - before
assert(r3.items["BODY[]"] == huge, "BODY[] of 4 MB differs")
assert(grown < 4096 * 1.5, ("a 4 MB FETCH took %.1f KB"):format(grown))

local done = imap.parse_response(c:read_reply())
assert(done.tag == "a" and done.status == "OK" and done.raw == "a OK done\r\n")
c:send("bye")
server:join()
print("parse big literals ok")
