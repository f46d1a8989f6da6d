-- smtp_submit.lua: submit a message on port 587 with STARTTLS and AUTH, the way a mail client
-- does. Any SASL mechanism parley speaks: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256
-- (SCRAM also checks that the server knows the password), or none named for the strongest.
--
--   parley run examples/smtp_submit.lua host=mail.example.net user=alice password=... \
--       from=alice@example.net to=bob@example.net[,carol@example.net] [port=587] [mech=PLAIN] [ca=ca.pem]
--       [tls=starttls|implicit|none] [verify=false]
--
-- With tls=none and no user, it is a plain SMTP delivery without AUTH (port 25 style).
local smtp = require "parley.smtp"

local tls = args.tls or "starttls"
local s = smtp.connect {
  host = args.host or "127.0.0.1",
  port = args.port or (tls == "implicit" and 465 or 587),
  tls = tls,
  ca = args.ca, verify = args.verify ~= "false",
  helo = args.helo or "client.example",
}
if s.tls then
  print(("TLS %s %s, certificate %s"):format(s.tls.version, s.tls.cipher, s.tls.cert and s.tls.cert.subject or "?"))
end
if args.user then
  local mech = args.mech and args.mech:upper() or nil
  s:auth(mech, args.user, args.password)
  print("authenticated as " .. args.user)
end

local to = {}
for addr in (args.to or "bob@example.test"):gmatch("[^,%s]+") do to[#to + 1] = addr end
local res = s:send_message {
  from = args.from or "alice@example.test",
  to = to,
  message = {
    subject = args.subject or "parley submission test",
    body = "Sent by parley's examples/smtp_submit.lua.\n",
  },
}
print("queued as " .. tostring(res.queue_id))
s:quit()
