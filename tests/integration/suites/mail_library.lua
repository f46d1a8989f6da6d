-- The protocol library against real Postfix and Dovecot, as a parley test suite: mail sent
-- with every SASL mechanism the submission service offers is read back over IMAP and POP3;
-- the refusals a well-run server makes (relay, AUTH in the clear, oversize) come as expected.
local smtp = require "parley.smtp"
local imap = require "parley.imap"
local pop3 = require "parley.pop3"
local mime = require "parley.mime"

local user, pass, domain = args.USER1, args.PASS1, args.DOMAIN
local token = "suite-" .. os.time() .. "-" .. math.random(1000000)
local sent = {}

local function submission()
  return smtp.connect { host = args.HOST, port = args.SUBMISSION_PORT, tls = "starttls",
                        ca = args.CA_FILE, helo = "suite.parley.test" }
end

test("every SASL mechanism offered on submission logs in and sends", function()
  local probe = submission()
  local mechs = {}
  for m in pairs(probe.caps.AUTH) do mechs[#mechs + 1] = m end
  probe:quit()
  table.sort(mechs)
  expect_true(#mechs >= 4, "the fixture offers PLAIN LOGIN CRAM-MD5 SCRAM-*")
  capture("mechanisms", table.concat(mechs, " "))
  for _, mech in ipairs(mechs) do
    local s = submission()
    s:auth(mech, user, pass)
    local subject = token .. " " .. mech
    local res = s:send_message { from = user .. "@" .. domain, to = user .. "@" .. domain,
                                 message = { subject = subject, body = "sent with " .. mech .. "\n.dot line\n" } }
    expect_match(res.queue_id or "", "^%w+$", "a queue id for " .. mech)
    sent[#sent + 1] = subject
    s:quit()
  end
end)

test("over implicit TLS (smtps) too", function()
  local s = smtp.connect { host = args.HOST, port = args.SMTPS_PORT, tls = "implicit",
                           ca = args.CA_FILE, helo = "suite.parley.test" }
  expect_true(s.conn.tls.verified, "verified against the fixture CA")
  s:auth("PLAIN", user, pass)
  local subject = token .. " smtps"
  s:send_message { from = user .. "@" .. domain, to = user .. "@" .. domain,
                   message = { subject = subject, body = "over 465\n.dot line\n" } }
  sent[#sent + 1] = subject
  s:quit()
end)

local function wait_for_delivery(count_fn, want)
  for _ = 1, 50 do
    if count_fn() >= want then return end
    sleep(0.1)
  end
  fail("only " .. count_fn() .. " of " .. want .. " messages arrived within 5 s")
end

test("the messages read back over IMAP, dot lines intact", function()
  local s = imap.connect { host = args.HOST, port = args.IMAP_PORT, tls = "starttls", ca = args.CA_FILE }
  s:login(user, pass)
  s:select("INBOX")
  local found
  wait_for_delivery(function()
    s:noop()
    found = s:search { "SUBJECT", token }
    return #found
  end, #sent)
  local msgs = s:fetch(found, "(UID BODY.PEEK[])")
  for _, n in ipairs(found) do
    local headers, body = mime.parse_headers(msgs[n]["BODY[]"])
    expect_match(headers.subject, "^" .. token:gsub("%-", "%%-"))
    expect_match(body, "\r?\n?%.dot line", "dot-stuffing undone by the server")
  end
  s:logout()
end)

test("and over POP3 (STLS, SCRAM-SHA-256)", function()
  local s = pop3.connect { host = args.HOST, port = args.POP3_PORT, tls = "starttls", ca = args.CA_FILE }
  s:auth("SCRAM-SHA-256", user, pass)
  local count = s:stat()
  expect_true(count >= #sent, "at least the messages this suite sent")
  local seen = 0
  local _, order = s:list()
  for _, n in ipairs(order) do
    if s:retr(n):find(token, 1, true) then seen = seen + 1 end
  end
  expect_eq(seen, #sent, "messages of this suite found by RETR")
  s:quit()
end)

test("relaying for an unauthenticated client is refused with 5.7.1", function()
  local s = smtp.connect { host = args.HOST, port = args.SMTP_PORT, helo = "suite.parley.test" }
  s:mail("probe@suite.parley.test")
  local r = s:rcpt("victim@elsewhere.test", { expect = "5xx" })
  expect_eq(r.enhanced, "5.7.1")
  s:quit()
end)

test("AUTH before STARTTLS is refused on submission", function()
  local s = smtp.connect { host = args.HOST, port = args.SUBMISSION_PORT, helo = "suite.parley.test" }
  expect_eq(s.caps.AUTH, nil, "AUTH not offered in the clear")
  local r = s:command("AUTH PLAIN " .. require("parley.crypto").b64encode("\0x\0y"), "5xx")
  expect_eq(r.code, 530)
  s:quit()
end)

test("a message over the size limit is refused with 552", function()
  local s = submission()
  s:auth("PLAIN", user, pass)
  local limit = tonumber(s.caps.SIZE)
  capture("limit", limit)
  s:mail(user .. "@" .. domain)
  s:rcpt(user .. "@" .. domain)
  local big = mime.build { from = user .. "@" .. domain, to = user .. "@" .. domain,
                           subject = "too big", body = string.rep("0123456789abcdef\n", limit // 17 + 1000) }
  local r = s:data(big, { expect = "5xx" })
  expect_eq(r.code, 552, "the DATA of " .. #big .. " bytes against SIZE " .. limit)
  s:quit()
end)

test("LMTP gives one reply per recipient", function()
  local s = smtp.connect { path = args.LMTP_SOCKET, lmtp = true, helo = "suite.parley.test" }
  s:mail(user .. "@" .. domain)
  s:rcpt(user .. "@" .. domain)
  s:rcpt(args.USER2 .. "@" .. domain)
  local replies = s:data({ subject = token .. " lmtp", body = "two recipients\n" })
  expect_eq(#replies, 2, "a reply for each accepted recipient")
  s:quit()
end)
