-- Secrets in a message, against the real Postfix and Dovecot: a message whose subject and body
-- are built from secrets (secret() and the fixture's password, an args value named PASS1) is
-- submitted, then read back over IMAP, searched for by the secret, and compared byte for byte
-- with what the script built; the transcript (file and stderr) shows **** instead.
-- exit: 0
-- args: -v --timeout 15 --transcript /tmp/parley-integration-secret_message.txt
-- params: tfile=/tmp/parley-integration-secret_message.txt
-- stdout: message intact over Postfix and Dovecot, transcript masked
-- stderr-not: SecretSubject-
-- within: 60

local parley = require "parley"
local smtp = require "parley.smtp"
local imap = require "parley.imap"
local mime = require "parley.mime"

local user, domain = args.USER1, args.DOMAIN
local token = secret(("SecretSubject-%d-%d"):format(os.time(), math.random(1000000)))
assert(type(token) == "string" and parley.is_secret(args.PASS1), "plain strings, registered")
local addr = user .. "@" .. domain
local built = mime.build { from = addr, to = addr, subject = "sec " .. token,
  body = "x " .. token .. "\nlength " .. #token .. ", upper " .. token:upper() .. "\n" }

local s = smtp.connect { host = args.HOST, port = args.SUBMISSION_PORT, tls = "starttls",
                         ca = args.CA_FILE, helo = "secrets.parley.test" }
s:auth("PLAIN", user, args.PASS1)
s:mail(addr)
s:rcpt(addr)
s:data(built)
s:quit()

local i = imap.connect { host = args.HOST, port = args.IMAP_PORT, tls = "starttls", ca = args.CA_FILE }
i:login(user, args.PASS1)
i:select("INBOX")
local found = {}
for _ = 1, 100 do
  found = i:search("SUBJECT " .. token)
  if #found > 0 then break end
  sleep(0.1)
  i:noop()
end
assert(#found == 1, "the message was delivered and found by its secret subject: " .. #found)
local got = i:fetch(found, "(BODY.PEEK[])")[found[1]]["BODY[]"]
i:logout()

local want = built:gsub("\r?\n", "\r\n")
assert(got:sub(-#want) == want,
  "the message arrived as built:\n--- got\n" .. got .. "\n--- built\n" .. want)
assert(got:find("\r\nSubject: sec " .. token .. "\r\n", 1, true), "the subject holds the secret")
assert(not got:find("****", 1, true), "nothing was masked on the way")

local f = assert(io.open(args.tfile, "r"))
local text = f:read("a")
f:close()
os.remove(args.tfile)
assert(text:find(" ~> Subject: sec ****", 1, true), "the transcript masks the subject:\n" .. text)
assert(text:find(" ~> x ****", 1, true), "the transcript masks the body:\n" .. text)
assert(text:find("SEARCH SUBJECT ****", 1, true) or text:find('SEARCH SUBJECT "****"', 1, true),
  "the transcript masks the search:\n" .. text)
for _, v in ipairs { token, args.PASS1 } do
  assert(not text:find(v, 1, true), "a secret leaked into the transcript:\n" .. text)
end
print("message intact over Postfix and Dovecot, transcript masked")
