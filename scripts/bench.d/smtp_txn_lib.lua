-- scripts/bench (1): the transaction of smtp_txn.lua written as users write load scripts, with
-- the protocol library (parley.smtp): connect, ehlo, mail, rcpt, data, quit; for parley load
-- against smtp-sink. Args: port, size (body bytes, as smtp-source -l).
local smtp = require "parley.smtp"
local n = ...
local body = bench_body
if not body then -- built once per engine (globals are shared by its conversations)
  local size = tonumber(args.size or 1024)
  local lines = {}
  local text = "1" .. string.rep("X", size - 1)
  for i = 1, #text, 80 do lines[#lines + 1] = text:sub(i, i + 79) end
  body = "From: <a@localhost>\r\nTo: <b@localhost>\r\n" ..
    "Date: " .. os.date("!%a, %d %b %Y %H:%M:%S +0000 (UTC)") .. "\r\n"
  bench_body, bench_tail = body, "\r\n" .. table.concat(lines, "\r\n") .. "\r\n"
end
local s = smtp.connect { host = "127.0.0.1", port = args.port }
s:ehlo("localhost")
s:mail("a@localhost")
s:rcpt("b@localhost")
s:data(body .. "Message-Id: <" .. n .. ".parley@localhost>\r\n" .. bench_tail)
s:quit()
