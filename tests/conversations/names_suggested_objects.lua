-- names_suggested_objects.lua: a misspelled method on a raw connection, a listener or a task
-- names what exists ("did you mean"), as the sessions do, instead of Lua's bare "attempt to
-- call a nil value (method 'sned')". Fields a script set on a connection, the connection's
-- own fields, and c.last_command before anything was sent still read as they did. The last
-- mistake is not caught: it ends the run with exit 2 and the script's line.
-- exit: 2
-- args: --timeout 5
-- stdout: connection: no method 'sned' on a connection; did you mean 'send'\?
-- stdout: listener: no method 'acept' on a listener; did you mean 'accept'\?
-- stdout: listener field: no method 'prot' on a listener; did you mean 'port'\?
-- stdout: task: no method 'jion' on a task; did you mean 'join'\?
-- stdout: no near name: no method 'frobnicate' on a connection$
-- stderr: names_suggested_objects\.lua:[0-9]+: no method 'exepct' on a connection; did you mean 'expect'\?
-- stderr-not: attempt to call a nil value
-- stderr-not: stack traceback
-- within: 8

local srv = listen { host = "127.0.0.1", port = 0 }
local task = spawn(function()
  local c = srv:accept()
  c:send("220 mx.test ESMTP")
  c:read_line(3)
end)

local function mistake(what, fn)
  local ok, err = pcall(fn)
  assert(not ok, what .. ": no error")
  assert(type(err) == "table" and err.exit == 2, what .. ": a script error (exit 2): " .. tostring(err))
  print(what .. ": " .. err.message:match("^[^\n]*"))
  return err.message
end

local c = connect("127.0.0.1", srv.port)
-- What worked before still works: the connection's fields, c.last_command before a send, a
-- script's own fields, and names starting with "_".
assert(c.last_command == nil, "last_command is nil before anything was sent")
assert(c.port == srv.port and c.framing == "smtp" and c.server_side == false, "the fields")
assert(c._private == nil, "a name starting with _ reads as nil")
c.note = "mine"
assert(c.note == "mine", "a field the script set")

local msg = mistake("connection", function() c:sned("EHLO x") end)
assert(msg:find("its methods: .*expect.*send"), "the methods are listed, expect (Lua) too: " .. msg)
assert(msg:find("its fields: .*peer"), "the fields are listed: " .. msg)
mistake("no near name", function() return c.frobnicate end)
msg = mistake("listener", function() srv:acept() end)
assert(msg:find("its methods: accept, close"), "a listener's methods: " .. msg)
mistake("listener field", function() return srv.prot end)
msg = mistake("task", function() task:jion() end)
assert(msg:find("its methods: cancel, done, join; its fields: id"), "a task's: " .. msg)
assert(type(task.id) == "number" and not task:done(), "task.id and task:done() still work")

c:expect(220)
c:exepct(250)  -- not caught: exit 2 with this line
