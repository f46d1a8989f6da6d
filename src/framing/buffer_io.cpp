// InputBuffer's zero-copy receive path: the transport reads straight into the buffer's tail.
#include "framing/framing.hpp"

namespace parley::framing {

char* InputBuffer::prepare(std::size_t n) {
  append({});  // compacts a dominant consumed prefix
  prepared_ = data_.size();
  data_.resize(prepared_ + n);
  return data_.data() + prepared_;
}

void InputBuffer::unread(std::string_view bytes) {
  if (bytes.empty()) return;
  data_ = std::string(bytes) + std::string(view());
  start_ = 0;
  scanned_ = 0;
  scan_from_ = 0;
}

void InputBuffer::commit(std::size_t n) {
  data_.resize(prepared_ + n);
}

}  // namespace parley::framing
