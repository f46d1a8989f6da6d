-- load_delivery_latency.lua: end-to-end delivery latency under load. Each conversation logs in
-- over IMAP and selects the INBOX, submits a message over SMTP (587, STARTTLS, AUTH: the step
-- `submit`), then waits in IMAP IDLE until that very message is in the INBOX (the step
-- `delivered`: from the server's 250 after DATA to the message being there), and removes it.
-- The report's `delivered` row is the delivery latency: queue, delivery agent, index.
--
--   parley load -c 5 -n 100 --html delivery.html examples/load_delivery_latency.lua \
--       host=mail.example.net user=alice password=... [to=alice@example.net] \
--       [smtp_port=587] [imap_port=143] [ca=ca.pem] [wait=30] [slo=5s]
--
-- `parley run` runs one conversation (steps just run), to try it out with a transcript.
-- The script's own threshold: 95 % of messages delivered within `slo` (5 s).
local smtp = require "parley.smtp"
local imap = require "parley.imap"
local load = require "parley.load"
local crypto = require "parley.crypto"
local parley = require "parley"

load.thresholds { "p95(step=delivered)<" .. (args.slo or "5s") }

local n = ...
local host, user = args.host or "127.0.0.1", args.user or "alice"
local to = args.to or (user .. "@example.test")
local verify = args.verify ~= "false"
local wait = tonumber(args.wait or 30)
local token = ("delivery-%s-%s"):format(n or 1, crypto.hex(crypto.unique(6)))

-- IMAP first, so that the message cannot arrive unseen.
local s = imap.connect { host = host, port = args.imap_port or 143, tls = "starttls",
                         ca = args.ca, verify = verify }
s:login(user, args.password)
s:select("INBOX")

step("submit", function()
  local m = smtp.connect { host = host, port = args.smtp_port or 587, tls = "starttls",
                           ca = args.ca, verify = verify, helo = "load.example" }
  m:auth(nil, user, args.password)
  m:send_message { from = args.from or to, to = to,
                   message = { subject = token, body = "parley delivery latency " .. token .. "\n" } }
  m:quit()
end)

-- Other conversations' messages wake the IDLE too: each wake-up searches for ours. A message
-- that arrived while SEARCH ran is announced in its answer (s.mailbox.exists moved): search
-- again at once rather than idle. IDLE is renewed every 2 s in case an announcement was missed.
local uid = step("delivered", function()
  local deadline = parley.clock() + wait
  while true do
    local before = s.mailbox.exists
    local found = s:uid_search { "HEADER", "Subject", token }
    if #found > 0 then return found[1] end
    local left = deadline - parley.clock()
    if left <= 0 then fail(("message %s not in the INBOX after %g s"):format(token, wait)) end
    if s.mailbox.exists == before then
      s:idle(math.min(left, 2), { ["until"] = function(r) return r.type == "EXISTS" end })
    end
  end
end)

-- Keep the INBOX small: this message alone goes (UIDPLUS), not the other conversations'.
s:uid_store(tostring(uid), "+FLAGS", { "\\Deleted" })
s:uid_expunge(tostring(uid))
s:quit()
