-- secret_in_message.lua: a message whose subject and body are built from secrets is delivered
-- byte for byte as built (the mock SMTP server stores exactly what was sent), while the
-- transcript, print and the -v server side show ****. The secrets come both ways: an `args`
-- value whose name says token, and secret(); the mock's user password is registered too.
-- exit: 0
-- args: -v --timeout 5 --transcript /tmp/parley-conversation-secret_in_message.txt
-- params: api_token=tok-Zq81-value tfile=/tmp/parley-conversation-secret_in_message.txt
-- stdout: stored: Subject: \*\*\*\*
-- stdout: message intact, transcript masked
-- stderr-not: tok-Zq81-value
-- stderr-not: hunter2-long
-- within: 10

local parley = require "parley"
local mime = require "parley.mime"
local smtp = require "parley.smtp"
local store = require("parley.mock.store").new()
local m = require("parley.mock.smtp").start { users = { alice = "hunter2-long" }, store = store,
  transcript = true }

local token = args.api_token
local note = secret("Nn-77-pass-phrase")
assert(type(token) == "string" and parley.is_secret(token), "args.api_token is a registered string")

local s = smtp.connect { port = m.port }
s:ehlo("client.test")
s:auth("PLAIN", "alice", "hunter2-long")
-- 1. the table form, built by parley.mime: subject and body from the secrets
s:mail("bob@example.org")
s:rcpt("alice@example.net")
s:data { from = "bob@example.org", to = "alice@example.net", subject = token,
         body = "x " .. token .. "\nnote: " .. note .. "\n" }
-- 2. a text the script built itself, sent as is
local built = mime.build { from = "bob@example.org", to = "alice@example.net",
  subject = "re: " .. token, body = ("%s|%s|%d\n"):format(note, token:upper(), #token) }
s:mail("bob@example.org")
s:rcpt("alice@example.net")
s:data(built)
s:quit()
assert(store:wait("alice", 2, 5), "two messages stored")

local first = store:messages("alice")[1].text
assert(first:find("\r\nSubject: tok-Zq81-value\r\n", 1, true), "subject as built:\n" .. first)
assert(first:find("\r\n\r\nx tok-Zq81-value\r\nnote: Nn-77-pass-phrase\r\n", 1, true),
  "body as built:\n" .. first)
assert(not first:find("****", 1, true), "nothing masked in the stored message")
local second = store:messages("alice")[2].text
assert(second == built:gsub("\r?\n", "\r\n"), "byte for byte:\n" .. second .. "\n---\n" .. built)
assert(second:find("Nn-77-pass-phrase|TOK-ZQ81-VALUE|14", 1, true), "body computed from secrets")
print("stored: " .. first:match("Subject: [^\r]*"))

-- the transcript shows what was sent, masked, and never the values
local f = assert(io.open(args.tfile, "r"))
local text = f:read("a")
f:close()
os.remove(args.tfile)
if args.show then io.stdout:write(text) end
assert(text:find(" -> Subject: ****", 1, true), "the client line is masked:\n" .. text)
assert(text:find(" -> x ****", 1, true), "the body line is masked:\n" .. text)
assert(text:find("AUTH PLAIN ****", 1, true), "the AUTH blob is masked:\n" .. text)
for _, v in ipairs { "tok-Zq81-value", "Nn-77-pass-phrase", "hunter2-long" } do
  assert(not text:find(v, 1, true), v .. " leaked into the transcript:\n" .. text)
end
print("message intact, transcript masked")
