-- quickstart.lua: a whole SMTP conversation with STARTTLS, offline.
--
-- The script plays both sides: a small SMTP server (listen + accept, with a certificate made
-- on the fly) runs as a spawned conversation, and the client side talks to it the way you
-- would with `openssl s_client -starttls smtp`. Run it with:
--
--   parley run examples/quickstart.lua        (or: parley demo)
--
-- Add -v to see the server's side of the conversation too.

local srv = listen { host = "127.0.0.1", port = 0, tls = "starttls" }

-- The server: one client, one message.
local server = spawn(function()
  local c = srv:accept()
  c:send("220 localhost ESMTP parley quickstart")
  local mail = {}
  while true do
    local line = c:read_line()
    if not line then return mail end
    local verb = line:match("^(%a+)") or ""
    verb = verb:upper()
    if verb == "EHLO" then
      c:send("250-localhost greets you")
      if not c.tls then c:send("250-STARTTLS") end
      c:send("250-SIZE 10240000")
      c:send("250 8BITMIME")
    elseif verb == "STARTTLS" then
      c:send("220 2.0.0 ready to start TLS")
      c:starttls {}
    elseif verb == "MAIL" then
      mail.from = line:match("<(.-)>")
      c:send("250 2.1.0 sender ok")
    elseif verb == "RCPT" then
      mail.to = line:match("<(.-)>")
      c:send("250 2.1.5 recipient ok")
    elseif verb == "DATA" then
      c:send("354 end data with <CR><LF>.<CR><LF>")
      local body = {}
      for data in function() return c:read_line() end do
        if data == "." then break end
        body[#body + 1] = data
      end
      mail.body = table.concat(body, "\n")
      c:send("250 2.0.0 Ok: queued as QUICK1")
    elseif verb == "QUIT" then
      c:send("221 2.0.0 bye")
      c:close()
      return mail
    else
      c:send("502 5.5.2 command not recognized")
    end
  end
end)

-- The client: what you would type into telnet, with checks.
local c = connect { host = "127.0.0.1", port = srv.port }
c:expect(220)
c:send("EHLO client.example")
local r = c:expect("2xx")
assert(r.text:find("STARTTLS"), "the server should offer STARTTLS")
c:send("STARTTLS")
c:expect(220)
-- Trust the listener's own certificate, so the check passes without verify=false.
c:starttls { ca_pem = srv.cert_pem }
print(("TLS: %s %s, certificate %s, verified: %s"):format(
  c.tls.version, c.tls.cipher, c.tls.cert.subject, tostring(c.tls.verified)))
c:send("EHLO client.example")
c:expect("250")
c:send("MAIL FROM:<alice@example.net>")
c:expect("2xx")
c:send("RCPT TO:<bob@example.net>")
c:expect {
  { "25x", function(reply) return reply end },
  { "5xx", function(reply) fail("recipient refused: " .. reply.text) end },
}
c:send("DATA")
c:expect(354)
c:send("Subject: hello from parley")
c:send("")
c:send("It works.")
c:send(".")
local queued = c:expect("^2%.0%.0 Ok: queued as (%w+)")
print("queued as " .. queued.text:match("queued as (%w+)"))
c:send("QUIT")
c:expect(221)
c:close()

local mail = server:join()
assert(mail.from == "alice@example.net" and mail.to == "bob@example.net")
print(("the server received a message from %s to %s (%d bytes)"):format(mail.from, mail.to, #mail.body))
