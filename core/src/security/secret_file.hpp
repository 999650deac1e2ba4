// Files that hold secrets (the audit signing key, the master key): created 0600 and atomically,
// read only when no one but the owner can read them. Used by ed25519 and aead; public because other
// secret files (e.g. a session secret) should follow the same rules.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace tsunagu::security {

enum class Overwrite {
  refuse,  // an existing file is an error: losing a key loses the data or history it protects
  replace,
};

// Writes `contents` to `path` with mode 0600: into a temporary file in the same directory (created
// 0600 from the start, so the secret is never briefly world-readable), fsync'ed, then moved into
// place and the directory fsync'ed. A crash leaves either no file or the complete one, never a
// truncated key. With Overwrite::refuse the move fails if `path` exists, without a race.
// Throws KeyError naming the file.
void write_secret_file(const std::filesystem::path& path, std::string_view contents,
                       Overwrite overwrite = Overwrite::refuse);

// Reads a whole secret file. Refuses (KeyError naming the file) anything that is not a regular
// file, any file with a group or other permission bit (like ssh: "chmod 600 <file>"), and files
// larger than `max_size`. Symbolic links are followed; the mode checked is the target's, taken
// from the open descriptor so it is the file actually read.
// The caller owns the returned secret and should wipe it (wipe() below) when done.
std::string read_secret_file(const std::filesystem::path& path, std::size_t max_size);

// Overwrites memory that held a secret, in a way the compiler may not elide (OPENSSL_cleanse).
void wipe(std::span<char> bytes);
void wipe(std::string& secret);

}  // namespace tsunagu::security
