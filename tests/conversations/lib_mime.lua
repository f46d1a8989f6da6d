-- parley.mime: building messages (CRLF, Date, Message-ID, encoded words, quoted-printable,
-- multipart with base64 attachments) and parsing headers (unfolding, duplicates, body).
-- exit: 0
-- stdout: all mime checks passed
local mime = require "parley.mime"
local crypto = require "parley.crypto"
local function check(cond, msg) if not cond then fail(msg) end end

local text = mime.build { from = "Alice <alice@example.net>", to = { "bob@example.net", "carol@example.net" },
                          subject = "hello", body = "line one\nline two\n", date = 0,
                          headers = { ["X-Test"] = "yes" } }
check(not text:find("[^\r]\n"), "CRLF only")
local h, body = mime.parse_headers(text)
check(h.date == "Thu, 01 Jan 1970 00:00:00 +0000", h.date)
check(h.from == "Alice <alice@example.net>" and h.to == "bob@example.net, carol@example.net", "addresses")
check(h["message-id"]:match("^<%x+%.%d+@example%.net>$"), h["message-id"])
check(h["x-test"] == "yes" and h["mime-version"] == "1.0" and h["content-transfer-encoding"] == "7bit", "headers")
check(body == "line one\r\nline two\r\n", "body")

-- non-ASCII: encoded-word subject, quoted-printable body
text = mime.build { from = "a@example.net", to = "b@example.net", subject = "Grüße aus Köln", body = "Grüße\n" }
h, body = mime.parse_headers(text)
check(h.subject:match("^=%?UTF%-8%?B%?") and mime.decode_words(h.subject) == "Grüße aus Köln", h.subject)
check(h["content-type"] == "text/plain; charset=utf-8" and h["content-transfer-encoding"] == "quoted-printable", "qp")
check(body == "Gr=C3=BC=C3=9Fe\r\n", body)
check(mime.decode_words("=?iso-8859-1?Q?a_b=E9?= =?UTF-8?B?w6k=?=") == "a b\233é", "decode words")

-- attachments
local data = crypto.random(1000)
text = mime.build { from = "a@example.net", to = "b@example.net", subject = "files", body = "see attached\n",
                    attachments = { { name = "r.bin", data = data }, { name = "notes.txt", type = "text/plain", data = "hi" } } }
h, body = mime.parse_headers(text)
local boundary = h["content-type"]:match('^multipart/mixed; boundary="([^"]+)"$')
check(boundary, h["content-type"])
local parts = {}
local pos = 1
while true do
  local s, e = body:find("--" .. boundary, pos, true)
  if not s then break end
  if pos > 1 then parts[#parts + 1] = body:sub(pos, s - 1) end
  pos = e + 3
end
check(#parts == 3, "three parts, got " .. #parts)
check(parts[3]:find("\r\n\r\naGk=\r\n$"), parts[3])
local ph, pb = mime.parse_headers(parts[2])
check(ph["content-disposition"] == 'attachment; filename="r.bin"' and ph["content-transfer-encoding"] == "base64", "part headers")
check(crypto.b64decode(pb) == data, "attachment round trip")
check(body:sub(-(#boundary + 6)) == "--" .. boundary .. "--\r\n", "closing delimiter")

-- parse: folding, duplicates, LF line ends, no body
h, body = mime.parse_headers("Received: from a\n\tby b\nReceived: from c\nSubject: one\n two\n\nbody\n")
check(type(h.received) == "table" and h.received[1] == "from a\tby b" and h.received[2] == "from c", "duplicates")
check(h.subject == "one two" and body == "body\n", "unfolding")
check(mime.first(h, "Received") == "from a\tby b", "first")
h, body = mime.parse_headers("Subject: only\r\n")
check(h.subject == "only" and body == "", "no body")

-- injection and bare CR are refused
local ok, err = pcall(mime.build, { subject = "x\r\nBcc: evil@example.net", body = "" })
check(not ok and err.exit == 2, "header injection")
ok, err = pcall(mime.build, { headers = { ["X-A"] = "a\nb" }, body = "" })
check(not ok and err.exit == 2, "header injection in extra headers")
ok, err = pcall(mime.build, { body = "a\rb" })
check(not ok and err.exit == 2, "bare CR in body")

-- long lines fold; long body lines go quoted-printable
text = mime.build { subject = string.rep("word ", 40), body = string.rep("x", 1200) }
for line in text:gmatch("([^\r\n]*)\r\n") do check(#line <= 998, "line too long") end
h = mime.parse_headers(text)
check(h.subject == string.rep("word ", 39) .. "word", "folded subject unfolds")
print("all mime checks passed")
