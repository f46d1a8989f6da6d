-- on_handlers.lua: c:on(spec, fn) installs a handler tried before every later expect on that
-- connection (before its alternatives); its function's results become expect's results; several
-- handlers are tried in order; off() removes them all; on() returns the connection.
-- Finally a 421 handler that calls fail() ends the run (exit 1) with its message.
-- exit: 1
-- args: --timeout 3
-- stdout: handlers ok
-- stderr: on_handlers\.lua:[0-9]+: server is shutting down: 4\.3\.2 going down
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  for _, l in ipairs {
    "250 ok one",      -- no handler matches: the expect's own spec
    "421 4.3.2 busy",  -- handled by the 421 handler, although expect wanted 250
    "450 4.2.0 later", -- handled by the second handler
    "421 4.3.2 again", -- after off(): expect's alternative sees it
    "421 4.3.2 going down",
  } do
    s:read_line()
    s:send(l)
  end
  s:read_line(2)
end)

local c = connect("127.0.0.1", srv.port)
local calls = {}
local same = c:on("421", function(r, conn)
  calls[#calls + 1] = r.code
  assert(conn == c, "the handler gets the connection")
  return "handled", r.text
end)
assert(same == c, "on returns the connection")
c:on("4xx", function(r) return "class handler", r.code end)

c:send("ONE")
local r = c:expect(250)
assert(type(r) == "table" and r.code == 250, "no handler for 250")
c:send("TWO")
local what, text = c:expect(250)
assert(what == "handled" and text == "4.3.2 busy", "421 handler result: " .. tostring(what))
c:send("THREE")
local w2, code = c:expect { { "4xx", function() return "alternative" end } }
assert(w2 == "class handler" and code == 450, "handlers come before alternatives: " .. tostring(w2))
assert(#calls == 1, "the 421 handler ran once")

assert(c:off() == c, "off returns the connection")
c:send("FOUR")
local w3 = c:expect { { 421, function() return "alternative" end } }
assert(w3 == "alternative", "after off() no handler runs: " .. tostring(w3))
print("handlers ok")

c:on("421", function(r) fail("server is shutting down: " .. r.text) end)
c:send("FIVE")
c:expect(250)
print("not reached")
