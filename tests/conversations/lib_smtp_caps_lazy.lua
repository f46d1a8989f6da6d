-- lib_smtp_caps_lazy.lua: s.caps and s.caps_list are parsed from the last EHLO when first
-- read (a load test that never reads them skips the parsing), and what STARTTLS and HELO
-- forget stays forgotten: capabilities learnt in the clear never come back after STARTTLS.
-- exit: 0
-- stdout: caps ok
-- within: 10

local smtp = require "parley.smtp"
local m = require("parley.mock.smtp").start { tls = "starttls", capabilities = { "SIZE 1000", "STARTTLS", "X-TEST" } }

local s = smtp.connect { host = "127.0.0.1", port = m.port }
s:ehlo("me")
-- Read after EHLO: parsed then, and the same table on every read.
assert(s.caps.SIZE == 1000 and s.caps["X-TEST"] == true and s.caps.STARTTLS, "caps after EHLO")
assert(s.caps == s.caps, "parsed once")
assert(#s.caps_list >= 3, "caps_list after EHLO")

-- EHLO again, caps not read: STARTTLS must forget them, not bring back the clear-text EHLO's.
s:ehlo("me")
s:starttls { caps = false, ca_pem = m.cert_pem }
assert(s.caps == nil and s.caps_list == nil, "STARTTLS forgot the capabilities learnt in the clear")
s:ehlo("me")
assert(s.caps.SIZE == 1000 and s.tls, "caps after the EHLO under TLS")

-- HELO: no extensions, even with an unread EHLO before it.
s:ehlo("me")
s:helo("me")
assert(next(s.caps) == nil and #s.caps_list == 0, "HELO leaves no capabilities")
s:quit()
print("caps ok")
