-- pop3_login.lua: POP3 USER/PASS, then STAT, LIST, UIDL and the Subject of the newest message.
-- tls=starttls (STLS on port 110, the default), tls=implicit (port 995) or tls=none.
--
--   parley run examples/pop3_login.lua host=mail.example.net user=alice password=... \
--       [port=110] [tls=starttls|implicit|none] [ca=ca.pem] [mech=SCRAM-SHA-256]
local pop3 = require "parley.pop3"
local mime = require "parley.mime"

local tls = args.tls or "starttls"
local p = pop3.connect {
  host = args.host or "127.0.0.1", port = args.port or (tls == "implicit" and 995 or 110),
  tls = tls ~= "none" and tls or false, ca = args.ca, verify = args.verify ~= "false",
}
print("greeting: " .. p.greeting.text .. (p.tls and (" (" .. p.tls.version .. ")") or ""))
if args.mech then
  p:auth(args.mech, args.user or "alice", args.password)
else
  p:login(args.user or "alice", args.password)
end
local count, size = p:stat()
print(("%d messages, %d octets"):format(count, size))
local sizes = p:list()
local uids = p:uidl()
for n = 1, count do print(("  #%d  %6d octets  uid %s"):format(n, sizes[n] or 0, tostring(uids[n]))) end
if count > 0 then
  local headers = mime.parse_headers(p:top(count, 0))
  print("newest: " .. tostring(mime.first(headers, "subject")))
end
p:quit()
