-- Used by tests/integration/send_cli.sh and shell_session.sh: waits (up to args.wait seconds)
-- until alice's INBOX holds a message whose Subject contains args.subject, then prints
-- "found: " and the Subject line. Fails (exit 1) when none arrives.
local parley = require "parley"
local imap = require "parley.imap"
local deadline = parley.clock() + (tonumber(args.wait) or 15)
while true do
  local s = imap.connect { host = args.host, port = tonumber(args.port), tls = "starttls", ca = args.ca }
  s:login(args.user, args.password)
  s:select("INBOX")
  local found = s:search('SUBJECT "' .. args.subject .. '"')
  if #found > 0 then
    local m = s:fetch(found[#found], "BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    local entry = m[found[#found]]
    local text
    for k, v in pairs(entry) do
      if tostring(k):match("^BODY") then text = v end
    end
    print("found: " .. tostring(text):gsub("%s+$", ""))
    s:logout()
    return
  end
  s:logout()
  if parley.clock() > deadline then fail("no message with " .. args.subject .. " in alice's INBOX") end
  sleep(0.3)
end
