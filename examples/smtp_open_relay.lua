-- smtp_open_relay.lua: is this server an open relay? Without authentication, mail from an
-- outside address to an outside domain must be refused at RCPT (5xx), while mail to a local
-- recipient is accepted. Exit 0 when the server behaves, 1 (with the reply) when it relays.
--
--   parley run examples/smtp_open_relay.lua host=mx.example.net [port=25] \
--       [local_rcpt=postmaster@example.net] [outside=victim@relay-test.invalid]
local smtp = require "parley.smtp"

local s = smtp.connect {
  host = args.host or "127.0.0.1", port = args.port or 25,
  helo = "relay-test.example",
}
local outside = args.outside or "victim@relay-test.invalid"
local senders = { "spammer@relay-test.invalid", "" }   -- an outside sender, and the null sender
for _, from in ipairs(senders) do
  s:mail(from)
  local r = s:rcpt(outside, { expect = { "5xx", "4xx" } })
  print(("MAIL FROM:<%s> RCPT TO:<%s> -> %d %s"):format(from, outside, r.code, r.text))
  s:rset()
end
if args.local_rcpt then
  s:mail("tester@relay-test.invalid")
  local r = s:rcpt(args.local_rcpt)            -- a local recipient must still be accepted
  print(("local recipient %s -> %d %s"):format(args.local_rcpt, r.code, r.text))
  s:rset()
end
s:quit()
print("not an open relay")
