-- mock_imap_search_2047.lua: the IMAP mock's SEARCH matches RFC 2047 encoded header fields by
-- their decoded text (B and Q, UTF-8 and ISO-8859-1, adjacent words joined), and leaves what
-- is not an encoded word alone.
-- exit: 0
-- args: --timeout 5
-- stdout: search 2047 ok
-- within: 10
local store = require("parley.mock.store").new()
local imap = require "parley.mock.imap"
store:deliver("alice", "Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n\r\n1\r\n")      -- Grüße aus Köln
store:deliver("alice", "Subject: =?iso-8859-1?Q?Caf=E9_cr=E8me?= =?utf-8?q?_und_mehr?=\r\n\r\n2\r\n")
store:deliver("alice", "Subject: plain =?x?Z?junk?= text\r\nFrom: =?utf-8?Q?J=C3=B6rg?= <j@x>\r\n\r\n3\r\n")
local m = imap.start { users = { alice = "pw" }, store = store }
local c = connect { port = m.port, framing = "imap" }
c:expect("^%* OK")
local function run(tag, line)
  c:send(tag .. " " .. line)
  local all = {}
  repeat
    local r = c:read_reply()
    all[#all + 1] = r.raw
  until r.raw:sub(1, #tag + 1) == tag .. " "
  assert(all[#all]:find("^" .. tag .. " OK"), all[#all])
  return table.concat(all)
end
run("a", "LOGIN alice pw")
run("b", "SELECT INBOX")
local function search(key, want)
  local got = run("s", "SEARCH CHARSET UTF-8 " .. key):match("%* SEARCH([^\r]*)")
  assert(got == want, key .. ": got [" .. tostring(got) .. "], wanted [" .. want .. "]")
end
search('SUBJECT "aus Köln"', " 1")
search('SUBJECT "Grüße"', " 1")
search('SUBJECT "café crème und mehr"', " 2")
search('SUBJECT "junk?= text"', " 3")
search('FROM "jörg"', " 3")
search('HEADER Subject "R3LDvMOf"', "")
c:send("z LOGOUT")
print("search 2047 ok")
