// InputBuffer's zero-copy receive path: the transport reads straight into the buffer's tail.
#include "framing/framing.hpp"

namespace parley::framing {

char* InputBuffer::prepare(std::size_t n) {
  append({});  // compacts a dominant consumed prefix
  prepared_ = data_.size();
  data_.resize(prepared_ + n);
  return data_.data() + prepared_;
}

void InputBuffer::commit(std::size_t n) {
  data_.resize(prepared_ + n);
}

}  // namespace parley::framing
