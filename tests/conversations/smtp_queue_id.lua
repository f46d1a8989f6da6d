-- smtp_queue_id.lua: smtp.queue_id finds the queue id in the replies that common servers
-- give at the end of DATA, as they word them, and nothing in replies that name none. Then
-- the id reaches r.queue_id through a real DATA.
-- exit: 0
-- args: --timeout 5
-- stdout: 12 servers' queue ids recognised
-- within: 10

local smtp = require "parley.smtp"

-- Reply texts as the servers send them (after the 250 code).
local cases = {
  { "Postfix", "2.0.0 Ok: queued as 4XRqPZ1kDMz9vJx", "4XRqPZ1kDMz9vJx" },
  { "Postfix (short ids)", "2.0.0 Ok: queued as 5E3B61C0A4B", "5E3B61C0A4B" },
  { "Exim", "OK id=1tGvKq-000Ab3-2x", "1tGvKq-000Ab3-2x" },
  { "OpenSMTPD", "2.0.0 78b784e0 Message accepted for delivery", "78b784e0" },
  { "Sendmail", "2.0.0 4B2LkAbC012345 Message accepted for delivery", "4B2LkAbC012345" },
  { "qmail", "ok 1700000000 qp 12345", "12345" },
  { "Exchange", "2.6.0 <a1b2c3d4e5f6@EXCH01.corp.example> [InternalId=12884901889, Hostname=EXCH01.corp.example] Queued mail for delivery",
    "a1b2c3d4e5f6@EXCH01.corp.example" },
  { "Microsoft 365", "2.0.0 OK <DM6PR11MB1234.namprd11.prod.outlook.com> [Hostname=DM6PR11MB1234.namprd11.prod.outlook.com]",
    "DM6PR11MB1234.namprd11.prod.outlook.com" },
  { "Gmail", "2.0.0 OK  1700000000 d9443c01a7336-1e2b3c4d5f6si123456pld.321 - gsmtp",
    "d9443c01a7336-1e2b3c4d5f6si123456pld.321" },
  { "Haraka", "Message Queued (4F3A2B1C-5D6E-4F70-8192-A3B4C5D6E7F8.1)", "4F3A2B1C-5D6E-4F70-8192-A3B4C5D6E7F8.1" },
  { "Courier", "Ok. 00000000000A1B2C.000000005F3B1234.00001234", "00000000000A1B2C.000000005F3B1234.00001234" },
  { "Postfix behind a proxy (second line ignored)", "2.0.0 Ok: queued as ABC123\n2.0.0 more text", "ABC123" },
}
for _, c in ipairs(cases) do
  local got = smtp.queue_id(c[2])
  assert(got == c[3], c[1] .. ": expected " .. c[3] .. ", got " .. tostring(got))
end

-- Replies that name no queue id.
for _, text in ipairs { "2.0.0 Ok", "OK", "", "2.0.0 Message accepted for delivery",
                        "2.1.5 <bob@example.net> ok", "2.0.0 Ok: queued as", string.rep("x", 100000) } do
  assert(smtp.queue_id(text) == nil, "no id in " .. text:sub(1, 60) .. ": " .. tostring(smtp.queue_id(text)))
end
assert(smtp.queue_id(nil) == nil and smtp.queue_id({ text = "OK id=abc-1" }) == "abc-1", "nil and a reply")
print(#cases .. " servers' queue ids recognised")

-- Through a real DATA.
local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = srv:accept()
  c:send("220 mx.test ESMTP")
  c:read_line()             -- EHLO
  c:send("250 mx.test")
  c:read_line()             -- MAIL
  c:send("250 2.1.0 Ok")
  c:read_line()             -- RCPT
  c:send("250 2.1.5 Ok")
  c:read_line()             -- DATA
  c:send("354 go ahead")
  repeat local l = c:read_line() until l == "." or l == nil
  c:send("250 2.0.0 78b784e0 Message accepted for delivery")
  c:read_line()
  c:send("221 bye")
end)
local s = smtp.connect { port = srv.port, helo = "me" }
s:mail("a@example.net")
s:rcpt("b@example.net")
local r = s:data("Subject: x\n\nhi\n")
assert(r.queue_id == "78b784e0", "OpenSMTPD's id through DATA: " .. tostring(r.queue_id))
s:quit()
