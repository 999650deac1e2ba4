#include "audit/merkle.hpp"

#include <bit>
#include <charconv>
#include <memory>
#include <stdexcept>
#include <string>

#include <openssl/evp.h>

namespace tsunagu::audit {
namespace {

struct MdDeleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Fetched once: OpenSSL 3's implicit fetch (EVP_sha256()) repeats a provider lookup on every
// init, which dominates the cost of hashing a million 65-byte nodes.
const EVP_MD* sha256_md() {
  static const std::unique_ptr<EVP_MD, MdDeleter> md{EVP_MD_fetch(nullptr, "SHA256", nullptr)};
  if (!md) throw std::runtime_error("merkle: OpenSSL has no SHA-256 implementation");
  return md.get();
}

// One context per thread, reused, so hashing allocates nothing and stays thread-safe.
EVP_MD_CTX* thread_context() {
  thread_local const std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx{EVP_MD_CTX_new()};
  if (!ctx) throw std::runtime_error("merkle: cannot allocate a digest context");
  return ctx.get();
}

// SHA-256 over the concatenation of `parts`, without building the concatenation.
template <std::size_t N>
Hash digest(const std::array<std::string_view, N>& parts) {
  EVP_MD_CTX* ctx = thread_context();
  if (EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) != 1) {
    throw std::runtime_error("merkle: SHA-256 init failed");
  }
  for (std::string_view part : parts) {
    if (!part.empty() && EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) {
      throw std::runtime_error("merkle: SHA-256 update failed");
    }
  }
  Hash out{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &length) != 1 || length != out.size()) {
    throw std::runtime_error("merkle: SHA-256 final failed");
  }
  return out;
}

std::string_view bytes_of(const Hash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

constexpr char kLeafPrefix[1] = {'\x00'};
constexpr char kNodePrefix[1] = {'\x01'};

// Largest power of two strictly below n (n >= 2): the RFC's split point k.
std::uint64_t split_point(std::uint64_t n) {
  return std::bit_floor(n - 1);
}

// RFC 9162 §2.1.3.1 PATH(m, D[n]); appends bottom-up, hence the push after the recursion.
void path(std::span<const Hash> leaves, std::uint64_t m, std::vector<Hash>& out) {
  const std::uint64_t n = leaves.size();
  if (n <= 1) return;
  const std::uint64_t k = split_point(n);
  if (m < k) {
    path(leaves.first(k), m, out);
    out.push_back(root(leaves.subspan(k)));
  } else {
    path(leaves.subspan(k), m - k, out);
    out.push_back(root(leaves.first(k)));
  }
}

// RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b). `whole_old_tree` is b: true while the subtree being
// descended is still the left edge, whose hash the verifier already knows as the old root.
void subproof(std::span<const Hash> leaves, std::uint64_t m, bool whole_old_tree,
              std::vector<Hash>& out) {
  const std::uint64_t n = leaves.size();
  if (m == n) {
    if (!whole_old_tree) out.push_back(root(leaves));
    return;
  }
  const std::uint64_t k = split_point(n);
  if (m <= k) {
    subproof(leaves.first(k), m, whole_old_tree, out);
    out.push_back(root(leaves.subspan(k)));
  } else {
    subproof(leaves.subspan(k), m - k, false, out);
    out.push_back(root(leaves.first(k)));
  }
}

bool is_set(std::uint64_t value) {
  return (value & 1U) != 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::string_view kFrontierTag = "mf1";

}  // namespace

Hash sha256(std::string_view data) {
  return digest(std::array{data});
}

Hash leaf_hash(std::string_view entry) {
  return digest(std::array{std::string_view(kLeafPrefix, 1), entry});
}

Hash node_hash(const Hash& left, const Hash& right) {
  return digest(std::array{std::string_view(kNodePrefix, 1), bytes_of(left), bytes_of(right)});
}

Hash empty_root() {
  static const Hash empty = sha256({});
  return empty;
}

Hash root(std::span<const Hash> leaf_hashes) {
  // Folding through a frontier gives the same tree as the recursive definition (the trailing
  // partial subtrees are joined right to left) without recursion or a copy of the level.
  MerkleFrontier frontier;
  for (const Hash& leaf : leaf_hashes) frontier.append(leaf);
  return frontier.root();
}

std::vector<Hash> inclusion_proof(std::span<const Hash> leaf_hashes, std::uint64_t index) {
  if (index >= leaf_hashes.size()) {
    throw std::out_of_range("merkle: inclusion proof for leaf " + std::to_string(index) +
                            " of a tree of " + std::to_string(leaf_hashes.size()));
  }
  std::vector<Hash> proof;
  path(leaf_hashes, index, proof);
  return proof;
}

namespace {

// MTH of leaves [lo, hi) of a tree whose nodes are RFC 9162's: a perfect aligned subtree comes
// from `subtree`; anything else is on the right edge and splits at the largest power of two.
Hash range_root(std::uint64_t lo, std::uint64_t hi, const SubtreeSource& subtree) {
  const std::uint64_t n = hi - lo;
  if (std::has_single_bit(n) && lo % n == 0) {
    const auto level = static_cast<unsigned>(std::countr_zero(n));
    return subtree(level, lo >> level);
  }
  const std::uint64_t k = split_point(n);
  return node_hash(range_root(lo, lo + k, subtree), range_root(lo + k, hi, subtree));
}

// PATH(m, D[lo:hi]) over ranges, as path() above over spans.
void range_path(std::uint64_t lo, std::uint64_t hi, std::uint64_t m, const SubtreeSource& subtree,
                std::vector<Hash>& out) {
  const std::uint64_t n = hi - lo;
  if (n <= 1) return;
  const std::uint64_t k = split_point(n);
  if (m < lo + k) {
    range_path(lo, lo + k, m, subtree, out);
    out.push_back(range_root(lo + k, hi, subtree));
  } else {
    range_path(lo + k, hi, m, subtree, out);
    out.push_back(range_root(lo, lo + k, subtree));
  }
}

}  // namespace

std::vector<Hash> inclusion_proof(std::uint64_t tree_size, std::uint64_t index,
                                  const SubtreeSource& subtree) {
  if (index >= tree_size) {
    throw std::out_of_range("merkle: inclusion proof for leaf " + std::to_string(index) +
                            " of a tree of " + std::to_string(tree_size));
  }
  std::vector<Hash> proof;
  range_path(0, tree_size, index, subtree, proof);
  return proof;
}

bool verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t tree_size,
                      std::span<const Hash> proof, const Hash& root_hash) {
  if (index >= tree_size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Hash r = leaf;
  for (const Hash& p : proof) {
    if (sn == 0) return false;  // proof longer than the path to the root
    if (is_set(fn) || fn == sn) {
      r = node_hash(p, r);
      // A left node that is the last of its level has no sibling on the levels above until it
      // becomes a right child: climb past them.
      while (!is_set(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root_hash;
}

std::vector<Hash> consistency_proof(std::span<const Hash> leaf_hashes, std::uint64_t old_size) {
  if (old_size > leaf_hashes.size()) {
    throw std::out_of_range("merkle: consistency proof from size " + std::to_string(old_size) +
                            " to the smaller size " + std::to_string(leaf_hashes.size()));
  }
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == leaf_hashes.size()) return proof;
  subproof(leaf_hashes, old_size, true, proof);
  return proof;
}

bool verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                        const Hash& new_root, std::span<const Hash> proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty() && old_root == empty_root();
  if (proof.empty()) return false;

  // RFC 9162 §2.1.4.2. When old_size is a power of two the old tree is a complete left subtree, its
  // root is the first path element, and the proof omits it.
  const bool old_is_subtree = std::has_single_bit(old_size);
  std::size_t next = 0;
  const Hash& seed = old_is_subtree ? old_root : proof[next++];
  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while (is_set(fn)) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = seed;
  Hash sr = seed;
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) return false;
    if (is_set(fn) || fn == sn) {
      fr = node_hash(c, fr);
      sr = node_hash(c, sr);
      while (!is_set(fn) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = node_hash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

std::string to_hex(const Hash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(hash.size() * 2, '\0');
  for (std::size_t i = 0; i < hash.size(); ++i) {
    out[2 * i] = kDigits[hash[i] >> 4];
    out[2 * i + 1] = kDigits[hash[i] & 0x0F];
  }
  return out;
}

std::optional<Hash> hash_from_hex(std::string_view hex) {
  Hash out{};
  if (hex.size() != out.size() * 2) return std::nullopt;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  return out;
}

void MerkleFrontier::append(const Hash& leaf) {
  append_leaf(leaf, 0, nullptr);
}

void MerkleFrontier::append(const Hash& leaf, unsigned min_level,
                            std::vector<PerfectSubtree>& completed) {
  append_leaf(leaf, min_level, &completed);
}

void MerkleFrontier::append_leaf(const Hash& leaf, unsigned min_level,
                                 std::vector<PerfectSubtree>* completed) {
  // Each trailing one bit of the old size is a perfect subtree of the same height as the one being
  // completed: merge them, smallest first, like a binary carry. After `level` merges the carry is
  // the root of the 2^level leaves ending with this one (index size_, 0-based).
  Hash carry = leaf;
  unsigned level = 0;
  if (completed != nullptr && min_level == 0) completed->push_back({0, size_, carry});
  for (std::uint64_t bits = size_; is_set(bits); bits >>= 1) {
    carry = node_hash(subtree_roots_.back(), carry);
    subtree_roots_.pop_back();
    ++level;
    if (completed != nullptr && level >= min_level) {
      completed->push_back({level, size_ >> level, carry});
    }
  }
  subtree_roots_.push_back(carry);
  ++size_;
}

Hash MerkleFrontier::root() const {
  if (subtree_roots_.empty()) return empty_root();
  // The largest-power-of-two split makes each subtree the left child of everything to its right.
  Hash r = subtree_roots_.back();
  for (auto it = subtree_roots_.rbegin() + 1; it != subtree_roots_.rend(); ++it) {
    r = node_hash(*it, r);
  }
  return r;
}

std::optional<MerkleFrontier> MerkleFrontier::restore(std::uint64_t size,
                                                      std::span<const Hash> roots) {
  if (roots.size() != static_cast<std::size_t>(std::popcount(size))) return std::nullopt;
  MerkleFrontier frontier;
  frontier.size_ = size;
  frontier.subtree_roots_.assign(roots.begin(), roots.end());
  return frontier;
}

std::string MerkleFrontier::serialize() const {
  std::string out(kFrontierTag);
  out += ' ';
  out += std::to_string(size_);
  for (const Hash& h : subtree_roots_) {
    out += ' ';
    out += to_hex(h);
  }
  return out;
}

std::optional<MerkleFrontier> MerkleFrontier::deserialize(std::string_view text) {
  // Strict, single-space separated: a stored frontier that does not round-trip exactly is damaged.
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t space = text.find(' ', start);
    fields.push_back(text.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  if (fields.size() < 2 || fields[0] != kFrontierTag) return std::nullopt;

  const std::string_view size_text = fields[1];
  if (size_text.empty() || (size_text.size() > 1 && size_text[0] == '0')) return std::nullopt;
  std::uint64_t size = 0;
  const auto [end, error] =
      std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
  if (error != std::errc{} || end != size_text.data() + size_text.size()) return std::nullopt;

  std::vector<Hash> roots;
  roots.reserve(fields.size() - 2);
  for (std::size_t i = 2; i < fields.size(); ++i) {
    const auto h = hash_from_hex(fields[i]);
    if (!h) return std::nullopt;
    roots.push_back(*h);
  }
  return restore(size, roots);
}

}  // namespace tsunagu::audit
