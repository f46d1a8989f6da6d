-- expect_cached_specs.lua: expect's test of a code, class or pattern comes from a cache that
-- expect fills before its wait and checks first once the reply is there; the cache is bounded
-- (emptied past 256 specs). A conversation whose spec was dropped from the cache while it
-- waited (another one filled it meanwhile) still tests its reply, and one whose reply does
-- not match still fails with the usual message, cached or not.
-- exit: 0
-- args: --timeout 5
-- stdout: cached specs ok
-- within: 10

local core = require "parley.core"
local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  for _ = 1, 2 do
    spawn(function(c)
      c:send("220 ready")
      while true do
        local line = c:read_line()
        if not line or line == "QUIT" then break end
        sleep(0.1)  -- the client's conversation waits meanwhile
        c:send(line)  -- the line is the reply
      end
      c:close()
    end, srv:accept())
  end
end)

local a = connect("127.0.0.1", srv.port)
local b = connect("127.0.0.1", srv.port)
a:expect(220)
b:expect(220)

-- a waits for "250 from a" with a pattern spec; meanwhile 300 other specs fill the cache
-- (emptying it), then a's reply comes (the server echoes each line 0.1 s later).
a:send("250 from a")
local waiter = spawn(function()
  local r = a:expect("^from a$")
  return r.code, r.text
end)
sleep(0.02)
for i = 1, 300 do core.scalar_match("^filler " .. i .. "$") end
local code, text = waiter:join()
assert(code == 250 and text == "from a", "after the cache was emptied: " .. tostring(code) .. " " .. tostring(text))

-- The same for a code and a class, and the cached forms right after.
for _, case in ipairs { { 251, "251 fine" }, { "252", "252 fine" }, { "25x", "253 fine" },
                        { "2xx", "220 fine" }, { "^ok", "254 ok" } } do
  local spec = case[1]
  b:send(case[2])
  local w = spawn(function() return b:expect(spec).text end)
  sleep(0.02)
  for i = 1, 300 do core.scalar_match("^again " .. i .. "$") end
  assert(w:join() == case[2]:sub(5), "after the cache was emptied: " .. tostring(spec))
  b:send(case[2])
  assert(b:expect(spec).text == case[2]:sub(5), "cached: " .. tostring(spec))
end

-- A reply that does not match fails as ever, cached spec or dropped one.
for _, dropped in ipairs { false, true } do
  a:send("550 5.1.1 no such user")
  local w = spawn(function() return pcall(a.expect, a, 250) end)
  sleep(0.02)
  if dropped then for i = 1, 300 do core.scalar_match("^third " .. i .. "$") end end
  local ok, err = w:join()
  assert(not ok, "a 550 matched 250")
  local msg = tostring(err.message or err)
  assert(msg:find("expected 250, got: 550 5.1.1 no such user", 1, true), msg)
  assert(err.code == 550, "the error carries the code")
end

a:send("QUIT")
b:send("QUIT")
a:close()
b:close()
print("cached specs ok")
