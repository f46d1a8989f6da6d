-- A conversation that fails with a server's refusal quoting the password, plain and in base64
-- (written out: a server elsewhere, not an encoding parley computed).
fail("535 5.7.8 bad password " .. args.password .. " (b64 aHVudGVyMng=)")
