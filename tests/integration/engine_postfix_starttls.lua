-- The engine alone (no protocol library) against real Postfix: greeting, EHLO, STARTTLS with
-- the fixture's CA, certificate facts, EHLO again under TLS.
-- exit: 0
-- args: --timeout 10
-- stdout: verified by the fixture CA
-- stderr: <~ 250
local c = connect { host = args.HOST, port = args.SMTP_PORT }
c:expect(220)
c:send("EHLO parley.test")
local r = c:expect("250")
assert(r.text:find("STARTTLS"), "Postfix offers STARTTLS on the MX port")
assert(#r.lines > 3, "a multi-line EHLO reply")
c:send("STARTTLS")
c:expect(220)
c:starttls { ca = args.CA_FILE }
local tls = c.tls
assert(tls.verified, "verified against CA_FILE")
assert(tls.version:match("^TLSv1%.[23]$"), tls.version)
local ip_san = false
for _, san in ipairs(tls.cert.sans) do ip_san = ip_san or san == "IP:127.0.0.1" end
assert(ip_san, "the fixture certificate names 127.0.0.1")
assert(tls.cert.sha256:match("^%x%x:"), tls.cert.sha256)
c:send("EHLO parley.test")
local again = c:expect("250")
assert(not again.text:find("STARTTLS"), "STARTTLS is not offered twice")
c:send("QUIT")
c:expect(221)
c:close()
print("STARTTLS with Postfix: " .. tls.version .. ", verified by the fixture CA")
