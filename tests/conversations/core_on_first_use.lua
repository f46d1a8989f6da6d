-- core_on_first_use.lua: a start loads neither parley.core (expect, on, off) nor makes
-- package.parley_modules. parley.core loads when a connection is first asked for a name that
-- is none of its methods or fields (c.tls, c.host, ...: those do not load it); then expect
-- works on that first connection, and a misspelt method is suggested from the whole set,
-- expect included. package.parley_modules is made when first read.
-- exit: 0
-- args: --timeout 5
-- stdout: core loaded on first use
-- within: 6

assert(package.loaded["parley.core"] == nil, "a start loaded parley.core")
assert(type(print) == "function" and type(step) == "function", "the prelude's globals")
-- package.parley_modules is made when first read, too.
assert(rawget(package, "parley_modules") == nil, "a start made package.parley_modules")
local names = package.parley_modules
assert(type(names) == "table" and rawget(package, "parley_modules") == names, "parley_modules")
local has_core = false
for _, n in ipairs(names) do has_core = has_core or n == "parley.core" end
assert(has_core and #names > 10, "package.parley_modules: " .. table.concat(names, " "))

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
