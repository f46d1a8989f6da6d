-- smtp_implicit_tls.lua: SMTP submission over implicit TLS (port 465, "smtps") with AUTH LOGIN,
-- printing what `openssl s_client` would show about the certificate.
--
--   parley run examples/smtp_implicit_tls.lua host=mail.example.net user=alice password=... \
--       [port=465] [ca=ca.pem] [to=bob@example.net]
local smtp = require "parley.smtp"

local s = smtp.connect {
  host = args.host or "127.0.0.1", port = args.port or 465, tls = "implicit",
  ca = args.ca, verify = args.verify ~= "false", helo = "client.example",
}
local t = s.tls
print(("TLS %s, cipher %s, verified: %s"):format(t.version, t.cipher, tostring(t.verified)))
print(("certificate: %s, issued by %s, valid until %s"):format(t.cert.subject, t.cert.issuer, t.cert.not_after))
print("SANs: " .. table.concat(t.cert.sans, ", "))
print("AUTH mechanisms offered: " .. (s.caps.AUTH and table.concat((function()
  local l = {} for k in pairs(s.caps.AUTH) do l[#l + 1] = k end table.sort(l) return l end)(), " ") or "none"))

s:auth(args.mech or "LOGIN", args.user or "alice", args.password)
if args.to then
  local res = s:send_message { from = args.from or args.user, to = args.to,
                               message = { subject = "over smtps", body = "hello over implicit TLS\n" } }
  print("queued as " .. tostring(res.queue_id))
end
s:quit()
