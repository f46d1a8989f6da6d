-- A suite with one case of each outcome, against a server played by parley itself.
local srv

before_all(function()
  srv = listen {}
  spawn(function()
    while true do
      local c = srv:accept(math.huge)
      spawn(function()
        c:send("220 runner-mock ready")
        for line in function() return c:read_line() end do
          if line:match("^RCPT") then
            c:send("550 5.1.1 <" .. (line:match("<(.-)>") or "") .. ">: no such user")
          elseif line:match("^QUIT") then
            c:send("221 bye")
            return c:close()
          else
            c:send("250 2.0.0 Ok: queued as Q" .. tostring(srv.port))
          end
        end
      end)
    end
  end)
end)

local counter = 0
before(function() counter = counter + 1 end)
after(function() counter = counter + 100 end)

test("greets with 220", function()
  local c = connect("127.0.0.1", srv.port)
  expect_match(c:expect(220).text, "runner%-mock")
  c:send("QUIT")
  c:expect(221)
end)

test("hooks ran around the case", function()
  expect_eq(counter, 102, "before/after count")
end)

test("captures a queue id", function()
  local c = connect("127.0.0.1", srv.port)
  c:expect(220)
  c:send("DATA")
  capture("queue_id", c:expect(250).text:match("queued as (%w+)"))
end)

test("recipient refused", function()
  local c = connect("127.0.0.1", srv.port)
  c:expect(220)
  c:send("RCPT TO:<nobody@example.test>")
  c:expect(250)
end)

test("not today", function() skip("feature off") end)

test("too slow", function() sleep(30) end)

test("script error", function() local t = nil; return t.field end)
