-- expect_alternatives.lua: a table of alternatives. The first that matches wins (even when a
-- later one matches too), its function's results (several) become expect's results, an
-- alternative without a function returns the reply, every spec form works inside the table,
-- and the timeout (function or seconds) and eof branches are taken when nothing / the end comes.
-- exit: 0
-- args: --timeout 5
-- stdout: alternatives ok
-- within: 8

local parley = require "parley"
local srv = listen { host = "127.0.0.1", port = 0 }

local server = spawn(function()
  local c = srv:accept()
  c:send("250 2.1.0 first")
  c:send("550 5.1.1 no such user")
  c:send("452 4.2.2 mailbox full")
  c:send("* OK untagged")
  -- then silence until told, then hang up
  local l = c:read_line()
  assert(l == "HANGUP", "server wanted HANGUP, got " .. tostring(l))
  c:close()
end)

local c = connect("127.0.0.1", srv.port)

-- first match wins: both "2xx" and 250 match; the first in order is taken
local a, b, d = c:expect {
  { "2xx", function(r, conn) return "class", r.code, conn == c end },
  { 250, function() return "number" end },
}
assert(a == "class" and b == 250 and d == true, "first alternative should win: " .. tostring(a))

-- a number alternative further down wins when earlier ones do not match
local which, text = c:expect {
  { "2xx", function() return "two" end },
  { "4xx", function() return "four" end },
  { 550, function(r) return "550", r.text end },
}
assert(which == "550" and text == "5.1.1 no such user", "550 alternative: " .. tostring(which))

-- an alternative without a function returns the reply
local r = c:expect { "5xx", "45x" }
assert(type(r) == "table" and r.code == 452, "bare alternative returns the reply")

-- a pattern alternative
local p = c:expect { { 250, function() return "no" end }, { "^%* OK", function() return "pattern" end } }
assert(p == "pattern", "pattern alternative")

-- timeout branch (a function): the server is silent; the deadline is the expect's own
local t0 = parley.clock()
local tb = c:expect({ { 250, function() return "reply" end }, timeout = function(conn)
  assert(conn == c, "timeout branch gets the connection")
  return "timed out"
end }, 0.3)
local waited = parley.clock() - t0
assert(tb == "timed out", "timeout branch should run, got " .. tostring(tb))
assert(waited >= 0.25 and waited < 1.5, "timeout branch after ~0.3 s, took " .. waited)

-- timeout given as seconds inside the table, with the timeout branch absent: read_reply style
-- check through pcall that it fails with exit 1 after ~0.3 s
t0 = parley.clock()
local ok, err = pcall(c.expect, c, { 250, timeout = 0.3 })
waited = parley.clock() - t0
assert(not ok and type(err) == "table" and err.exit == 1, "timeout=seconds without a branch fails")
assert(tostring(err):find("within 0.3 s", 1, true), "message names 0.3 s: " .. tostring(err))
assert(waited < 1.5, "timeout=0.3 in the table honoured, took " .. waited)

-- eof branch
c:send("HANGUP")
local e = c:expect {
  { 250, function() return "reply" end },
  timeout = function() return "timeout" end,
  eof = function(conn) return "eof", conn == c end,
}
assert(e == "eof", "eof branch should run, got " .. tostring(e))
server:join()
print("alternatives ok")
