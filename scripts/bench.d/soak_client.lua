-- scripts/bench-soak: one short SMTP session against `parley serve` (no DATA: the soak measures
-- the engine, not the mailbox store). Args: port, close ("reset", the default: a TCP reset
-- ends the session, as smtp-source does, and leaves no TIME_WAIT socket; "fin": a plain close).
local c = connect("127.0.0.1", args.port)
c:expect(220)
c:send("EHLO soak.test")
c:expect(250)
c:send("MAIL FROM:<soak@example.test>")
c:expect(250)
c:send("RCPT TO:<alice@example.test>")
c:expect(250)
c:send("QUIT")
c:expect(221)
c:close { reset = args.close ~= "fin" }
