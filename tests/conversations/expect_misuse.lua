-- expect_misuse.lua: mistakes in what a script asks expect for are script errors (exit 2)
-- raised before anything is read: a malformed Lua pattern (named in the message), an empty
-- table of alternatives, a spec of the wrong type; and expect(spec, {timeout=s}) is honoured.
-- exit: 2
-- args: --timeout 5
-- stderr: expect_misuse\.lua:[0-9]+: expect: bad pattern "\[unclosed"
-- stdout: misuse refused
-- within: 4

local parley = require "parley"
local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  s:send("250 one")
  s:read_line(4)
end)
local c = connect("127.0.0.1", srv.port)

local ok, err = pcall(c.expect, c, {})
assert(not ok and err.exit == 2 and tostring(err):find("no alternative"), "empty table: " .. tostring(err))
ok, err = pcall(c.expect, c, true)
assert(not ok and err.exit == 2 and tostring(err):find("cannot match on a boolean"), tostring(err))
-- none of that consumed the reply
local r = c:expect(250)
assert(r.text == "one", "the reply is still there")

local t0 = parley.clock()
ok, err = pcall(c.expect, c, 250, { timeout = 0.2 })
assert(not ok and err.exit == 1 and parley.clock() - t0 < 1, "expect(spec, {timeout=0.2})")
print("misuse refused")
c:expect("[unclosed")
