// Fuzzes the POP3 framer without want_block(): every unit is a single status line.
#include "fuzz_pop3_common.hpp"

using namespace parley::framing;
using namespace parley::framing::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run_target(data, size, make_pop3_framer, nullptr,
             [](const Setup& setup, const Unit& u) { check_pop3(setup, u, false); });
  return 0;
}
