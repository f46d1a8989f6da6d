-- smtp_auth_requires_tls.lua: a submission-port policy check. Before STARTTLS the server must
-- not offer AUTH and must refuse AUTH and MAIL; it must offer STARTTLS; after the handshake it
-- must offer AUTH. No credentials are ever sent in the clear: the AUTH probe carries none.
--
--   parley run examples/smtp_auth_requires_tls.lua host=mail.example.net [port=587] [ca=ca.pem]
local smtp = require "parley.smtp"

local s = smtp.connect { host = args.host or "127.0.0.1", port = args.port or 587,
                         ca = args.ca, verify = args.verify ~= "false", helo = "client.example" }
if s.caps.AUTH then fail("AUTH is offered before STARTTLS: " .. table.concat(s.caps_list, ", ")) end
if not s.caps.STARTTLS then fail("STARTTLS is not offered") end
local r = s:command("AUTH PLAIN", { expect = "5xx" })               -- no initial response: no credentials
print("AUTH before STARTTLS: " .. r.code .. " " .. r.text)
r = s:mail("alice@example.test", { expect = "5xx" })
print("MAIL before STARTTLS: " .. r.code .. " " .. r.text)
s:starttls()
if not s.caps.AUTH then fail("AUTH is not offered after STARTTLS either") end
local mechs = {}
for m in pairs(s.caps.AUTH) do mechs[#mechs + 1] = m end
table.sort(mechs)
print("after STARTTLS, AUTH offers: " .. table.concat(mechs, " "))
s:quit()
