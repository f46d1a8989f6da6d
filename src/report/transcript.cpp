#include "report/transcript.hpp"

#include <algorithm>
#include <cstdio>

namespace parley::report {

namespace {
constexpr const char* kMask = "****";
constexpr const char* kReset = "\033[0m";
constexpr const char* kServerColor = "\033[36m";
constexpr const char* kClientColor = "\033[33m";
constexpr const char* kNoteColor = "\033[2m";
constexpr const char* kWarnColor = "\033[1;31m";
}  // namespace

std::string printable(std::string_view data, std::size_t max) {
  std::string out;
  std::size_t n = std::min(data.size(), max);
  out.reserve(n);
  static const char* hex = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
      out += static_cast<char>(c);
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (data.size() > max) out += " ... (" + std::to_string(data.size() - max) + " more bytes)";
  return out;
}

Transcript::Transcript(TranscriptOptions options)
    : options_(options), start_(std::chrono::steady_clock::now()) {}

void Transcript::insert(std::string value, std::uint64_t derived) {
  if (value.empty()) return;
  if (known_.count(value) != 0) {
    if (derived != 0) return;
    // A derived form registered again by the script is now a secret of its own: kept for good.
    for (auto& s : secrets_) {
      if (s.value == value && s.derived != 0) {
        s.derived = 0;
        --derived_count_;
      }
    }
    return;
  }
  known_.insert(value);
  auto at = std::find_if(secrets_.begin(), secrets_.end(),
                         [&](const Secret& s) { return s.value.size() < value.size(); });
  secrets_.insert(at, Secret{std::move(value), derived});
  if (derived == 0) return;
  if (++derived_count_ <= kMaxDerived) return;
  auto oldest = secrets_.end();
  for (auto it = secrets_.begin(); it != secrets_.end(); ++it) {
    if (it->derived != 0 && (oldest == secrets_.end() || it->derived < oldest->derived))
      oldest = it;
  }
  known_.erase(oldest->value);
  secrets_.erase(oldest);
  --derived_count_;
}

void Transcript::add_secret(std::string value, bool warn_short) {
  if (warn_short && !value.empty() && value.size() < kShortSecret && !options_.show_secrets &&
      !(options_.warned_short ? options_.warned_short->exchange(true) : warned_short_)) {
    warned_short_ = true;
    warn("a secret of " + std::to_string(value.size()) + " byte" + (value.size() == 1 ? "" : "s") +
         " is too short to mask everywhere: it shows as **** only in the client's lines, not in "
         "what servers say (secrets of " +
         std::to_string(kShortSecret) + " bytes or more are masked everywhere)");
  }
  insert(std::move(value), 0);
}

void Transcript::add_derived(std::string value) {
  insert(std::move(value), ++derived_seq_);
}

bool Transcript::is_secret(std::string_view value) const {
  return !secrets_.empty() && known_.count(std::string(value)) != 0;
}

bool Transcript::holds_secret(std::string_view text) const {
  // Credentials and their encodings are small: a megabyte attachment is not searched.
  if (text.size() > 64 * 1024) return false;
  for (const auto& s : secrets_) {
    if (text.find(s.value) != std::string_view::npos) return true;
  }
  return false;
}

std::string Transcript::mask(std::string_view text, bool client_line) const {
  std::string out(text);
  if (options_.show_secrets) return out;
  for (const auto& s : secrets_) {
    if (!client_line && s.value.size() < kShortSecret) continue;
    std::size_t pos = 0;
    while ((pos = out.find(s.value, pos)) != std::string::npos) {
      out.replace(pos, s.value.size(), kMask);
      pos += 4;
    }
  }
  return out;
}

void Transcript::emit(int conn, std::string_view prefix, std::string_view text, const char* color,
                      bool client_line) {
  std::string stamp;
  if (options_.verbose) {
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%8.3f ", t);
    stamp = buf;
  }
  // Appended piece by piece: `"[" + std::to_string(conn) + "] "` trips GCC 12's -Wrestrict
  // false positive at -O3.
  std::string tag;
  if (conn > 1) {
    tag += '[';
    tag += std::to_string(conn);
    tag += "] ";
  }
  std::string body = std::string(prefix) + printable(mask(text, client_line));
  if (tap_) tap_(conn, tag + body);
  if (!options_.enabled) return;
  std::string out = stamp + tag;
  if (options_.color) out += color;
  out += body;
  if (options_.color) out += kReset;
  out += '\n';
  std::fwrite(out.data(), 1, out.size(), options_.out);
  std::fflush(options_.out);
}

void Transcript::line(int conn, Speaker who, bool tls, std::string_view text) {
  if (!active()) return;
  const char* prefix = who == Speaker::server ? (tls ? "<~ " : "<- ") : (tls ? " ~> " : " -> ");
  emit(conn, prefix, text, who == Speaker::server ? kServerColor : kClientColor,
       who == Speaker::client);
}

void Transcript::bytes(int conn, Speaker who, bool tls, std::string_view data) {
  if (!active()) return;
  while (!data.empty()) {
    std::size_t lf = data.find('\n');
    if (lf == std::string_view::npos) {
      line(conn, who, tls, std::string(data) + "  [no line end]");
      return;
    }
    std::size_t len = (lf > 0 && data[lf - 1] == '\r') ? lf - 1 : lf;
    line(conn, who, tls, data.substr(0, len));
    data.remove_prefix(lf + 1);
  }
}

void Transcript::note(int conn, std::string_view text) {
  if (!active()) return;
  emit(conn, "=== ", text, kNoteColor);
}

void Transcript::warn(std::string_view text) {
  std::string out = options_.color ? std::string(kWarnColor) : std::string();
  out += "parley: warning: ";
  out += mask(text);
  if (options_.color) out += kReset;
  out += '\n';
  std::fwrite(out.data(), 1, out.size(), options_.out);
  std::fflush(options_.out);
}

}  // namespace parley::report
