-- smtp_dsn.lua: ask for delivery status notifications (RFC 3461): NOTIFY=SUCCESS,FAILURE on
-- the recipient, RET=HDRS and an ENVID on the sender, ORCPT naming the original recipient.
-- The server must offer DSN in its EHLO reply. The notification arrives in the sender's mailbox
-- ("Successful Mail Delivery Report" from Postfix).
--
--   parley run examples/smtp_dsn.lua host=... user=alice password=... from=alice@example.net \
--       to=bob@example.net [port=587] [ca=ca.pem]
local smtp = require "parley.smtp"

local s = smtp.connect {
  host = args.host or "127.0.0.1", port = args.port or 587, tls = args.tls or "starttls",
  ca = args.ca, verify = args.verify ~= "false", helo = "client.example",
}
if not s.caps.DSN then fail("the server does not offer DSN") end
if args.user then s:auth(nil, args.user, args.password) end

local envid = "parley-" .. os.time()
s:mail(args.from or "alice@example.test", { ret = "HDRS", envid = envid })
s:rcpt(args.to or "bob@example.test", { notify = "SUCCESS,FAILURE", orcpt = true })
local r = s:data { subject = "DSN test " .. envid, body = "Please confirm delivery.\n" }
print(("queued as %s with ENVID %s"):format(tostring(r.queue_id), envid))
s:quit()
