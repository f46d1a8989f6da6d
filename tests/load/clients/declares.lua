-- One SMTP transaction (as txn.lua) whose script declares the thresholds given as
-- th=EXPR[;EXPR...] with load.thresholds.
local load = require "parley.load"
local list = {}
for expr in (args.th or ""):gmatch("[^;]+") do list[#list + 1] = expr end
load.thresholds(list)
local n = ...
local c = step("connect", connect, "127.0.0.1", args.port)
step("greeting", function() c:expect(220) end)
step("rcpt", function()
  c:send("EHLO load.test"); c:expect(250)
  c:send("MAIL FROM:<load@test.example>"); c:expect(250)
  c:send("RCPT TO:<r" .. n .. "@test.example>"); c:expect(250)
end)
c:send("QUIT"); c:expect(221)
c:close()
