-- A conversation whose step name and failure message carry HTML (for the --html report's
-- escaping) and, in 1 of 5, a failure message quoting the password (a secret).
local n = ...
local c = step("connect", connect, "127.0.0.1", args.port)
step("greeting", function() c:expect(220) end)
step("<script>alert('step')</script>", function() c:send("EHLO x"); c:expect(250) end)
step("rcpt", function()
  c:send("MAIL FROM:<a@test.example>"); c:expect(250)
  c:send("RCPT TO:<r" .. n .. "@test.example>"); c:expect(250)
end)
if n % 5 == 0 then
  fail("<script>alert('fail')</script><img src=x onerror=alert(1)> password " .. args.password)
end
c:send("QUIT"); c:expect(221)
c:close()
