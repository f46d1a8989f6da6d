-- scripts/bench (2): one whole SMTP transaction, as a process: EHLO, (STARTTLS, EHLO,) MAIL,
-- RCPT, DATA, QUIT, with expect/send. Args: host, port, from, to, tls=1, ca=FILE.
local c = connect(args.host or "127.0.0.1", args.port)
c:expect(220)
c:send("EHLO bench.parley")
c:expect(250)
if args.tls == "1" then
  c:send("STARTTLS")
  c:expect(220)
  c:starttls { ca = args.ca, verify = args.ca ~= nil, sni = "localhost" }
  c:send("EHLO bench.parley")
  c:expect(250)
end
c:send("MAIL FROM:<" .. args.from .. ">")
c:expect(250)
c:send("RCPT TO:<" .. args.to .. ">")
c:expect(250)
c:send("DATA")
c:expect(354)
c:send_raw("From: <" .. args.from .. ">\r\nTo: <" .. args.to .. ">\r\nSubject: parley bench\r\n\r\n" ..
  "one transaction\r\n.\r\n")
c:expect(250)
c:send("QUIT")
c:expect(221)
c:close()
