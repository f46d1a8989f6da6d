-- mock_lib_clients.lua: the SMTP, POP3 and IMAP mocks on one store, driven by parley's own
-- client libraries: a message submitted over STARTTLS + AUTH PLAIN is read back over POP3
-- (STLS) and IMAP (STARTTLS), flagged, expunged, and appended to.
-- exit: 0
-- args: --timeout 10
-- stdout: smtp, pop3 and imap mocks agree
-- within: 20

local store = require("parley.mock.store").new()
local users = { alice = "secret" }
local function start(proto)
  return require("parley.mock." .. proto).start { tls = "starttls", users = users, store = store }
end
local msmtp, mpop, mimap = start("smtp"), start("pop3"), start("imap")

local smtp = require "parley.smtp"
local s = smtp.connect { port = msmtp.port, tls = "starttls", ca_pem = msmtp.cert_pem }
assert(s.caps.AUTH and s.caps.AUTH.PLAIN, "AUTH PLAIN is offered under TLS")
s:auth("PLAIN", "alice", secret("secret"))
s:mail("bob@example.org")
s:rcpt("alice@example.net")
s:rcpt("Alice@Other.Example")
s:rcpt("nobody@example.net", { expect = 550 })
s:data { from = "bob@example.org", to = "alice@example.net", subject = "hello",
         body = "first line\n.starts with a dot\nlast line\n" }
s:quit()
assert(store:count("alice") == 1, "one copy for alice, however many of her addresses")
local text = store:messages("alice")[1].text
assert(text:find("\r\n%.starts with a dot\r\n"), "the mock un-stuffs the dot: " .. text)

local pop3 = require "parley.pop3"
local p = pop3.connect { port = mpop.port, tls = "starttls", ca_pem = mpop.cert_pem }
p:login("alice", secret("secret"))
local count, size = p:stat()
assert(count == 1 and size == #text, ("stat: %s %s"):format(count, size))
local got = p:retr(1)
assert(got:find(".starts with a dot", 1, true) and not got:find("..starts", 1, true), got)
p:quit()

local imap = require "parley.imap"
local i = imap.connect { port = mimap.port, tls = "starttls", ca_pem = mimap.cert_pem }
i:login("alice", secret("secret"))
local box = i:select("INBOX")
assert(box.exists == 1, "one message in INBOX")
local f = i:fetch("1", "(UID FLAGS RFC822.SIZE BODY.PEEK[])")
assert(f[1].UID == 1 and f[1]["RFC822.SIZE"] == #text, "fetch fields")
assert(f[1]["BODY[]"] == text, "the body fetched is the body received")
local uids = i:uid_search("ALL")
assert(#uids == 1 and uids[1] == 1, "uid search")
i:append("INBOX", "Subject: appended\r\n\r\nhi\r\n")
i:store("1", "+FLAGS", "\\Deleted")
i:expunge()
assert(store:count("alice") == 1 and store:messages("alice")[1].uid == 2,
  "the expunged message left the store; the appended one is there")
i:logout()

for _, m in ipairs { msmtp, mpop, mimap } do
  assert(#m.errors == 0, table.concat(m.errors, "\n"))
  m:stop()
end
print("smtp, pop3 and imap mocks agree")
