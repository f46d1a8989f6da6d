-- imap_login.lua: IMAP LOGIN, SELECT INBOX, the newest message's envelope, LOGOUT.
-- tls=starttls (port 143, the default), tls=implicit (port 993) or tls=none.
--
--   parley run examples/imap_login.lua host=mail.example.net user=alice password=... \
--       [port=143] [tls=starttls|implicit|none] [ca=ca.pem] [mech=SCRAM-SHA-256]
local imap = require "parley.imap"

local tls = args.tls or "starttls"
local s = imap.connect {
  host = args.host or "127.0.0.1", port = args.port or (tls == "implicit" and 993 or 143),
  tls = tls ~= "none" and tls or false, ca = args.ca, verify = args.verify ~= "false",
}
print("capabilities: " .. table.concat(s.caps_list or {}, " "))
if args.mech then
  s:auth(args.mech, args.user or "alice", args.password)
else
  s:login(args.user or "alice", args.password)
end
local box = s:select(args.mailbox or "INBOX")
print(("%s: %d messages, UIDVALIDITY %s, UIDNEXT %s"):format(box.name, box.exists,
  tostring(box.uidvalidity), tostring(box.uidnext)))
if box.exists > 0 then
  local m = s:fetch(box.exists, "(UID FLAGS ENVELOPE)")[box.exists]
  local from = m.ENVELOPE.from and m.ENVELOPE.from[1]
  print(("newest: UID %d, from %s, subject %q, flags %s"):format(m.UID, from and from.address or "?",
    tostring(m.ENVELOPE.subject), table.concat(m.FLAGS, " ")))
end
s:quit()
