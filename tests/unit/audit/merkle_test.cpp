// The Merkle tree is the auditor's evidence, so the library is checked against an independent,
// deliberately naive reading of RFC 9162 written here: recursive MTH/PATH/SUBPROOF generators and
// recursive verifiers that walk the tree top-down instead of the RFC's bit arithmetic. Hashing in
// the naive side goes through OpenSSL's one-shot EVP_Digest, not the library's code path.
#include <audit/merkle.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <bit>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace audit = tsunagu::audit;
using audit::Hash;

namespace {

// ---- the naive reference ----------------------------------------------------------------------

Hash naive_sha256(const std::string& bytes) {
  Hash out{};
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  return out;
}

std::string as_bytes(const Hash& h) {
  return std::string(h.begin(), h.end());
}

Hash naive_leaf(const std::string& entry) {
  return naive_sha256(std::string(1, '\0') + entry);
}

Hash naive_node(const Hash& l, const Hash& r) {
  return naive_sha256(std::string(1, '\1') + as_bytes(l) + as_bytes(r));
}

std::uint64_t naive_split(std::uint64_t n) {
  std::uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

using Leaves = std::vector<Hash>;

Leaves slice(const Leaves& d, std::uint64_t begin, std::uint64_t end) {
  return Leaves(d.begin() + static_cast<std::ptrdiff_t>(begin),
                d.begin() + static_cast<std::ptrdiff_t>(end));
}

Hash naive_mth(const Leaves& d) {
  if (d.empty()) return naive_sha256("");
  if (d.size() == 1) return d[0];
  const std::uint64_t k = naive_split(d.size());
  return naive_node(naive_mth(slice(d, 0, k)), naive_mth(slice(d, k, d.size())));
}

Leaves naive_path(std::uint64_t m, const Leaves& d) {
  if (d.size() <= 1) return {};
  const std::uint64_t k = naive_split(d.size());
  Leaves out;
  if (m < k) {
    out = naive_path(m, slice(d, 0, k));
    out.push_back(naive_mth(slice(d, k, d.size())));
  } else {
    out = naive_path(m - k, slice(d, k, d.size()));
    out.push_back(naive_mth(slice(d, 0, k)));
  }
  return out;
}

Leaves naive_subproof(std::uint64_t m, const Leaves& d, bool b) {
  if (m == d.size()) return b ? Leaves{} : Leaves{naive_mth(d)};
  const std::uint64_t k = naive_split(d.size());
  Leaves out;
  if (m <= k) {
    out = naive_subproof(m, slice(d, 0, k), b);
    out.push_back(naive_mth(slice(d, k, d.size())));
  } else {
    out = naive_subproof(m - k, slice(d, k, d.size()), false);
    out.push_back(naive_mth(slice(d, 0, k)));
  }
  return out;
}

// Proof lengths from the tree shape alone, for the sizes a tampered proof is checked against.
std::size_t path_length(std::uint64_t i, std::uint64_t n) {
  if (n <= 1) return 0;
  const std::uint64_t k = naive_split(n);
  return 1 + (i < k ? path_length(i, k) : path_length(i - k, n - k));
}

std::size_t subproof_length(std::uint64_t m, std::uint64_t n, bool b) {
  if (m == n) return b ? 0 : 1;
  const std::uint64_t k = naive_split(n);
  return 1 + (m <= k ? subproof_length(m, k, b) : subproof_length(m - k, n - k, false));
}

std::size_t consistency_length(std::uint64_t m, std::uint64_t n) {
  return m == 0 || m >= n ? 0 : subproof_length(m, n, true);
}

Leaves naive_consistency(std::uint64_t m, const Leaves& d) {
  if (m == 0 || m == d.size()) return {};
  return naive_subproof(m, d, true);
}

// Top-down inclusion check: the last proof element is the sibling at the root's split.
std::optional<Hash> naive_climb(const Hash& leaf, std::uint64_t i, std::uint64_t n,
                                std::span<const Hash> proof) {
  if (i >= n) return std::nullopt;
  if (n == 1) return proof.empty() ? std::optional<Hash>(leaf) : std::nullopt;
  if (proof.empty()) return std::nullopt;
  const std::uint64_t k = naive_split(n);
  const Hash& sibling = proof.back();
  const auto rest = proof.first(proof.size() - 1);
  if (i < k) {
    const auto below = naive_climb(leaf, i, k, rest);
    if (!below) return std::nullopt;
    return naive_node(*below, sibling);
  }
  const auto below = naive_climb(leaf, i - k, n - k, rest);
  if (!below) return std::nullopt;
  return naive_node(sibling, *below);
}

bool naive_verify_inclusion(const Hash& leaf, std::uint64_t i, std::uint64_t n,
                            std::span<const Hash> proof, const Hash& root) {
  const auto computed = naive_climb(leaf, i, n, proof);
  return computed && *computed == root;
}

struct OldNew {
  Hash old_hash;
  Hash new_hash;
};

// Top-down mirror of SUBPROOF: rebuilds the old and new subtree hashes from the proof.
std::optional<OldNew> naive_rebuild(std::uint64_t m, std::uint64_t n, bool b, const Hash& old_root,
                                    std::span<const Hash> proof) {
  if (m == n) {
    if (b) return proof.empty() ? std::optional<OldNew>({old_root, old_root}) : std::nullopt;
    return proof.size() == 1 ? std::optional<OldNew>({proof[0], proof[0]}) : std::nullopt;
  }
  if (proof.empty()) return std::nullopt;
  const std::uint64_t k = naive_split(n);
  const Hash& c = proof.back();
  const auto rest = proof.first(proof.size() - 1);
  if (m <= k) {
    const auto sub = naive_rebuild(m, k, b, old_root, rest);
    if (!sub) return std::nullopt;
    return OldNew{sub->old_hash, naive_node(sub->new_hash, c)};
  }
  const auto sub = naive_rebuild(m - k, n - k, false, old_root, rest);
  if (!sub) return std::nullopt;
  return OldNew{naive_node(c, sub->old_hash), naive_node(c, sub->new_hash)};
}

bool naive_verify_consistency(std::uint64_t m, std::uint64_t n, const Hash& old_root,
                              const Hash& new_root, std::span<const Hash> proof) {
  if (m > n) return false;
  if (m == n) return proof.empty() && old_root == new_root;
  if (m == 0) return proof.empty() && old_root == naive_sha256("");
  const auto rebuilt = naive_rebuild(m, n, true, old_root, proof);
  return rebuilt && rebuilt->old_hash == old_root && rebuilt->new_hash == new_root;
}

// ---- fixtures -----------------------------------------------------------------------------------

Leaves make_leaves(std::uint64_t n) {
  Leaves leaves;
  for (std::uint64_t i = 0; i < n; ++i) {
    leaves.push_back(audit::leaf_hash("{\"seq\":" + std::to_string(i) + ",\"kind\":\"received\"}"));
  }
  return leaves;
}

Hash flip(Hash h, std::size_t byte) {
  h[byte % h.size()] ^= 0x01;
  return h;
}

Hash from_hex(std::string_view hex) {
  const auto h = audit::hash_from_hex(hex);
  if (!h) throw std::invalid_argument("bad hex in test");
  return *h;
}

const std::vector<std::uint64_t> kProofSizes = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33};

// ---- known answers ------------------------------------------------------------------------------

TEST(MerkleHashing, KnownAnswers) {
  EXPECT_EQ(audit::to_hex(audit::empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(audit::root({}), audit::empty_root());
  EXPECT_EQ(audit::sha256(""), audit::empty_root());
  EXPECT_EQ(audit::to_hex(audit::sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  // One leaf: the root is the leaf hash itself, SHA-256(0x00).
  const Hash empty_leaf = audit::leaf_hash("");
  EXPECT_EQ(audit::to_hex(empty_leaf),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(audit::root(std::span(&empty_leaf, 1)), empty_leaf);

  EXPECT_EQ(audit::leaf_hash("entry"), naive_leaf("entry"));
  EXPECT_EQ(audit::node_hash(empty_leaf, audit::empty_root()),
            naive_node(empty_leaf, audit::empty_root()));
  // The prefixes separate the domains: a leaf over (l ‖ r) is not the node over l and r.
  EXPECT_NE(audit::leaf_hash(as_bytes(empty_leaf) + as_bytes(empty_leaf)),
            audit::node_hash(empty_leaf, empty_leaf));
}

// The eight-entry tree that RFC 6962 implementations customarily test with; the roots were
// computed with Python's hashlib from the definition.
TEST(MerkleHashing, EightEntryTreeRoots) {
  const std::vector<std::string> entries = {
      std::string(),
      std::string(1, '\x00'),
      std::string(1, '\x10'),
      std::string("\x20\x21"),
      std::string("\x30\x31"),
      std::string("\x40\x41\x42\x43"),
      std::string("\x50\x51\x52\x53\x54\x55\x56\x57"),
      std::string("\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f")};
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  Leaves leaves;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    leaves.push_back(audit::leaf_hash(entries[i]));
    EXPECT_EQ(audit::to_hex(audit::root(leaves)), roots[i]) << "size " << leaves.size();
  }
}

TEST(MerkleHashing, RootMatchesNaiveRecursion) {
  const Leaves all = make_leaves(300);
  for (std::uint64_t n = 0; n <= 70; ++n) {
    const Leaves d = slice(all, 0, n);
    EXPECT_EQ(audit::root(d), naive_mth(d)) << "size " << n;
  }
  for (std::uint64_t n : {127, 128, 129, 255, 256, 257, 300}) {
    const Leaves d = slice(all, 0, n);
    EXPECT_EQ(audit::root(d), naive_mth(d)) << "size " << n;
  }
}

// ---- inclusion ----------------------------------------------------------------------------------

TEST(MerkleInclusion, EveryIndexVerifiesAndEveryTamperingFails) {
  const Leaves all = make_leaves(40);
  for (std::uint64_t n : kProofSizes) {
    const Leaves d = slice(all, 0, n);
    const Hash root = audit::root(d);
    for (std::uint64_t i = 0; i < n; ++i) {
      SCOPED_TRACE("size " + std::to_string(n) + " index " + std::to_string(i));
      const Leaves proof = audit::inclusion_proof(d, i);
      ASSERT_EQ(proof, naive_path(i, d));
      ASSERT_TRUE(audit::verify_inclusion(d[i], i, n, proof, root));
      ASSERT_TRUE(naive_verify_inclusion(d[i], i, n, proof, root));

      EXPECT_FALSE(audit::verify_inclusion(flip(d[i], i), i, n, proof, root));
      for (std::size_t p = 0; p < proof.size(); ++p) {
        for (std::size_t byte : {std::size_t{0}, std::size_t{17}, std::size_t{31}}) {
          Leaves tampered = proof;
          tampered[p] = flip(tampered[p], byte);
          EXPECT_FALSE(audit::verify_inclusion(d[i], i, n, tampered, root)) << "proof[" << p << "]";
        }
      }
      for (std::size_t byte = 0; byte < root.size(); byte += 7) {
        EXPECT_FALSE(audit::verify_inclusion(d[i], i, n, proof, flip(root, byte)));
      }
      for (std::uint64_t j = 0; j < n + 3; ++j) {
        if (j != i) {
          EXPECT_FALSE(audit::verify_inclusion(d[i], j, n, proof, root)) << "index " << j;
        }
      }
      EXPECT_FALSE(audit::verify_inclusion(d[i], UINT64_MAX, n, proof, root));

      // A different size is rejected unless the path has exactly the same shape, in which case
      // the same proof is a valid statement about a tree of that size with this root (see the
      // header). The naive top-down verifier decides which is which.
      for (std::uint64_t other = 0; other <= 70; ++other) {
        if (other == n) continue;
        const bool accepted = audit::verify_inclusion(d[i], i, other, proof, root);
        EXPECT_EQ(accepted, naive_verify_inclusion(d[i], i, other, proof, root))
            << "size changed to " << other;
        if (other <= i || path_length(i, other) != proof.size()) {
          EXPECT_FALSE(accepted) << "size changed to " << other;
        }
      }
      EXPECT_FALSE(audit::verify_inclusion(d[i], i, UINT64_MAX, proof, root));

      if (!proof.empty()) {
        const Leaves shorter(proof.begin(), proof.end() - 1);
        EXPECT_FALSE(audit::verify_inclusion(d[i], i, n, shorter, root));
        const Leaves reordered(proof.rbegin(), proof.rend());
        if (proof.size() > 1) {
          EXPECT_FALSE(audit::verify_inclusion(d[i], i, n, reordered, root));
        }
      }
      Leaves longer = proof;
      longer.push_back(d[0]);
      EXPECT_FALSE(audit::verify_inclusion(d[i], i, n, longer, root));
    }
  }
}

// The store proves from the roots of perfect aligned subtrees (audit_nodes) instead of every leaf:
// the same paths, asking only for subtrees inside the tree, O(log n) of them.
TEST(MerkleInclusion, FromPerfectSubtreesEqualsFromLeaves) {
  const Leaves all = make_leaves(1030);
  std::vector<std::uint64_t> sizes;
  for (std::uint64_t n = 1; n <= 70; ++n) sizes.push_back(n);
  for (std::uint64_t n : {127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 1024, 1025, 1030}) {
    sizes.push_back(n);
  }
  for (std::uint64_t n : sizes) {
    const Leaves d = slice(all, 0, n);
    const std::span<const Hash> span(d);
    for (std::uint64_t i = 0; i < n; i += (n <= 300 ? 1 : 7)) {
      SCOPED_TRACE("size " + std::to_string(n) + " index " + std::to_string(i));
      std::size_t calls = 0;
      const auto proof = audit::inclusion_proof(n, i, [&](unsigned level, std::uint64_t index) {
        ++calls;
        const std::uint64_t first = index << level;
        const std::uint64_t count = std::uint64_t{1} << level;
        EXPECT_LE(first + count, n) << "level " << level << " index " << index;
        if (first + count > n) return Hash{};
        return audit::root(span.subspan(first, count));
      });
      ASSERT_EQ(proof, audit::inclusion_proof(d, i));
      if (n <= 70) {
        ASSERT_EQ(proof, naive_path(i, d));
      }
      EXPECT_LE(calls, 2u * static_cast<std::size_t>(std::bit_width(n)));
    }
  }
  EXPECT_THROW(audit::inclusion_proof(5, 5, [](unsigned, std::uint64_t) { return Hash{}; }),
               std::out_of_range);
}

TEST(MerkleInclusion, SizeChangeWithTheSamePathShapeIsExpected) {
  // Documents the property the header describes rather than leaving it to be rediscovered: leaf 0
  // of 5 climbs three left steps, as leaf 0 of 8 does.
  const Leaves d = make_leaves(5);
  const Leaves proof = audit::inclusion_proof(d, 0);
  EXPECT_TRUE(audit::verify_inclusion(d[0], 0, 8, proof, audit::root(d)));
  EXPECT_FALSE(audit::verify_inclusion(d[0], 0, 4, proof, audit::root(d)));
  EXPECT_FALSE(audit::verify_inclusion(d[4], 4, 6, audit::inclusion_proof(d, 4), audit::root(d)));
}

TEST(MerkleInclusion, OutOfRangeIndexThrows) {
  const Leaves d = make_leaves(3);
  EXPECT_THROW(audit::inclusion_proof(d, 3), std::out_of_range);
  EXPECT_THROW(audit::inclusion_proof({}, 0), std::out_of_range);
  EXPECT_FALSE(audit::verify_inclusion(d[0], 0, 0, {}, audit::empty_root()));
}

// ---- consistency --------------------------------------------------------------------------------

TEST(MerkleConsistency, EveryPairVerifiesAndEveryTamperingFails) {
  constexpr std::uint64_t kMax = 33;
  const Leaves all = make_leaves(kMax);
  std::vector<Hash> roots;
  for (std::uint64_t n = 0; n <= kMax; ++n) roots.push_back(audit::root(slice(all, 0, n)));

  for (std::uint64_t n = 0; n <= kMax; ++n) {
    const Leaves d = slice(all, 0, n);
    for (std::uint64_t m = 0; m <= n; ++m) {
      SCOPED_TRACE("old " + std::to_string(m) + " new " + std::to_string(n));
      const Leaves proof = audit::consistency_proof(d, m);
      ASSERT_EQ(proof, naive_consistency(m, d));
      ASSERT_TRUE(audit::verify_consistency(m, n, roots[m], roots[n], proof));
      ASSERT_TRUE(naive_verify_consistency(m, n, roots[m], roots[n], proof));

      for (std::size_t p = 0; p < proof.size(); ++p) {
        for (std::size_t byte : {std::size_t{0}, std::size_t{31}}) {
          Leaves tampered = proof;
          tampered[p] = flip(tampered[p], byte);
          EXPECT_FALSE(audit::verify_consistency(m, n, roots[m], roots[n], tampered))
              << "proof[" << p << "]";
        }
      }
      EXPECT_FALSE(audit::verify_consistency(m, n, flip(roots[m], 3), roots[n], proof));
      // The empty tree is consistent with every tree, so only then does the new root not matter.
      EXPECT_EQ(audit::verify_consistency(m, n, roots[m], flip(roots[n], 5), proof),
                m == 0 && n != 0);
      if (m != n) {
        // Swapped roots: the old tree claimed as the newer one.
        EXPECT_FALSE(audit::verify_consistency(m, n, roots[n], roots[m], proof));
      }

      // Different sizes with the same roots and proof: accepted exactly when the naive
      // reconstruction accepts (same tree shape), and mostly rejected.
      for (std::uint64_t m2 = 0; m2 <= kMax + 2; ++m2) {
        for (std::uint64_t n2 = m2; n2 <= kMax + 2; ++n2) {
          if (m2 == m && n2 == n) continue;
          const bool accepted = audit::verify_consistency(m2, n2, roots[m], roots[n], proof);
          EXPECT_EQ(accepted, naive_verify_consistency(m2, n2, roots[m], roots[n], proof))
              << "sizes changed to " << m2 << ", " << n2;
          if (consistency_length(m2, n2) != proof.size()) {
            EXPECT_FALSE(accepted) << "sizes changed to " << m2 << ", " << n2;
          }
        }
      }
      if (m != n) {
        EXPECT_FALSE(audit::verify_consistency(n, m, roots[m], roots[n], proof));
      }

      if (!proof.empty()) {
        const Leaves shorter(proof.begin(), proof.end() - 1);
        EXPECT_FALSE(audit::verify_consistency(m, n, roots[m], roots[n], shorter));
        const Leaves without_first(proof.begin() + 1, proof.end());
        EXPECT_FALSE(audit::verify_consistency(m, n, roots[m], roots[n], without_first));
      }
      Leaves longer = proof;
      longer.push_back(roots[n]);
      EXPECT_FALSE(audit::verify_consistency(m, n, roots[m], roots[n], longer));
    }
  }
}

TEST(MerkleConsistency, OldSizeBeyondTreeThrows) {
  const Leaves d = make_leaves(4);
  EXPECT_THROW(audit::consistency_proof(d, 5), std::out_of_range);
  EXPECT_TRUE(audit::consistency_proof(d, 0).empty());
  EXPECT_TRUE(audit::consistency_proof(d, 4).empty());
}

TEST(MerkleConsistency, ForkedHistoryIsRejected) {
  // Same sizes, but leaf 2 was rewritten after the old tree head was signed.
  const Leaves honest = make_leaves(10);
  Leaves forked = honest;
  forked[2] = audit::leaf_hash("rewritten");
  const Hash old_root = audit::root(slice(honest, 0, 6));
  const Leaves proof = audit::consistency_proof(forked, 6);
  EXPECT_FALSE(audit::verify_consistency(6, 10, old_root, audit::root(forked), proof));
  EXPECT_TRUE(audit::verify_consistency(6, 10, audit::root(slice(forked, 0, 6)),
                                        audit::root(forked), proof));
}

// ---- frontier -----------------------------------------------------------------------------------

TEST(MerkleFrontier, RootEqualsFullRecomputationAtEverySize) {
  const Leaves all = make_leaves(100);
  audit::MerkleFrontier frontier;
  EXPECT_EQ(frontier.root(), audit::empty_root());
  EXPECT_EQ(frontier.serialize(), "mf1 0");
  for (std::uint64_t n = 1; n <= all.size(); ++n) {
    SCOPED_TRACE("size " + std::to_string(n));
    frontier.append(all[n - 1]);
    const Leaves d = slice(all, 0, n);
    ASSERT_EQ(frontier.size(), n);
    ASSERT_EQ(frontier.subtree_roots().size(), static_cast<std::size_t>(std::popcount(n)));
    ASSERT_EQ(frontier.root(), audit::root(d));
    ASSERT_EQ(frontier.root(), naive_mth(d));

    const std::string text = frontier.serialize();
    const auto restored = audit::MerkleFrontier::deserialize(text);
    ASSERT_TRUE(restored.has_value()) << text;
    EXPECT_EQ(*restored, frontier);
    EXPECT_EQ(restored->root(), frontier.root());
    EXPECT_EQ(restored->serialize(), text);

    const auto from_columns =
        audit::MerkleFrontier::restore(frontier.size(), frontier.subtree_roots());
    ASSERT_TRUE(from_columns.has_value());
    EXPECT_EQ(from_columns->root(), frontier.root());
  }
}

TEST(MerkleFrontier, AppendReportsEveryCompletedAlignedSubtreeOnce) {
  const Leaves d = make_leaves(1000);
  const std::span<const Hash> span(d);
  for (unsigned min_level : {0U, 3U, 8U}) {
    SCOPED_TRACE("min_level " + std::to_string(min_level));
    audit::MerkleFrontier plain;
    audit::MerkleFrontier frontier;
    std::vector<audit::PerfectSubtree> completed;
    for (std::uint64_t i = 0; i < d.size(); ++i) {
      const std::size_t before = completed.size();
      frontier.append(d[i], min_level, completed);
      plain.append(d[i]);
      ASSERT_EQ(frontier, plain);
      // Completed by leaf i: the subtrees ending at i, smallest first.
      for (std::size_t k = before; k < completed.size(); ++k) {
        const auto& node = completed[k];
        ASSERT_GE(node.level, min_level);
        ASSERT_EQ((node.index + 1) << node.level, i + 1);
        if (k > before) {
          ASSERT_EQ(node.level, completed[k - 1].level + 1);
        }
        ASSERT_EQ(node.hash, audit::root(span.subspan(node.index << node.level,
                                                      std::uint64_t{1} << node.level)));
      }
    }
    std::size_t expected = 0;
    for (unsigned level = min_level; (std::uint64_t{1} << level) <= d.size(); ++level) {
      expected += d.size() >> level;
    }
    EXPECT_EQ(completed.size(), expected);
  }
}

TEST(MerkleFrontier, AppendingAfterRestoreContinuesTheSameTree) {
  const Leaves all = make_leaves(100);
  for (std::uint64_t cut : {0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 99}) {
    audit::MerkleFrontier before;
    for (std::uint64_t i = 0; i < cut; ++i) before.append(all[i]);
    auto resumed = audit::MerkleFrontier::deserialize(before.serialize());
    ASSERT_TRUE(resumed.has_value());
    for (std::uint64_t i = cut; i < all.size(); ++i) {
      resumed->append(all[i]);
      ASSERT_EQ(resumed->root(), audit::root(slice(all, 0, i + 1))) << cut << " then " << i + 1;
    }
  }
}

TEST(MerkleFrontier, RejectsMalformedState) {
  const std::string h = audit::to_hex(audit::leaf_hash("x"));
  EXPECT_TRUE(audit::MerkleFrontier::deserialize("mf1 0").has_value());
  EXPECT_TRUE(audit::MerkleFrontier::deserialize("mf1 1 " + h).has_value());
  EXPECT_TRUE(audit::MerkleFrontier::deserialize("mf1 3 " + h + " " + h).has_value());

  for (const std::string& bad : std::vector<std::string>{"",
                                                         "mf1",
                                                         "mf1 ",
                                                         "mf2 0",
                                                         "MF1 0",
                                                         "mf1 1",
                                                         "mf1 0 " + h,
                                                         "mf1 2 " + h + " " + h,
                                                         "mf1 3 " + h,
                                                         "mf1 01 " + h,
                                                         "mf1 +1 " + h,
                                                         "mf1 -1",
                                                         "mf1 1 " + h + " ",
                                                         "mf1  1 " + h,
                                                         "mf1 1  " + h,
                                                         " mf1 0",
                                                         "mf1 1 " + h.substr(1),
                                                         "mf1 1 " + h.substr(0, 63) + "g",
                                                         "mf1 18446744073709551616",
                                                         "mf1 1x " + h}) {
    EXPECT_FALSE(audit::MerkleFrontier::deserialize(bad).has_value()) << '"' << bad << '"';
  }
  const Leaves two = make_leaves(2);
  EXPECT_FALSE(audit::MerkleFrontier::restore(1, two).has_value());
  EXPECT_FALSE(audit::MerkleFrontier::restore(0, std::span(two).first(1)).has_value());
  EXPECT_TRUE(audit::MerkleFrontier::restore(UINT64_MAX, make_leaves(64)).has_value());
}

// ---- hex ----------------------------------------------------------------------------------------

TEST(MerkleHex, RoundTripAndErrors) {
  const Hash h = audit::leaf_hash("hex");
  const std::string hex = audit::to_hex(h);
  EXPECT_EQ(hex.size(), 64U);
  EXPECT_EQ(audit::hash_from_hex(hex), h);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(audit::hash_from_hex(upper), h);

  EXPECT_FALSE(audit::hash_from_hex("").has_value());
  EXPECT_FALSE(audit::hash_from_hex(hex.substr(0, 63)).has_value());
  EXPECT_FALSE(audit::hash_from_hex(hex + "0").has_value());
  EXPECT_FALSE(audit::hash_from_hex(hex + "00").has_value());
  EXPECT_FALSE(audit::hash_from_hex(" " + hex.substr(1)).has_value());
  EXPECT_FALSE(audit::hash_from_hex(hex.substr(0, 62) + "0x").has_value());
  std::string with_nul = hex;
  with_nul[10] = '\0';
  EXPECT_FALSE(audit::hash_from_hex(with_nul).has_value());
  EXPECT_EQ(audit::to_hex(from_hex(std::string(64, 'F'))), std::string(64, 'f'));
}

// ---- scale --------------------------------------------------------------------------------------

// The CLI verifies the whole log by recomputing the root; a million entries must stay cheap.
TEST(MerkleScale, MillionLeaves) {
  constexpr std::uint64_t kLeaves = 1'000'003;
  Leaves leaves;
  leaves.reserve(kLeaves);
  audit::MerkleFrontier frontier;
  for (std::uint64_t i = 0; i < kLeaves; ++i) {
    leaves.push_back(audit::leaf_hash(std::to_string(i)));
    frontier.append(leaves.back());
  }
  const auto started = std::chrono::steady_clock::now();
  const Hash root = audit::root(leaves);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(root, frontier.root());
  EXPECT_LE(frontier.subtree_roots().size(), 64U);
  // Generous bound (shared CI machines); a naive quadratic approach would take far longer.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 20);

  for (std::uint64_t i :
       {std::uint64_t{0}, std::uint64_t{524'287}, std::uint64_t{524'288}, kLeaves - 1}) {
    const Leaves proof = audit::inclusion_proof(leaves, i);
    // 2^19 < n < 2^20: the left half is a perfect tree 19 levels deep below the root's split, and
    // so is the first leaf of the right half; the last leaf sits just 8 splits down.
    EXPECT_EQ(proof.size(), path_length(i, kLeaves));
    EXPECT_EQ(proof.size(), i == kLeaves - 1 ? 8U : 20U);
    EXPECT_TRUE(audit::verify_inclusion(leaves[i], i, kLeaves, proof, root));
  }
  const Leaves old_part = slice(leaves, 0, 777'777);
  EXPECT_TRUE(audit::verify_consistency(777'777, kLeaves, audit::root(old_part), root,
                                        audit::consistency_proof(leaves, 777'777)));
}

}  // namespace
