-- expect_code_forms.lua: every single-spec form of expect matches what it should and returns
-- the reply: a number, a three-digit string, a class "2xx", a narrower class "25x", a Lua
-- pattern on the text, and a function of the reply.
-- exit: 0
-- args: --timeout 5
-- stdout: all expect forms matched
-- within: 8

local srv = listen { host = "127.0.0.1", port = 0 }

local server = spawn(function()
  local c = srv:accept()
  c:send("220 mx.test ESMTP ready")
  for _, line in ipairs {
    "250 2.0.0 number form",
    "251 2.1.5 string form",
    "252 2.0.0 class form",
    "253 2.0.0 narrow class form",
    "354 go ahead, end with a dot",
    "421 4.3.2 function form",
  } do
    local got = c:read_line()
    assert(got == "NEXT", "server expected NEXT, got " .. tostring(got))
    c:send(line)
  end
  c:read_line()
  c:close()
end)

local c = connect("127.0.0.1", srv.port)

local r = c:expect(220)
assert(r.code == 220 and r.class == 2, "number 220")
assert(r.text == "mx.test ESMTP ready", "text of the greeting: " .. tostring(r.text))

c:send("NEXT")
r = c:expect(250)
assert(r.code == 250 and r.enhanced == "2.0.0", "number 250")

c:send("NEXT")
r = c:expect("251")
assert(r.code == 251, "string \"251\"")

c:send("NEXT")
r = c:expect("2xx")
assert(r.code == 252, "class 2xx")

c:send("NEXT")
r = c:expect("25x")
assert(r.code == 253, "class 25x")

c:send("NEXT")
r = c:expect("^go ahead, end with a (%a+)$")
assert(r.code == 354, "pattern")

c:send("NEXT")
local seen
r = c:expect(function(reply)
  seen = reply
  return reply.class == 4 and reply.enhanced == "4.3.2"
end)
assert(r == seen and r.code == 421, "function form gets the reply and expect returns it")

c:send("BYE")
c:close()
server:join()
print("all expect forms matched")
