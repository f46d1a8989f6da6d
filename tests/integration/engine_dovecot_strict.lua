-- Dovecot IMAP with the default SMTP framing: an untagged greeting is a reply without a code,
-- matched by pattern. The strict listener refuses LOGIN before STARTTLS.
-- exit: 0
-- args: --timeout 10
-- stdout: LOGINDISABLED before STARTTLS
local c = connect { host = args.STRICT_HOST, port = args.IMAP_STRICT_PORT }
local greeting = c:expect("^%* OK")
assert(greeting.code == nil)
c:send("a1 CAPABILITY")
local caps = c:expect("^%* CAPABILITY")
assert(caps.text:find("LOGINDISABLED"), caps.text)
c:expect("^a1 OK")
c:send("a2 LOGIN " .. args.USER1 .. " " .. args.PASS1)
-- Dovecot may first warn with an untagged "* BAD [ALERT]"; then the tagged refusal comes.
local r = c:expect { { "^%* BAD" }, { "^a2 NO" } }
if r.text:match("^%*") then c:expect("^a2 NO %[PRIVACYREQUIRED%]") end
c:send("a3 STARTTLS")
c:expect("^a3 OK")
c:starttls { ca = args.CA_FILE, sni = "localhost" }
c:send("a4 LOGIN " .. args.USER1 .. " " .. args.PASS1)
c:expect { { "^%* CAPABILITY" }, { "^a4 OK" } }
print("LOGINDISABLED before STARTTLS, login after it")
c:send("a5 LOGOUT")
c:close()
