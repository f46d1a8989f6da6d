// Constructors of the individual framers; make_framer() picks one by name.
#pragma once

#include "framing/framing.hpp"

namespace parley::framing {

std::unique_ptr<Framer> make_line_framer(const Limits& limits);
std::unique_ptr<Framer> make_smtp_framer(const Limits& limits);
std::unique_ptr<Framer> make_pop3_framer(const Limits& limits);
std::unique_ptr<Framer> make_imap_framer(const Limits& limits);

}  // namespace parley::framing
