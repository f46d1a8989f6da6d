-- wire_text.lua: parley.wire_text and parley.wire_message, which parley.smtp uses for every
-- message it sends after DATA: bare LFs get their CR, a final CRLF is added, text already on
-- the wire comes back unchanged, and a bare CR anywhere is refused with its byte position.
-- wire_message (one pass in C) is also dot-stuffed and ends with the final dot: it must give
-- what wire_text, smtp.dot_stuff and ".\r\n" give, for any text (checked on random texts made
-- of the bytes that matter: CR, LF, ".", NUL and a letter).
-- exit: 0
-- stdout: wire_text ok
-- within: 5

local parley = require "parley"
local smtp = require "parley.smtp.args"

local function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %q, want %q", what, tostring(got), tostring(want)), 2)
  end
end

eq(parley.wire_text(""), "", "empty")
eq(parley.wire_text("a"), "a\r\n", "no line end")
eq(parley.wire_text("a\n"), "a\r\n", "bare LF at the end")
eq(parley.wire_text("\n"), "\r\n", "a lone LF")
eq(parley.wire_text("a\nb\r\nc\n\n"), "a\r\nb\r\nc\r\n\r\n", "mixed line ends")
eq(parley.wire_text("a\r\nb"), "a\r\nb\r\n", "final CRLF added")
local canonical = string.rep("line\r\n", 100)
eq(parley.wire_text(canonical), canonical, "canonical text unchanged")
eq(parley.wire_text("x\0y\n"), "x\0y\r\n", "NUL bytes kept")

for _, case in ipairs { { "a\rb", 2 }, { "abc\r", 4 }, { "\r\n\r", 3 }, { "\rx\n", 1 } } do
  local wire, at = parley.wire_text(case[1])
  eq(wire, nil, "bare CR in " .. string.format("%q", case[1]))
  eq(at, case[2], "position of the bare CR in " .. string.format("%q", case[1]))
end

-- wire_message: what wire_text, dot_stuff and the final dot give, in one pass.
eq(parley.wire_message(""), ".\r\n", "empty message")
eq(parley.wire_message("a"), "a\r\n.\r\n", "no line end")
eq(parley.wire_message(canonical), canonical .. ".\r\n", "canonical text")
eq(parley.wire_message(".a\n.\r\n..b\nc.\n."), "..a\r\n..\r\n...b\r\nc.\r\n..\r\n.\r\n",
  "dots starting lines, LF and CRLF ends")
eq(parley.wire_message("\n.\n"), "\r\n..\r\n.\r\n", "a dot after a lone LF")
eq(parley.wire_message("x\0.\n\0"), "x\0.\r\n\0\r\n.\r\n", "NUL bytes kept")
for _, case in ipairs { { "a\rb", 2 }, { "abc\r", 4 }, { "\r\n\r", 3 }, { "\rx\n", 1 },
                        { ".\n\n.x\r.\r", 6 }, { "\r", 1 }, { "a\n\r\r\n", 3 } } do
  local wire, at = parley.wire_message(case[1])
  eq(wire, nil, "wire_message: bare CR in " .. string.format("%q", case[1]))
  eq(at, case[2], "wire_message: position of the bare CR in " .. string.format("%q", case[1]))
end
local pieces = { "a", ".", "\r", "\n", "\r\n", "\0", "..", "\n." }
math.randomseed(17)
for i = 1, 3000 do
  local parts = {}
  for j = 1, math.random(0, 12) do parts[j] = pieces[math.random(#pieces)] end
  local text = table.concat(parts)
  local norm, bad = parley.wire_text(text)
  local want = norm and (smtp.dot_stuff(norm) .. ".\r\n")
  local got, at = parley.wire_message(text)
  eq(got, want, "wire_message of " .. string.format("%q", text) .. " (case " .. i .. ")")
  eq(at, bad, "wire_message's bare CR in " .. string.format("%q", text))
end

-- The SMTP library's normalisation is this function: same text, same refusal.
eq(smtp.normalise("a\nb", "DATA"), "a\r\nb\r\n", "parley.smtp normalise")
local ok, err = pcall(smtp.normalise, "a\rb", "DATA")
assert(not ok and tostring(err.message or err):find("bare CR at byte 2", 1, true), tostring(err))
eq(smtp.message_wire(nil, "a\n.b", "DATA"), "a\r\n..b\r\n.\r\n", "parley.smtp message_wire")
ok, err = pcall(smtp.message_wire, nil, "a\n\rb", "DATA")
assert(not ok and tostring(err.message or err):find("DATA: the message holds a bare CR at byte 3 (SMTP",
  1, true), tostring(err))

print("wire_text ok")
