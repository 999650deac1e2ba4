#include "store/writer_queue.hpp"

#include <algorithm>

namespace fs = std::filesystem;

namespace tsunagu::store {

std::string file_key(const fs::path& file) {
  std::error_code ec;
  fs::path key = fs::weakly_canonical(fs::absolute(file), ec);
  if (ec) key = fs::absolute(file);
  return key.string();
}

std::shared_ptr<WriterQueue> WriterQueue::for_file(const fs::path& file) {
  return shared_per_file<WriterQueue>(
      file, [](const std::string&) { return std::make_shared<WriterQueue>(); });
}

bool WriterQueue::enter(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const std::uint64_t me = next_++;
  waiting_.push_back(me);
  if (!changed_.wait_for(lock, timeout, [&] { return !held_ && waiting_.front() == me; })) {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), me));
    changed_.notify_all();  // the next in line may be free to go now
    return false;
  }
  waiting_.pop_front();
  held_ = true;
  return true;
}

void WriterQueue::leave() {
  {
    std::lock_guard lock(mutex_);
    held_ = false;
  }
  changed_.notify_all();
}

}  // namespace tsunagu::store
