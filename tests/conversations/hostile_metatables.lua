-- hostile_metatables.lua: nothing a script builds may crash parley (abort, exit 134) or make it
-- leak. Metatables whose every metamethod raises (or loops, or waits) are put on option
-- tables, on values passed to every binding, on `args`, on error objects (caught, joined and
-- unjoined), and on the shared metatable of parley's own errors. Lua is linked as C, so a
-- metamethod that raised inside a C++ binding would longjmp over live C++ objects: the ASan
-- build of this test (LeakSanitizer at exit) fails if one did.
-- exit: 2
-- args: --timeout 2 -q
-- stdout: hostile values checked: [0-9]{3,}
-- stdout: error objects checked: 8
-- stderr: spawned conversation [0-9]+ failed: \(an error object that cannot be shown: reading it raised an error: .*index raised
-- stderr: spawned conversation [0-9]+ failed: \(an error object that cannot be shown: .*more than [0-9]+ instructions
-- stderr: spawned conversation [0-9]+ failed: \(an error object that cannot be shown: .*cannot wait here
-- stderr: spawned conversation [0-9]+ failed: \(an error object that cannot be shown: .*tostring raised
-- stderr-not: PANIC
-- within: 60

local parley = require "parley"
local crypto = require "parley.crypto"

local function raiser(name)
  return function() error(name .. " raised") end
end
local HOSTILE = {}
for _, ev in ipairs { "__index", "__newindex", "__tostring", "__eq", "__lt", "__le", "__len",
  "__concat", "__call", "__add", "__unm", "__close", "__pairs" } do
  HOSTILE[ev] = raiser(ev:sub(3))
end
HOSTILE.__name = setmetatable({}, HOSTILE) -- not even its name is a string
-- A table with these fields (read raw) behind the hostile metatable.
local function hostile(fields)
  local t = {}
  for k, v in pairs(fields or {}) do t[k] = v end
  return setmetatable(t, HOSTILE)
end

local checked = 0
local function try(f, ...)
  checked = checked + 1
  local ok, err = pcall(f, ...)
  -- Whatever it raised can be described (parley test and parley load rely on it).
  if not ok then assert(type(parley.describe_error(err)) == "string") end
  return ok, err
end

-- A server that greets, answers every line with 250 and never speaks TLS.
local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  while true do
    local ok, s = pcall(srv.accept, srv, 10)
    if not ok then return end
    spawn(function()
      s:send("220 hostile.test")
      while true do
        local ok, line = pcall(s.read_line, s, 10)
        if not ok or not line then break end
        pcall(s.send, s, "250 ok")
      end
      pcall(s.close, s)
    end)
  end
end)

-- Option tables: their fields are read raw, the metatable is never consulted.
local c = connect(hostile { host = "127.0.0.1", port = srv.port, timeout = 1, framing = "smtp",
  transcript = false })
assert(c:read_reply(hostile { timeout = 1 }).code == 220, "options read raw")
c:send("NOOP", hostile { timeout = 1 })
assert(c:read_reply(hostile { timeout = 1 }).code == 250)
c:set_framing("smtp", hostile { max_line = 4096 })
c:close(hostile { reset = true })
local l2 = listen(hostile { host = "127.0.0.1", port = 0, transcript = false })
local ok, why = try(l2.accept, l2, hostile { timeout = 0.05 })
assert(not ok and tostring(why):find("no client connected"), tostring(why))
l2:close()
local e = exec(hostile { "cat", framing = "line", timeout = 1 })
e:send("echo")
assert(e:read_line(hostile { timeout = 1 }) == "echo")
e:close()
local d = connect("127.0.0.1", srv.port, hostile { timeout = 1 })
d:expect(220)
ok, why = try(d.starttls, d, hostile { verify = false, timeout = 0.3, sni = "x.test" })
assert(not ok, "no TLS on this server")
ok, why = try(connect, hostile { host = "127.0.0.1", port = srv.port, tls = "implicit",
  verify = false, timeout = 0.3 })
assert(not ok, "no TLS on this server")

-- Hostile values in every argument of every binding.
local values = { hostile { timeout = 0.01 }, hostile { timeout = 0.01, 1 } }
local function c_functions(t, into)
  for name, f in pairs(t) do
    if type(f) == "function" and debug.getinfo(f, "S").what == "C" then into[#into + 1] = { name, f } end
  end
end
-- set_exit(number) would set the run's status, secret(number) mask digits everywhere.
local skip = { set_exit = true, secret = true }
local plain = {}
c_functions(parley, plain)
c_functions(crypto, plain)
for _, f in ipairs { sleep, spawn, fail, connect, exec, listen } do plain[#plain + 1] = { "?", f } end
for _, entry in ipairs(plain) do
  if not skip[entry[1]] then
    for _, v in ipairs(values) do
      try(entry[2], v)
      try(entry[2], v, v, v)
      try(entry[2], "sha256", v, v)
      try(entry[2], 0.05, v)
    end
  end
end
-- Connection, listener and task methods, on a live object and on hostile selves.
local function methods_of(object, names)
  for _, name in ipairs(names) do
    for _, v in ipairs(values) do
      local conn = object()
      local f = conn[name]
      try(f, v)
      try(f, conn, v)
      try(f, conn, v, v)
      try(f, conn, "0.05", v)
    end
  end
end
methods_of(function()
  local k = connect { host = "127.0.0.1", port = srv.port, transcript = false, timeout = 0.2 }
  k:read_reply()
  return k
end, { "send", "send_raw", "read_reply", "read_line", "read", "starttls", "close", "set_framing",
  "want_block", "set_timeout", "pending", "last_bytes", "is_open" })
methods_of(function() return listen { host = "127.0.0.1", port = 0, transcript = false } end,
  { "accept", "close" })
methods_of(function() return spawn(function() sleep(0.01) end) end, { "join", "done", "cancel" })
-- Indexing objects with hostile keys.
try(function() return c[hostile()] end)
try(function() return srv[hostile()] end)
try(function() local t = spawn(function() end) return t[hostile()] end)

-- args behind a hostile metatable: nothing in C++ reads it again.
setmetatable(args, HOSTILE)
try(function() return args.nothing end)
local a = connect { host = "127.0.0.1", port = srv.port, transcript = false }
a:expect(220)
a:close()
setmetatable(args, nil)
print("hostile values checked: " .. checked)

-- Error objects. Caught and joined ones fail only the code that looks at them.
local function bad_error(kind)
  if kind == "index" then
    return setmetatable({}, { __index = function() error("index raised") end })
  elseif kind == "endless" then
    return setmetatable({}, { __index = function() while true do end end })
  elseif kind == "waits" then
    return setmetatable({}, { __index = function() sleep(1) end })
  elseif kind == "tostring" then
    return setmetatable({}, { __tostring = function() error("tostring raised") end })
  end
end
local errors = 0
for _, kind in ipairs { "index", "endless", "waits", "tostring" } do
  local ok2, err = pcall(error, bad_error(kind))
  assert(not ok2 and type(parley.describe_error(err)) == "string")
  local t = spawn(function() error(bad_error(kind)) end)
  local ok3, err3 = pcall(t.join, t)
  assert(not ok3 and type(err3) == "table", kind)
  local text = parley.describe_error(err3)
  assert(type(text) == "string", kind)
  errors = errors + 2
end
-- parley's own error metatable made hostile: its errors still show.
local own = select(2, pcall(parley.raise, 1, "test", "own error"))
local meta = getmetatable(own)
assert(type(own) == "table" and meta)
meta.__index = raiser("own index")
local own2 = select(2, pcall(parley.raise, 1, "test", "own error"))
assert(tostring(own2):find("own error"), tostring(own2))
meta.__index = nil
-- A non-table error whose type has a hostile metatable.
debug.setmetatable(true, { __tostring = raiser("boolean tostring") })
local t = spawn(function() error(true) end)
assert(not pcall(t.join, t))
debug.setmetatable(true, nil)
print("error objects checked: " .. errors)

-- Unjoined: the engine reports them (exit 2), reading each in a protected call.
local bools = spawn(function()
  debug.setmetatable(true, { __tostring = raiser("tostring") })
  error(true)
end)
for _, kind in ipairs { "index", "endless", "waits", "tostring" } do
  spawn(function() error(bad_error(kind)) end)
end
sleep(0.2)
debug.setmetatable(true, nil)
