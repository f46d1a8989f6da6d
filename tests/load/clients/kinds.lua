-- A different way to fail for each conversation number, to check how failures are counted.
local n = ...
local kind = n % 5
if kind == 1 then
  connect("127.0.0.1", args.closed_port) -- nobody listens: "connect"
elseif kind == 2 then
  fail("the test says so") -- "failed"
elseif kind == 3 then
  local t = nil
  return t.field -- a script error: "script"
end
local c = connect("127.0.0.1", args.port)
c:expect(220)
c:send("EHLO load.test")
c:expect(250)
if kind == 4 then
  c:send("MAIL FROM:<load@test.example>")
  c:expect(250)
  c:send("RCPT TO:<r" .. n .. "@test.example>") -- the server hangs up here: "eof"
  c:expect(250)
end
c:send("QUIT")
c:expect(221)
c:close()
