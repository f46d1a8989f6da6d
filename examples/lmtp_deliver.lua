-- lmtp_deliver.lua: deliver straight into mailboxes over LMTP (RFC 2033), as an MTA hands mail
-- to Dovecot. LMTP answers once per recipient after the message; each reply is printed.
--
--   parley run examples/lmtp_deliver.lua path=/run/dovecot/lmtp to=alice@example.net,bob@example.net
--   parley run examples/lmtp_deliver.lua host=127.0.0.1 port=24 to=alice@example.net
local smtp = require "parley.smtp"

local s = smtp.connect { path = args.path, host = args.host, port = args.port or (not args.path and 24 or nil),
                         lmtp = true, helo = "client.example" }
local rcpts = {}
for a in (args.to or "alice@example.test"):gmatch("[^,%s]+") do rcpts[#rcpts + 1] = a end
s:mail(args.from or "sender@example.test")
local accepted = 0
for _, addr in ipairs(rcpts) do
  local r = s:rcpt(addr, { expect = { "2xx", "5xx" } })   -- an unknown user is reported, not fatal
  if r.code // 100 == 2 then accepted = accepted + 1 else print(("%s: refused at RCPT: %d %s"):format(addr, r.code, r.text)) end
end
if accepted == 0 then fail("every recipient was refused") end
local replies = s:data { subject = "via LMTP", body = "delivered by parley over LMTP\n" }
for _, r in ipairs(replies) do print(("%s: %d %s"):format(r.rcpt, r.code, r.text)) end
s:quit()
