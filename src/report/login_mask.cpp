#include "report/login_mask.hpp"

#include <cctype>

namespace parley::report {

namespace {

constexpr std::string_view kMask = "****";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim_left(std::string_view s) {
  std::size_t i = s.find_first_not_of(" \t");
  return i == std::string_view::npos ? std::string_view() : s.substr(i);
}

std::string_view trim(std::string_view s) {
  s = trim_left(s);
  std::size_t e = s.find_last_not_of(" \t");
  return e == std::string_view::npos ? std::string_view() : s.substr(0, e + 1);
}

// Splits off the first word: returns it and leaves `s` at what follows (spaces skipped).
std::string_view next_word(std::string_view& s) {
  s = trim_left(s);
  std::size_t e = s.find_first_of(" \t");
  std::string_view w = s.substr(0, e);
  s = e == std::string_view::npos ? std::string_view() : trim_left(s.substr(e));
  return w;
}

// Where the IMAP literal announced at the end of `s` ("{12}" or "{12+}") starts, or npos.
std::size_t literal_at(std::string_view s) {
  if (s.empty() || s.back() != '}') return std::string_view::npos;
  std::size_t open = s.rfind('{');
  if (open == std::string_view::npos) return open;
  std::string_view digits = s.substr(open + 1, s.size() - open - 2);
  if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
  if (digits.empty()) return std::string_view::npos;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::string_view::npos;
  }
  return open;
}

// An IMAP quoted string at the start of `s`: its length with the quotes, or npos when open.
std::size_t quoted_length(std::string_view s) {
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

std::string joined(std::string_view a, std::string_view b, std::string_view c = {}) {
  std::string out(a);
  out += ' ';
  out += b;
  if (!c.empty()) {
    out += ' ';
    out += c;
  }
  return out;
}

}  // namespace

std::optional<LoginProtocol> login_protocol(std::string_view name) {
  if (iequals(name, "smtp")) return LoginProtocol::smtp;
  if (iequals(name, "pop3")) return LoginProtocol::pop3;
  if (iequals(name, "imap")) return LoginProtocol::imap;
  return std::nullopt;
}

std::string LoginMask::client_line(std::string_view line) {
  if (login_literal_) return login_continuation(line);
  if (auth_open_) {
    // "*" cancels, "" and "=" are empty responses: nothing in them to hide
    if (line == "*" || line.empty() || line == "=") return std::string(line);
    return std::string(kMask);
  }
  return command(line);
}

std::string LoginMask::command(std::string_view line) {
  std::string_view rest = line;
  std::string_view first = next_word(rest);
  if (proto_ == LoginProtocol::imap) {
    std::string_view verb = next_word(rest);
    if (verb.empty()) return std::string(line);
    std::string_view head = line.substr(0, verb.data() + verb.size() - line.data());
    if (iequals(verb, "LOGIN")) return imap_login(head, rest);
    if (iequals(verb, "AUTHENTICATE")) {
      std::string_view mech = next_word(rest);
      if (mech.empty()) return std::string(line);
      auth_open_ = true;
      if (trim(rest).empty()) return std::string(line);
      return joined(head, mech, kMask);
    }
    return std::string(line);
  }
  if (iequals(first, "AUTH")) {
    std::string_view mech = next_word(rest);
    if (mech.empty()) return std::string(line);  // POP3: the list of mechanisms
    auth_open_ = true;
    if (trim(rest).empty()) return std::string(line);
    return joined(first, mech, kMask);
  }
  if (proto_ == LoginProtocol::pop3) {
    if (iequals(first, "PASS") && !rest.empty()) return joined(first, kMask);
    if (iequals(first, "APOP") && !rest.empty()) {
      std::string_view user = next_word(rest);
      return joined(first, user, kMask);
    }
  }
  return std::string(line);
}

// `TAG LOGIN user password`: the user stays readable unless it is a literal (then it and all
// that follows in the command are hidden); the password never shows.
std::string LoginMask::imap_login(std::string_view head, std::string_view rest) {
  rest = trim(rest);
  if (rest.empty()) return std::string(head);
  std::size_t user_end;
  if (rest.front() == '"') {
    user_end = quoted_length(rest);
    if (user_end == std::string_view::npos) return joined(head, kMask);
  } else if (literal_at(rest) == 0) {
    login_literal_ = true;  // the user name comes as a literal, the password after it
    return joined(head, rest);
  } else {
    user_end = rest.find_first_of(" \t");
    if (user_end == std::string_view::npos) return joined(head, rest);  // no password
  }
  std::string_view user = rest.substr(0, user_end);
  std::string_view pass = trim(rest.substr(user_end));
  if (pass.empty()) return joined(head, user);
  if (literal_at(pass) == 0) {
    login_literal_ = true;  // the password is a literal: announced here, hidden when it comes
    return joined(head, user, pass);
  }
  return joined(head, user, kMask);
}

// The rest of a LOGIN command after a literal: " {8}" (the password's literal announced after
// the user's), ` "password"`, or "" (the end of the command).
std::string LoginMask::login_continuation(std::string_view line) {
  std::string_view t = trim(line);
  if (t.empty()) {
    login_literal_ = false;
    return std::string(line);
  }
  if (literal_at(t) == 0) return std::string(line);
  std::size_t lit = literal_at(t);
  login_literal_ = lit != std::string_view::npos;
  std::string out(kMask);
  if (login_literal_) {
    out += ' ';
    out += t.substr(lit);
  }
  return out;
}

void LoginMask::server_line(std::string_view line) {
  if (!auth_open_ && !login_literal_) return;
  bool more = proto_ == LoginProtocol::smtp
                  ? line.substr(0, 3) == "334"
                  : (line.substr(0, 2) == "+ " || line == "+" || line.substr(0, 3) == "+\r\n");
  if (!more) auth_open_ = login_literal_ = false;
}

}  // namespace parley::report
