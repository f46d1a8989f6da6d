// What a client sends to log in, hidden from the transcript by the shape of the protocol, not
// by registered secrets: a server (the mocks of `parley serve`) cannot know every password a
// client may try, yet must never show one. The AUTH / AUTHENTICATE initial response and every
// line of a SASL exchange, POP3 PASS and APOP, IMAP LOGIN's password (quoted, atom or literal)
// are shown as ****. Pure: fed the lines of one connection in order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley::report {

enum class LoginProtocol { smtp, pop3, imap };

/// "smtp", "pop3", "imap" (any case), or nothing.
std::optional<LoginProtocol> login_protocol(std::string_view name);

class LoginMask {
 public:
  explicit LoginMask(LoginProtocol proto) : proto_(proto) {}

  /// A line the client sent (without its line end): the text to show.
  std::string client_line(std::string_view line);
  /// Whether bytes the client sends now outside lines (an IMAP literal) must be hidden.
  bool hides_client_bytes() const { return auth_open_ || login_literal_; }
  /// A line (or bytes) the server sent: anything but a continuation request ends an exchange.
  void server_line(std::string_view line);

 private:
  std::string command(std::string_view line);
  std::string imap_login(std::string_view tag_and_verb, std::string_view rest);
  std::string login_continuation(std::string_view line);

  LoginProtocol proto_;
  bool auth_open_ = false;      ///< inside AUTH / AUTHENTICATE: every client line is a credential
  bool login_literal_ = false;  ///< an IMAP LOGIN announced a literal: it and the rest are hidden
};

}  // namespace parley::report
