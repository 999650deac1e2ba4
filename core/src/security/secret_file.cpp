#include "security/secret_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "security/errors.hpp"

namespace tsunagu::security {
namespace {

std::string quoted(const std::filesystem::path& path) {
  return "'" + path.string() + "'";
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what, int error) {
  throw KeyError(what + " " + quoted(path) + ": " + std::strerror(error));
}

// Closes on every path out, including exceptions.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closing reports write-back errors on some file systems, so it is checked where it matters.
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

std::string random_suffix() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw CryptoError("RAND_bytes failed");
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0F];
  }
  return out;
}

void write_all(int fd, std::string_view contents, const std::filesystem::path& path) {
  while (!contents.empty()) {
    const ssize_t written = ::write(fd, contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot write", errno);
    }
    contents.remove_prefix(static_cast<std::size_t>(written));
  }
}

// Moves the finished temporary file into place; false if `target` exists and must not be replaced.
bool publish(const std::filesystem::path& temp, const std::filesystem::path& target,
             Overwrite overwrite) {
  if (overwrite == Overwrite::replace) {
    if (::rename(temp.c_str(), target.c_str()) != 0) fail(target, "cannot create", errno);
    return true;
  }
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) {
    return true;
  }
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS) fail(target, "cannot create", errno);
  // File systems without RENAME_NOREPLACE: a hard link is just as atomic and never replaces.
  if (::link(temp.c_str(), target.c_str()) != 0) {
    if (errno == EEXIST) return false;
    fail(target, "cannot create", errno);
  }
  ::unlink(temp.c_str());
  return true;
}

}  // namespace

void write_secret_file(const std::filesystem::path& path, std::string_view contents,
                       Overwrite overwrite) {
  if (path.filename().empty()) throw KeyError("not a file name: " + quoted(path));
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  const std::filesystem::path temp =
      dir / ("." + path.filename().string() + ".tmp-" + random_suffix());

  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) fail(path, "cannot create a temporary file next to", errno);
  bool published = false;
  try {
    // The umask can only remove bits; this makes the mode exactly 0600 whatever it is.
    if (::fchmod(fd.get(), 0600) != 0) fail(path, "cannot set mode 0600 on", errno);
    write_all(fd.get(), contents, path);
    if (::fsync(fd.get()) != 0) fail(path, "cannot fsync", errno);
    if (fd.close() != 0) fail(path, "cannot write", errno);
    if (!publish(temp, path, overwrite)) {
      throw KeyError("refusing to overwrite the existing file " + quoted(path));
    }
    published = true;
    // The rename itself must survive a crash too.
    Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
      fail(path, "cannot fsync the directory of", errno);
    }
  } catch (...) {
    if (!published) ::unlink(temp.c_str());
    throw;
  }
}

std::string read_secret_file(const std::filesystem::path& path, std::size_t max_size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) throw KeyError("not a regular file: " + quoted(path));
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw KeyError("refusing to use " + quoted(path) +
                   ": it is accessible by group or others (mode " + mode + "); run chmod 600 " +
                   quoted(path));
  }
  if (static_cast<std::uint64_t>(st.st_size) > max_size) {
    throw KeyError("too large to be a key (" + std::to_string(st.st_size) +
                   " bytes): " + quoted(path));
  }
  // Sized up front so the secret is never copied by a growing buffer and left behind unwiped.
  std::string contents(max_size + 1, '\0');
  std::size_t total = 0;
  while (total < contents.size()) {
    const ssize_t got = ::read(fd.get(), contents.data() + total, contents.size() - total);
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      wipe(contents);
      fail(path, "cannot read", error);
    }
    if (got == 0) break;
    total += static_cast<std::size_t>(got);
  }
  if (total > max_size) {
    wipe(contents);
    throw KeyError("too large to be a key: " + quoted(path));
  }
  wipe(std::span(contents).subspan(total));
  contents.resize(total);
  return contents;
}

void wipe(std::span<char> bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

void wipe(std::string& secret) {
  wipe(std::span(secret.data(), secret.size()));
}

}  // namespace tsunagu::security
