// A stream buffer that fails with an I/O error (an exception from underflow, as a vanished disk
// or network file system does) after its first `good` bytes — for the read-error tests of every
// decoder.
#pragma once

#include <stdexcept>
#include <streambuf>
#include <string>

namespace tsunagu_test {

class FailingBuffer : public std::streambuf {
 public:
  FailingBuffer(std::string data, std::size_t good) : data_(std::move(data)), good_(good) {}

 protected:
  int_type underflow() override {
    if (position_ >= good_) throw std::runtime_error("disk gone");
    if (position_ >= data_.size()) return traits_type::eof();
    current_ = data_[position_++];
    setg(&current_, &current_, &current_ + 1);
    return traits_type::to_int_type(current_);
  }

 private:
  std::string data_;
  std::size_t good_;
  std::size_t position_ = 0;
  char current_ = 0;
};

}  // namespace tsunagu_test
