-- IMAP mailbox operations against real Dovecot, and the SMTP calls the other suites do not
-- make (HELO, BDAT, LHLO): each result is checked against what the server then reports.
local smtp = require "parley.smtp"
local imap = require "parley.imap"

local user, pass, domain = args.USER1, args.PASS1, args.DOMAIN
local box = "Parley-" .. os.time() .. "-" .. math.random(100000)

local function session()
  local s = imap.connect { host = args.HOST, port = args.IMAPS_PORT, tls = "implicit", ca = args.CA_FILE }
  s:login(user, pass)
  return s
end

test("HELO, then BDAT chunks make one message", function()
  local s = smtp.connect { host = args.HOST, port = args.SMTP_PORT }
  s:helo("suite.parley.test")
  expect_eq(next(s.caps), nil, "HELO leaves no extensions")
  s:ehlo("suite.parley.test")
  expect_true(s.caps.CHUNKING, "Postfix offers CHUNKING")
  s:mail("bdat@" .. domain)
  s:rcpt(user .. "@" .. domain)
  s:bdat("Subject: " .. box .. " bdat\r\n\r\nfirst chunk, ")
  local r = s:bdat("second chunk\r\n", { last = true })
  expect_eq(r.code, 250)
  s:quit()
end)

test("LHLO over the LMTP socket", function()
  local s = smtp.connect { path = args.LMTP_SOCKET, greeting = 220 }
  s:lhlo("suite.parley.test")
  expect_true(s.lmtp, "the session is an LMTP one")
  s:quit()
end)

test("create, subscribe, append, copy, move, store, expunge, delete", function()
  local s = session()
  local caps = s:capability()
  expect_true(caps.UIDPLUS and caps.MOVE, "Dovecot offers UIDPLUS and MOVE")
  s:enable("CONDSTORE")
  s:create(box)
  s:create(box .. "-2")
  s:subscribe(box)
  local subscribed = s:command({ "LSUB", "", box })
  expect_eq(subscribed.status, "OK")
  s:unsubscribe(box)
  for i = 1, 3 do
    local r = s:append(box, { from = "a@" .. domain, to = "b@" .. domain, subject = box .. " " .. i, body = "n " .. i .. "\n" })
    expect_true(r.appenduid and r.appenduid.uid, "APPENDUID for message " .. i)
  end
  local ro = s:examine(box)
  expect_eq(ro.exists, 3, "EXAMINE sees three messages")
  s:unselect()
  local mb = s:select(box)
  expect_eq(mb.exists, 3)
  local uids = s:uid_search("ALL")
  expect_eq(#uids, 3)
  local copied = s:uid_copy(uids[1], box .. "-2")
  expect_true(copied.copyuid, "COPYUID")
  s:uid_move(uids[2], box .. "-2")
  s:check()
  expect_eq(#s:search("ALL"), 2, "one moved out")
  s:uid_store(uids[3], "+FLAGS", { "\\Deleted" })
  s:uid_expunge(uids[3])
  expect_eq(#s:search("ALL"), 1, "one expunged by UID")
  local status = s:status(box .. "-2", "(MESSAGES)")
  expect_eq(status.MESSAGES, 2, "two in the second box")
  s:close_mailbox()
  s:delete(box)
  s:delete(box .. "-2")
  s:logout()
end)
