-- core_on_first_use.lua: parley.core (expect, on, off) is not loaded by a start, only when a
-- connection is first asked for a name that is none of its methods or fields (c.tls, c.host,
-- ...: those do not load it); once
-- loaded, expect works on that first connection, and a misspelt method is suggested from the
-- whole set, expect included.
-- exit: 0
-- args: --timeout 5
-- stdout: core loaded on first use
-- within: 6

assert(package.loaded["parley.core"] == nil, "a start loaded parley.core")
assert(type(print) == "function" and type(step) == "function", "the prelude's globals")

local srv = listen { host = "127.0.0.1", port = 0 }
local server = spawn(function()
  local s = srv:accept()
  s:send("220 hi")
  s:close()
end)

local c = connect("127.0.0.1", srv.port)
assert(c.host == "127.0.0.1" and c.framing == "smtp" and c.tls == nil, "fields")
c.note = "mine"
assert(package.loaded["parley.core"] == nil, "a field loaded parley.core")
local expect = c.expect
assert(type(expect) == "function", "c.expect: " .. type(expect))
assert(package.loaded["parley.core"] ~= nil, "c.expect did not load parley.core")
assert(require("parley").conn_methods.expect == expect, "the method parley.core installed")
c:expect(220)
assert(c.note == "mine", "a field of the script's")
local ok, err = pcall(function() return c.expcet end)
assert(not ok and tostring(err):find("did you mean 'expect'", 1, true), tostring(err))
server:join()
print("core loaded on first use")
