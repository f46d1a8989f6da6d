-- scripts/bench (1): one SMTP transaction the way Postfix's smtp-source makes them (HELO, MAIL,
-- RCPT, DATA with From/To/Date/Message-Id headers and `size` bytes of body in 80-column
-- lines, QUIT, and a close with a TCP reset), for parley load against smtp-sink.
-- Args: port, size (body bytes, as smtp-source -l).
local n = ...
-- Built once per engine (globals: the conversations of a thread share them), in two halves
-- around the Message-Id number.
local head, tail = bench_head, bench_tail
if not head then
  local size = tonumber(args.size or 1024)
  local lines = {}
  local body = "1" .. string.rep("X", size - 1)
  for i = 1, #body, 80 do lines[#lines + 1] = body:sub(i, i + 79) end
  head = "From: <a@localhost>\r\nTo: <b@localhost>\r\n" ..
    "Date: " .. os.date("!%a, %d %b %Y %H:%M:%S +0000 (UTC)") .. "\r\nMessage-Id: <"
  tail = ".parley@localhost>\r\n\r\n" .. table.concat(lines, "\r\n") .. "\r\n.\r\n"
  bench_head, bench_tail = head, tail
end
local c = connect("127.0.0.1", args.port)
c:expect(220)
c:send("HELO localhost")
c:expect(250)
c:send("MAIL FROM:<a@localhost>")
c:expect(250)
c:send("RCPT TO:<b@localhost>")
c:expect(250)
c:send("DATA")
c:expect(354)
c:send_raw(head .. n .. tail)
c:expect(250)
c:send("QUIT")
c:expect(221)
c:close { reset = true } -- as smtp-source does (SO_LINGER 0): no FIN exchange after the 221
