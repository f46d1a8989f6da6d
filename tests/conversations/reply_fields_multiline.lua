-- reply_fields_multiline.lua: the fields of a reply. A multi-line SMTP reply with enhanced
-- codes gives code, class, enhanced, text (text after the codes, lines joined by "\n"), lines
-- (one per line, without codes), raw (the bytes as received); an uncoded line is a reply with
-- no code whose text is the whole line; a reply whose enhanced code is of another class has a
-- violation noted; a clean reply has none.
-- exit: 0
-- args: --timeout 5
-- stdout: reply fields ok
-- within: 8

local srv = listen { host = "127.0.0.1", port = 0 }
local server = spawn(function()
  local c = srv:accept()
  c:send_raw("250-mx.test greets client.example\r\n" ..
             "250-SIZE 10240000\r\n" ..
             "250-STARTTLS\r\n" ..
             "250 ENHANCEDSTATUSCODES\r\n")
  c:send_raw("550-5.1.1 <nobody@example.net>: no such user\r\n" ..
             "550 5.1.1 see https://example.net/help\r\n")
  c:send("hello, I am not SMTP")
  c:send("250 5.0.0 odd")
  c:send("354")
  c:read_line()
  c:close()
end)

local c = connect { host = "127.0.0.1", port = srv.port }

local r = c:expect("250")
assert(r.code == 250 and r.class == 2, "code/class")
assert(r.enhanced == nil, "EHLO reply has no enhanced code, got " .. tostring(r.enhanced))
assert(#r.lines == 4, "four lines, got " .. #r.lines)
assert(r.lines[1] == "mx.test greets client.example", "line 1 without code: " .. r.lines[1])
assert(r.lines[4] == "ENHANCEDSTATUSCODES", "line 4: " .. r.lines[4])
assert(r.text == "mx.test greets client.example\nSIZE 10240000\nSTARTTLS\nENHANCEDSTATUSCODES",
  "text joined by newlines: " .. r.text)
assert(r.raw == "250-mx.test greets client.example\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n" ..
  "250 ENHANCEDSTATUSCODES\r\n", "raw is the bytes as received")
assert(r.violations == nil or #r.violations == 0, "a clean reply has no violations")
assert(r.text:find("^mx%.test"), "patterns see the text without the code")

r = c:expect("5xx")
assert(r.code == 550 and r.class == 5, "550")
assert(r.enhanced == "5.1.1", "enhanced 5.1.1, got " .. tostring(r.enhanced))
assert(#r.lines == 2, "two lines")
assert(r.lines[2] == "5.1.1 see https://example.net/help", "line 2 keeps its enhanced code")
assert(r.text == "5.1.1 <nobody@example.net>: no such user\n5.1.1 see https://example.net/help",
  "text: " .. r.text)

r = c:read_reply()
assert(r.code == nil and r.class == nil, "uncoded line has no code")
assert(r.text == "hello, I am not SMTP", "uncoded text is the whole line: " .. tostring(r.text))
assert(#r.lines == 1 and r.lines[1] == r.text, "one line")

r = c:read_reply()
assert(r.code == 250 and r.enhanced == "5.0.0", "odd enhanced code is still parsed")
assert(r.violations and #r.violations >= 1, "a 250 with 5.0.0 must note a violation")
assert(table.concat(r.violations, ";"):find("another class"), "violation says so: " ..
  table.concat(r.violations, ";"))

r = c:read_reply()
assert(r.code == 354 and r.text == "" and #r.lines == 1, "bare code: empty text")

c:send("QUIT")
c:close()
server:join()
print("reply fields ok")
