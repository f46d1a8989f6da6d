-- exec{}: drive Postfix's own sendmail -bs over its stdin/stdout, as administrators do by hand.
-- exit: 0
-- args: --timeout 15
-- stdout: delivered through sendmail -bs
local c = exec { "/usr/sbin/sendmail", "-C", args.POSTFIX_CONFIG, "-bs" }
c:expect(220)
c:send("EHLO parley.test")
c:expect(250)
c:send("MAIL FROM:<alice@" .. args.DOMAIN .. ">")
c:expect(250)
c:send("RCPT TO:<bob@" .. args.DOMAIN .. ">")
c:expect(250)
c:send("DATA")
c:expect(354)
c:send("Subject: via sendmail -bs")
c:send("")
c:send("hello")
c:send(".")
c:expect("^2%.0%.0 Ok")
c:send("QUIT")
c:expect(221)
c:close()
print("delivered through sendmail -bs")
