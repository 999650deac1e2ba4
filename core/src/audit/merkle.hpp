// The Merkle tree behind the tamper-evident exchange log: RFC 6962 / RFC 9162 hashing, audit
// (inclusion) and consistency proofs, and an incremental frontier so that appenders never have to
// read the log back.
//
// Everything here is pure: no I/O, no global state beyond OpenSSL's SHA-256. The functions are
// thread-safe. Sizes and indices are 64-bit because the log's sequence numbers are.
//
// Conventions, as in RFC 9162 §2.1:
//   leaf_hash(e)    = SHA-256(0x00 ‖ e)          — `e` is the serialised log entry
//   node_hash(l, r) = SHA-256(0x01 ‖ l ‖ r)
//   MTH({})         = SHA-256("")                — empty_root()
//   MTH(D[n])       = node_hash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
// The distinct prefixes keep a leaf from ever being passed off as an interior node.
//
// Proof vectors are ordered from the leaf (or the old tree) upwards, exactly as RFC 9162 prints
// them, so they can be exchanged with other RFC 9162 implementations unchanged.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tsunagu::audit {

using Hash = std::array<std::uint8_t, 32>;

// Plain SHA-256 of arbitrary bytes (e.g. the digest of a received payload that an entry records).
Hash sha256(std::string_view data);

// SHA-256(0x00 ‖ entry).
Hash leaf_hash(std::string_view entry);

// SHA-256(0x01 ‖ left ‖ right).
Hash node_hash(const Hash& left, const Hash& right);

// The root of the tree with no leaves: SHA-256("") = e3b0c442…b855.
Hash empty_root();

// MTH over the given leaf hashes (already leaf_hash()ed, in log order). O(n) hashing, O(log n)
// extra memory; empty input gives empty_root().
Hash root(std::span<const Hash> leaf_hashes);

// The audit path for leaf `index` in the tree made of all of `leaf_hashes` (RFC 9162 §2.1.3.1),
// ordered from the leaf's sibling up to the child of the root. Empty for a one-leaf tree.
// O(n) hashing. Throws std::out_of_range if index >= leaf_hashes.size().
std::vector<Hash> inclusion_proof(std::span<const Hash> leaf_hashes, std::uint64_t index);

// The root of a perfect, aligned subtree: MTH of leaves [index·2^level, (index+1)·2^level).
// Level 0 is a single leaf hash.
struct PerfectSubtree {
  unsigned level = 0;
  std::uint64_t index = 0;
  Hash hash{};
  friend bool operator==(const PerfectSubtree&, const PerfectSubtree&) = default;
};

// Gives MTH of leaves [index·2^level, (index+1)·2^level) of the tree being proved.
using SubtreeSource = std::function<Hash(unsigned level, std::uint64_t index)>;

// The same audit path as inclusion_proof(leaf_hashes, index) for a tree of `tree_size` leaves, but
// built from the roots of perfect aligned subtrees rather than from every leaf: each sibling on the
// path is either such a subtree or part of the tree's right edge, which is split into them
// (largest first). `subtree` is asked only for subtrees wholly inside the tree, O(log n) times
// in all, so a caller that stores the roots of large subtrees (the store's audit_nodes) proves
// without reading the log. Throws std::out_of_range if index >= tree_size.
std::vector<Hash> inclusion_proof(std::uint64_t tree_size, std::uint64_t index,
                                  const SubtreeSource& subtree);

// Checks that `leaf` (a leaf hash, not the raw entry) is at `index` in the tree of `tree_size`
// leaves whose root is `root_hash`, following RFC 9162 §2.1.3.2. False for index >= tree_size and
// for any proof of the wrong length.
//
// Note: a proof binds the leaf to the root, not to the size alone: for some indices the same proof
// shape fits several sizes (index 0 in trees of 5 and of 8 leaves both take three steps to the
// left). The size is authenticated by the signed tree head that carries the root.
bool verify_inclusion(const Hash& leaf, std::uint64_t index, std::uint64_t tree_size,
                      std::span<const Hash> proof, const Hash& root_hash);

// The consistency proof that the tree of the first `old_size` leaves is a prefix of the tree of
// all of `leaf_hashes` (RFC 9162 §2.1.4.1). Empty when old_size is 0 or equals the size: there is
// nothing to prove. O(n) hashing. Throws std::out_of_range if old_size > leaf_hashes.size().
std::vector<Hash> consistency_proof(std::span<const Hash> leaf_hashes, std::uint64_t old_size);

// Checks a consistency proof between two tree heads (RFC 9162 §2.1.4.2). The cases the RFC
// algorithm leaves out are handled as a tree head is consistent with itself and the empty tree with
// everything:
//   old_size == new_size: valid iff the proof is empty and the roots are equal;
//   old_size == 0:        valid iff the proof is empty and old_root == empty_root();
//   old_size > new_size:  never valid.
bool verify_consistency(std::uint64_t old_size, std::uint64_t new_size, const Hash& old_root,
                        const Hash& new_root, std::span<const Hash> proof);

// Lower-case hex, 64 characters.
std::string to_hex(const Hash& hash);

// Parses 64 hex digits (either case). nullopt on any other length or a non-hex character.
std::optional<Hash> hash_from_hex(std::string_view hex);

// The tree's right edge — one root per perfect subtree, i.e. per set bit of the size, largest
// (leftmost) first — which is all that appending and the current root need. O(log n) memory,
// amortised O(1) hashing per append, O(log n) for root().
//
// The store persists serialize() next to each tree head (or restores from size() and
// subtree_roots() kept in columns), so an appender resumes without reading the log back.
class MerkleFrontier {
 public:
  MerkleFrontier() = default;

  // Appends one leaf hash (leaf_hash(entry), not the entry itself).
  void append(const Hash& leaf);

  // The same, and adds to `completed` every perfect subtree of level >= min_level that this leaf
  // completes, smallest first (level 0 is the leaf itself). Over a whole log these are exactly
  // the aligned subtrees of each level, each once, in the order they become complete: what the
  // store keeps in audit_nodes.
  void append(const Hash& leaf, unsigned min_level, std::vector<PerfectSubtree>& completed);

  // Number of leaves appended so far.
  std::uint64_t size() const { return size_; }

  // MTH of all leaves appended so far; empty_root() when there are none.
  Hash root() const;

  // Perfect-subtree roots, largest first; there are exactly popcount(size()) of them.
  std::span<const Hash> subtree_roots() const { return subtree_roots_; }

  // Rebuilds a frontier from size() and subtree_roots() as stored. nullopt when the number of roots
  // does not match popcount(size).
  static std::optional<MerkleFrontier> restore(std::uint64_t size, std::span<const Hash> roots);

  // Text form: "mf1 <size>" followed by " <hex root>" per subtree root, largest first
  // (e.g. "mf1 0", "mf1 3 <64 hex> <64 hex>"). ASCII only, so it fits a TEXT column.
  std::string serialize() const;

  // Inverse of serialize(). nullopt on anything malformed (unknown version tag, bad number or hex,
  // wrong root count, stray characters).
  static std::optional<MerkleFrontier> deserialize(std::string_view text);

  friend bool operator==(const MerkleFrontier&, const MerkleFrontier&) = default;

 private:
  void append_leaf(const Hash& leaf, unsigned min_level, std::vector<PerfectSubtree>* completed);

  std::uint64_t size_ = 0;
  std::vector<Hash> subtree_roots_;
};

}  // namespace tsunagu::audit
