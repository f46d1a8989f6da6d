-- smtp_commands.lua: the small commands: NOOP, RSET, VRFY, EXPN, HELP. Servers differ (VRFY
-- often answers 252 or is disabled with 502); this script prints what each one says instead of
-- insisting on one answer, and fails only on a reply outside what RFC 5321 allows.
--
--   parley run examples/smtp_commands.lua host=mail.example.net [port=25] [user=postmaster]
local smtp = require "parley.smtp"
local codes = require "parley.codes"

local s = smtp.connect { host = args.host or "127.0.0.1", port = args.port or 25, helo = "client.example" }
print("greeting: " .. s.greeting.text)
print("extensions: " .. table.concat(s.caps_list, ", "))

local function show(label, r)
  print(("%-14s %d %s  (%s)"):format(label, r.code, r.text, codes.describe(r.code)))
end

show("NOOP", s:noop())
show("RSET", s:rset())
local who = args.user or "postmaster"
show("VRFY " .. who, s:vrfy(who, { expect = { "2xx", "5xx" } }))
show("EXPN " .. who, s:expn(who, { expect = { "2xx", "5xx" } }))
show("HELP", s:help({ expect = { "2xx", "5xx" } }))
show("QUIT", s:quit())
