// The login mask: what a client sends to log in is hidden by the protocol's shape, whatever
// the password (a server cannot know every password a client may try).
#include <catch2/catch.hpp>
#include <string>

#include "report/login_mask.hpp"

using parley::report::LoginMask;
using parley::report::LoginProtocol;

TEST_CASE("SMTP: AUTH's initial response and every line of the exchange are hidden") {
  LoginMask m(LoginProtocol::smtp);
  CHECK(m.client_line("EHLO client.test") == "EHLO client.test");
  m.server_line("250 ok");
  CHECK(m.client_line("auth plain AGFsaWNlAHdyb25n") == "auth plain ****");
  m.server_line("535 5.7.8 failed");
  CHECK(m.client_line("AUTH LOGIN") == "AUTH LOGIN");
  m.server_line("334 VXNlcm5hbWU6");
  CHECK(m.client_line("YWxpY2U=") == "****");
  m.server_line("334 UGFzc3dvcmQ6");
  CHECK(m.client_line("d3Jvbmc=") == "****");
  m.server_line("235 2.7.0 ok");
  CHECK(m.client_line("MAIL FROM:<a@b>") == "MAIL FROM:<a@b>");
  // a cancelled exchange
  CHECK(m.client_line("AUTH CRAM-MD5") == "AUTH CRAM-MD5");
  m.server_line("334 PDEyMz4=");
  CHECK(m.client_line("*") == "*");
  m.server_line("501 cancelled");
  CHECK(m.client_line("QUIT") == "QUIT");
  // an AUTH the server refuses at once ends the exchange too
  CHECK(m.client_line("AUTH XYZ") == "AUTH XYZ");
  m.server_line("504 5.5.4 unknown mechanism");
  CHECK(m.client_line("RSET") == "RSET");
}

TEST_CASE("POP3: PASS, APOP and AUTH are hidden; USER and the mechanism list are not") {
  LoginMask m(LoginProtocol::pop3);
  CHECK(m.client_line("USER alice") == "USER alice");
  m.server_line("+OK send PASS");
  CHECK(m.client_line("pass wrong password") == "pass ****");
  CHECK(m.client_line("APOP alice 0123456789abcdef") == "APOP alice ****");
  CHECK(m.client_line("AUTH") == "AUTH");
  m.server_line("+OK mechanisms");
  CHECK(m.client_line("CAPA") == "CAPA");
  CHECK(m.client_line("AUTH PLAIN") == "AUTH PLAIN");
  m.server_line("+ ");
  CHECK(m.client_line("AGFsaWNlAHdyb25n") == "****");
  m.server_line("-ERR [AUTH] failed");
  CHECK(m.client_line("STAT") == "STAT");
  CHECK(m.client_line("AUTH PLAIN AGFsaWNlAHdyb25n") == "AUTH PLAIN ****");
}

TEST_CASE("IMAP: LOGIN's password in every form, AUTHENTICATE and its continuations") {
  LoginMask m(LoginProtocol::imap);
  CHECK(m.client_line("a LOGIN alice wrong") == "a LOGIN alice ****");
  CHECK(m.client_line("a login \"al ice\" \"wr\\\"ong\"") == "a login \"al ice\" ****");
  CHECK(m.client_line("a1 NOOP") == "a1 NOOP");
  CHECK(m.client_line("b AUTHENTICATE PLAIN AGFsaWNlAHdyb25n") == "b AUTHENTICATE PLAIN ****");
  m.server_line("b NO failed");
  CHECK(m.client_line("c AUTHENTICATE LOGIN") == "c AUTHENTICATE LOGIN");
  m.server_line("+ VXNlcm5hbWU6");
  CHECK(m.client_line("YWxpY2U=") == "****");
  m.server_line("+ UGFzc3dvcmQ6");
  CHECK(m.client_line("d3Jvbmc=") == "****");
  m.server_line("c OK done");
  CHECK(m.client_line("d SELECT INBOX") == "d SELECT INBOX");
}

TEST_CASE("IMAP: LOGIN with literals hides the literals and what follows them") {
  LoginMask m(LoginProtocol::imap);
  // the password as a literal
  CHECK(m.client_line("a LOGIN alice {5}") == "a LOGIN alice {5}");
  m.server_line("+ Ready for literal data");
  CHECK(m.hides_client_bytes());
  CHECK(m.client_line("") == "");
  CHECK_FALSE(m.hides_client_bytes());
  m.server_line("a NO failed");
  // the user as a literal, then the password quoted, or as a second literal (LITERAL+)
  CHECK(m.client_line("b LOGIN {5}") == "b LOGIN {5}");
  CHECK(m.hides_client_bytes());
  CHECK(m.client_line(" \"wrong\"") == "****");
  CHECK_FALSE(m.hides_client_bytes());
  CHECK(m.client_line("c LOGIN {5+}") == "c LOGIN {5+}");
  CHECK(m.client_line(" {5+}") == " {5+}");
  CHECK(m.hides_client_bytes());
  CHECK(m.client_line("") == "");
  // a literal the server refuses ends the command
  CHECK(m.client_line("d LOGIN alice {99999}") == "d LOGIN alice {99999}");
  m.server_line("d BAD literal too large");
  CHECK_FALSE(m.hides_client_bytes());
  CHECK(m.client_line("e NOOP") == "e NOOP");
}
