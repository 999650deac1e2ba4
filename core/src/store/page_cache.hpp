// SQLite's own page cache, with one costly step skipped when there is provably nothing to do.
//
// At the end of every write transaction SQLite truncates the connection's page cache to the
// database's size (pager_end_transaction → xTruncate(size + 1)). Its cache (pcache1) does that
// cheaply when the largest page number it has held is near the size, and otherwise walks every
// page it holds. When a B-tree rebalance reorders the new pages of a split, SQLite swaps two page
// numbers through a temporary one — the page of the lock byte, page 262,145 with 4 KiB pages —
// and from then on the cache believes it may hold a page that far out. So while the database is
// smaller than 1 GiB, every commit that split a page walked the whole cache: up to 16,384 pages
// for the 64 MiB cache (`store/sqlite/cache-mb`), a cache miss each. In bench B4 that walk was
// 16% of the push committer's CPU (perf; bench/RESULTS.md).
//
// The wrapper keeps, per cache, a bound on the page numbers the cache can hold — the largest
// fetched, and the ones pages were moved to beyond it, forgotten again when the page moves back
// — and passes a truncation on only if some page can be at or past the limit. Everything else
// is SQLite's cache, unchanged: the same pages, the same eviction, the same memory.
//
// It must be installed before SQLite is first used in the process (sqlite3_config's rule);
// Store::open_sqlite tries once, and where SQLite was initialised earlier it changes nothing.
#pragma once

#include <cstdint>

namespace tsunagu::store {

// Installs the wrapper if SQLite allows it still; true if it is in place (now or before).
bool install_page_cache();

// For tests and diagnostics, over every cache of the process (temporary tables' included).
struct PageCacheCounts {
  std::uint64_t passed = 0;         // truncations passed on to SQLite's cache
  std::uint64_t skipped = 0;        // truncations with nothing to drop, skipped
  std::uint64_t walks_avoided = 0;  // of those, skipped where SQLite's cache would have walked
                                    // every page (a page had been moved past the bound)
};
PageCacheCounts page_cache_counts();

}  // namespace tsunagu::store
