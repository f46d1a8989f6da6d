-- submit_idle_fetch.lua: the whole round trip. Log in over IMAP and IDLE on the INBOX; meanwhile
-- submit a message over SMTP (587, STARTTLS, AUTH); the IDLE wakes up with the new message;
-- fetch it and check its Subject. Fails (exit 1) when the message does not arrive in time.
--
--   parley run examples/submit_idle_fetch.lua host=mail.example.net user=alice password=... \
--       [to=alice@example.net] [smtp_port=587] [imap_port=143] [ca=ca.pem] [wait=30]
local smtp = require "parley.smtp"
local imap = require "parley.imap"
local mime = require "parley.mime"

local host, user = args.host or "127.0.0.1", args.user or "alice"
local tls = { ca = args.ca, verify = args.verify ~= "false" }
local token = "parley-" .. os.time() .. "-" .. math.random(100000, 999999)
local wait = tonumber(args.wait or 30)

-- IMAP first, so that nothing is missed.
local s = imap.connect { host = host, port = args.imap_port or 143, tls = "starttls",
                         ca = tls.ca, verify = tls.verify }
s:login(user, args.password)
local box = s:select("INBOX")
local before = box.exists
print(("INBOX has %d messages; idling"):format(before))

-- The submission runs as a concurrent conversation.
local sender = spawn(function()
  sleep(0.2)
  local m = smtp.connect { host = host, port = args.smtp_port or 587, tls = "starttls",
                           ca = tls.ca, verify = tls.verify, helo = "client.example" }
  m:auth(nil, user, args.password)
  local res = m:send_message { from = args.from or args.to or (user .. "@example.test"),
                               to = args.to or (user .. "@example.test"),
                               message = { subject = "round trip " .. token, body = "token " .. token .. "\n" } }
  m:quit()
  return res.queue_id
end)

local news, _, woke = s:idle(wait, { ["until"] = function(r) return r.type == "EXISTS" and r.number > before end })
local queued = sender:join()
print("submitted, queued as " .. tostring(queued))
-- IDLE must wake on the news: a server that only reports new mail when IDLE ends (or at the
-- next command) would pass a check of the count alone after waiting the whole time.
if woke ~= "news" then
  fail(("IDLE did not wake on the new message within %d s (it ended: %s; %d responses came)")
    :format(wait, tostring(woke), #news))
end
if s.mailbox.exists <= before then
  fail(("no new message within %d s (IDLE saw %d responses)"):format(wait, #news))
end
local n = s.mailbox.exists
local m = s:fetch(n, "(UID BODY.PEEK[HEADER])")[n]
local headers = mime.parse_headers(m["BODY[HEADER]"])
print(("message %d (UID %d): Subject: %s"):format(n, m.UID, headers.subject))
if headers.subject ~= "round trip " .. token then
  fail("the newest message is not ours: Subject " .. tostring(headers.subject))
end
s:quit()
print("round trip ok")
