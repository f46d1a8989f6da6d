-- scripts/bench (2): the same transaction with the protocol library (parley.smtp).
local smtp = require "parley.smtp"
local s = smtp.connect { host = args.host or "127.0.0.1", port = args.port,
  tls = args.tls == "1" and "starttls" or false, ca = args.ca, verify = args.ca ~= nil,
  sni = "localhost", helo = "bench.parley" }
s:mail(args.from)
s:rcpt(args.to)
s:data { from = args.from, to = args.to, subject = "parley bench", body = "one transaction\n" }
s:quit()
