-- expect_failure_alternatives.lua: when no alternative matches, the failure names every
-- alternative (number, class, pattern, function), what came, and the line of the expect.
-- exit: 1
-- args: --timeout 3
-- stderr: expect_failure_alternatives\.lua:21\b
-- stderr: expected 250 or 4xx or pattern "\^ok" or a reply the script's test accepts, got: 554 5\.7\.1 relay denied
-- stderr: meaning:
-- within: 6

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = srv:accept()
  c:send("554 5.7.1 relay denied")
  c:read_line(2)
end)

local c = connect("127.0.0.1", srv.port)
local called = false
local ok, err = pcall(function()
  -- pcall first: the error is a table that knows its exit status and kind
  c:expect { 250, "4xx", { "^ok", function() called = true end }, function() return false end }
end)
assert(not ok and type(err) == "table", "expect fails with an error object")
assert(err.exit == 1 and err.kind == "expect", "exit 1, kind expect: " .. tostring(err.exit))
assert(not called, "no alternative's function runs on failure")
error(err) -- re-raise: the run ends as the error says
