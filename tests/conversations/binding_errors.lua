-- binding_errors.lua: the errors the C++ bindings raise, many times over: bad arguments (in the
-- message format of Lua's own luaL_check*), script errors raised while the binding holds C++
-- objects (strings, shared connections, readers), errors of completions, and yields. Lua is
-- linked as C, so these are longjmps: the ASan build of this test (LeakSanitizer at exit)
-- fails if one of them skipped a C++ destructor.
-- exit: 0
-- args: --timeout 2 -q
-- stdout: 400 errors checked
-- within: 10

local checked = 0
local function fails(pattern, f, ...)
  checked = checked + 1
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  local text = tostring(err)
  assert(text:find(pattern), "error " .. text .. " does not match " .. pattern)
end

local srv = listen { host = "127.0.0.1", port = 0 }
-- The accepted connections are kept: one that is collected is closed, and the client's read
-- below would see eof instead of its timeout.
local held = {}
spawn(function()
  while true do
    local s = srv:accept(5)
    if not s then return end
    held[#held + 1] = s
    s:send("220 hello")
  end
end)

for round = 1, 20 do
  -- argument checks of the luaL_check* kind
  fails("bad argument #1 to 'sleep' %(number expected, got string%)", sleep, "x")
  fails("bad argument #1 to 'sleep' %(a number of seconds from 0 up%)", sleep, -1)
  fails("bad argument #1 to 'spawn' %(function expected, got nil%)", spawn, nil)
  fails("bad argument #1 to 'secret' %(string expected, got table%)", secret, {})
  fails("option timeout must be a number", connect, { host = "127.0.0.1", port = srv.port,
    timeout = "soon" })
  fails("connect: no port", connect, { host = "127.0.0.1" })
  fails("unknown framing \"nope\"", connect, { host = "127.0.0.1", port = srv.port,
    framing = "nope" })

  -- errors raised while the binding holds a connection, a reader, a message string
  local c = connect("127.0.0.1", srv.port)
  c:expect(220)
  fails("bad argument #1 to 'read' %(a byte count from 0 up%)", function() return c:read(-1) end)
  fails("bad argument #2 to '%?' %(a byte count from 0 up%)", c.read, c, -1) -- as Lua says it
  fails("bad argument #1 to 'read_line' %(parley.conn expected, got table%)",
    function() return c.read_line({}) end)
  fails("calling 'set_timeout' on bad self", function() local t = {} t.set_timeout = c.set_timeout
    return t:set_timeout(1) end)
  fails("bad argument #1 to 'set_timeout' %(a number of seconds above 0%)",
    function() return c:set_timeout(0) end)
  fails("unknown framing \"no%-such%-framing%-at%-all\"", c.set_framing, c, "no-such-framing-at-all")
  c:close()
  fails("send: connection %d+ to 127%.0%.0%.1:%d+ is closed", c.send, c, "NOOP")
  fails("read_reply: connection %d+ .* is closed", c.read_reply, c)

  -- a completion's error (timeout), raised by the continuation after the yield
  local d = connect("127.0.0.1", srv.port)
  d:expect(220)
  local line, why = d:read_line(0.01)
  assert(line == nil and why == "timeout", "a read that times out: " .. tostring(why))
  fails("expected 250", d.expect, d, 250, 0.01)
  d:close()

  -- secrets and tasks
  local s = secret("pw" .. round)
  fails("attempt to concatenate a table value", function() return s .. {} end)
  fails("failed on purpose", fail, "failed on purpose")
  local t = spawn(function() sleep(5) end)
  t:cancel("stop")
  fails("stop", t.join, t)
  fails("bad argument #1 to 'parley%.raise' %(number expected, got string%)", require("parley").raise,
    "x", "y", "z")
end
print(checked .. " errors checked")
srv:close()
