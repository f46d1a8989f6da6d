-- mock_imap_mailboxes.lua: the IMAP mock's folders, as a mail program uses them: LIST with
-- SPECIAL-USE Sent/Drafts/Trash, CREATE (nested), LIST patterns (* crosses "/", % does not),
-- STATUS, APPEND to a folder, COPY and MOVE with COPYUID (and their UID forms), RENAME (with
-- the folders below, and of INBOX), DELETE, the refusals (exists, unknown, INBOX), and IDLE
-- on a folder told of what another session appends to it.
-- exit: 0
-- args: --timeout 5
-- stdout: mailboxes ok
-- within: 15
local store = require("parley.mock.store").new()
local imap = require "parley.mock.imap"
for i = 1, 3 do store:deliver("alice", "Subject: m" .. i .. "\r\n\r\nbody " .. i .. "\r\n") end
local m = imap.start { users = { alice = "pw" }, store = store }
local c = connect { port = m.port, framing = "imap" }
local greeting = c:expect("^%* OK")
assert(greeting.text:find("SPECIAL-USE", 1, true) and greeting.text:find(" MOVE", 1, true))

-- Sends a command; returns every response up to its tagged one, which must match `want`.
local n = 0
local function run(line, want)
  n = n + 1
  local tag = "t" .. n
  c:send_raw(tag .. " " .. line .. "\r\n")
  local all = {}
  repeat
    local r = c:read_reply()
    all[#all + 1] = r.raw
  until r.raw:sub(1, #tag + 1) == tag .. " "
  local last = all[#all]
  assert(last:find("^" .. tag .. " " .. (want or "OK")), line .. " -> " .. last)
  return table.concat(all)
end
local function listed(text)
  local names = {}
  for attrs, name in text:gmatch('%* LIST %(([^)]*)%) "/" ([^\r]+)') do
    names[#names + 1] = name .. "=" .. attrs
  end
  return table.concat(names, " ")
end

run("LOGIN alice pw")
assert(listed(run('LIST "" "*"')) ==
  'INBOX=\\HasNoChildren "Drafts"=\\HasNoChildren \\Drafts "Sent"=\\HasNoChildren \\Sent ' ..
  '"Trash"=\\HasNoChildren \\Trash')
run('CREATE "Work/Projects/"')
run('CREATE "Work"', "NO %[ALREADYEXISTS%]") -- made with the level below it
run('CREATE "Work/Archive"')
run('CREATE "inbox"', "NO %[ALREADYEXISTS%]")
run('CREATE "bad*name"', "NO %[CANNOT%]")
assert(listed(run('LIST "" "Work/%"')) == '"Work/Archive"=\\HasNoChildren "Work/Projects"=\\HasNoChildren',
  listed(run('LIST "" "Work/%"')))
assert(listed(run('LIST "" "%"')):find('"Work"=\\HasChildren', 1, true))
assert(not listed(run('LIST "" "%"')):find("Projects", 1, true), "% does not cross /")
assert(listed(run('LIST "Work/" "*"')) == '"Work/Archive"=\\HasNoChildren "Work/Projects"=\\HasNoChildren')
assert(listed(run('LIST (SPECIAL-USE) "" "*"')) ==
  '"Drafts"=\\HasNoChildren \\Drafts "Sent"=\\HasNoChildren \\Sent "Trash"=\\HasNoChildren \\Trash')

-- APPEND to a folder, STATUS of it
local sent = run("APPEND Sent (\\Seen) {21}\r\nSubject: sent\r\n\r\nhi\r\n")
assert(sent:find("APPENDUID %d+ 1%]"), sent)
assert(run("STATUS Sent (MESSAGES UIDNEXT UNSEEN)"):find('%* STATUS "Sent" %(MESSAGES 1 UIDNEXT 2 UNSEEN 0%)'))
run("APPEND Nowhere {1}\r\nx", "NO %[TRYCREATE%]")

-- COPY and MOVE from INBOX
run("SELECT INBOX")
local copied = run("COPY 1:2 Work/Archive")
assert(copied:find("COPYUID %d+ 1,2 1,2%] COPY completed"), copied)
assert(run("STATUS Work/Archive (MESSAGES)"):find("MESSAGES 2"))
run("COPY 1 Nowhere", "NO %[TRYCREATE%]")
local moved = run("MOVE 2 Trash")
assert(moved:find("%* OK %[COPYUID %d+ 2 1%] Moved") and moved:find("%* 2 EXPUNGE"), moved)
assert(store:count("alice") == 2)
moved = run("UID MOVE 3 Trash")
assert(moved:find("%[COPYUID %d+ 3 2%]") and moved:find("%* 2 EXPUNGE"), moved)
assert(run("UID COPY 1 Drafts"):find("%[COPYUID %d+ 1 1%]"))
run("SELECT Trash")
local fetched = run("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert(fetched:find("Subject: m2") and fetched:find("Subject: m3"), fetched)
run("STORE 1 +FLAGS (\\Deleted)")
assert(run("EXPUNGE"):find("%* 1 EXPUNGE"))
assert(run("STATUS Trash (MESSAGES)"):find("MESSAGES 1"))

-- RENAME moves the folders below too; DELETE
run('RENAME "Work" "Job"')
assert(listed(run('LIST "" "Job*"')) ==
  '"Job"=\\HasChildren "Job/Archive"=\\HasNoChildren "Job/Projects"=\\HasNoChildren')
assert(run("STATUS Job/Archive (MESSAGES)"):find("MESSAGES 2"))
run('RENAME "Job" "Sent"', "NO %[ALREADYEXISTS%]")
run('RENAME "Nope" "Other"', "NO %[NONEXISTENT%]")
run('DELETE "Job/Archive"')
run('DELETE "Job/Archive"', "NO %[NONEXISTENT%]")
run('DELETE INBOX', "NO %[CANNOT%]")
assert(not run('LIST "" "*"'):find("Archive"))

-- RENAME INBOX: its messages go to the new folder, INBOX stays, empty
run("UNSELECT")
run("RENAME INBOX Old")
assert(run("STATUS Old (MESSAGES)"):find("MESSAGES 1"))
assert(run("STATUS INBOX (MESSAGES)"):find("MESSAGES 0"))
assert(store:count("alice") == 0)
-- IDLE on a folder hears of what another session appends to it
local d = connect { port = m.port, framing = "imap" }
d:expect("^%* OK")
d:send("i1 LOGIN alice pw")
d:expect("^i1 OK")
d:send("i2 SELECT Drafts")
repeat local r = d:read_reply() until r.raw:find("^i2 ")
d:send("i3 IDLE")
d:expect("^%+")
local t0 = require("parley").clock()
run("APPEND Drafts {20}\r\nSubject: d\r\n\r\nbody\r\n")
d:expect("^%* 2 EXISTS", 2)
assert(require("parley").clock() - t0 < 1, "the IDLE session told within 1 s")
d:send("DONE")
d:expect("^i3 OK")
d:close()
run("LOGOUT")
assert(#m.errors == 0, table.concat(m.errors, "; "))
print("mailboxes ok")
