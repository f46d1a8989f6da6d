-- check_vrfy_lists_users.lua: "VRFY and EXPN do not confirm users" compares a known user with
-- an unknown one. A server that answers 252 for postmaster and 550 5.1.1 for anyone else (as
-- Postfix does by default) lists its users: the check must fail and say so. A server that
-- answers both the same way (502) passes.
-- args: --timeout 60
-- stdout: leaky: exit 1
-- stdout: tells users apart: VRFY postmaster answered 252 2.1.5 but VRFY parley-nosuchuser
-- stdout: same answers: exit 0
-- within: 50
local servers = require "servers"

local function vrfy(leaky)
  return function(line, c)
    local who = line:match("^%a+%s+(.*)$") or ""
    if leaky and who == "postmaster" then
      c:send("252 2.1.5 <postmaster@mx.test>")
    elseif leaky then
      c:send("550 5.1.1 <" .. who .. ">: Recipient address rejected: User unknown")
    else
      c:send("502 5.5.1 VRFY command is disabled")
    end
  end
end

for _, case in ipairs { { "leaky", true, 1 }, { "same answers", false, 0 } } do
  local srv = servers.smtp({ VRFY = vrfy(case[2]), EXPN = vrfy(case[2]) }, { "STARTTLS" })
  local out, status = servers.parley_test({ "--timeout", "10", "--filter", "VRFY",
    servers.checks .. "/smtp.lua", "host=127.0.0.1", "smtp_port=" .. srv.port })
  io.stderr:write(out)
  print(case[1] .. ": exit " .. status)
  assert(status == case[3], case[1] .. ": exit " .. status .. "\n" .. out)
  if case[2] then
    local line = out:match("(tells users apart:[^\n]*)")
    assert(line, "the failure names the difference:\n" .. out)
    print(line)
  end
  srv:close()
end
