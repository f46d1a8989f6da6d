-- A server that echoes the credential it was sent, as some do in their refusals: every report
-- format of `parley test` must show it masked. Run with password=hunter2.

local crypto = require "parley.crypto"
local srv = listen { host = "127.0.0.1", port = 0 }

test("server echoes the password", function()
  local server = spawn(function()
    local s = srv:accept()
    s:send("220 echo.test ESMTP")
    s:read_line()
    -- written out by hand: a server elsewhere, not a value this process computed
    s:send("535 5.7.8 bad password hunter2 (b64 aHVudGVyMg==)")
  end)
  local c = connect("127.0.0.1", srv.port)
  c:expect(220)
  c:send("AUTH PLAIN " .. crypto.b64encode("\0alice\0" .. args.password))
  capture("tried", "alice/" .. args.password)
  c:expect(235)
  server:join()
end)

test("assertion quotes the password", function()
  expect_eq("got " .. args.password, "wanted something else")
end)
