#include "store/page_cache.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <new>

namespace tsunagu::store {
namespace {

// SQLite's own cache, as it was before the wrapper was installed.
sqlite3_pcache_methods2 inner_methods{};
std::atomic<std::uint64_t> passed{0};
std::atomic<std::uint64_t> skipped{0};
std::atomic<std::uint64_t> walks_avoided{0};

// One connection's cache (SQLite calls one cache from one connection at a time).
struct Cache {
  sqlite3_pcache* inner = nullptr;
  // A page was moved past `fetched` since SQLite's cache last truncated: its own bound is then
  // that far out, and a truncation passed on would walk every page.
  bool moved_out = false;
  // Every page the cache can hold has a number <= fetched, or one of moved[0, n_moved): numbers
  // beyond `fetched` that a page was moved to and has not left since.
  unsigned fetched = 0;
  std::array<unsigned, 8> moved{};
  std::size_t n_moved = 0;

  void forget_moved(unsigned key) {
    for (std::size_t i = 0; i < n_moved; ++i) {
      if (moved[i] == key) {
        moved[i] = moved[--n_moved];
        return;
      }
    }
  }
  bool may_hold_from(unsigned limit) const {
    if (fetched >= limit) return true;
    return std::any_of(moved.begin(), moved.begin() + static_cast<std::ptrdiff_t>(n_moved),
                       [limit](unsigned k) { return k >= limit; });
  }
};

Cache* of(sqlite3_pcache* p) {
  return reinterpret_cast<Cache*>(p);
}

int init(void* arg) {
  return inner_methods.xInit != nullptr ? inner_methods.xInit(arg) : SQLITE_OK;
}

void shutdown(void* arg) {
  if (inner_methods.xShutdown != nullptr) inner_methods.xShutdown(arg);
}

sqlite3_pcache* create(int page_size, int extra_size, int purgeable) {
  auto* cache = new (std::nothrow) Cache;
  if (cache == nullptr) return nullptr;
  cache->inner = inner_methods.xCreate(page_size, extra_size, purgeable);
  if (cache->inner == nullptr) {
    delete cache;
    return nullptr;
  }
  return reinterpret_cast<sqlite3_pcache*>(cache);
}

void cache_size(sqlite3_pcache* p, int pages) {
  inner_methods.xCachesize(of(p)->inner, pages);
}

int page_count(sqlite3_pcache* p) {
  return inner_methods.xPagecount(of(p)->inner);
}

sqlite3_pcache_page* fetch(sqlite3_pcache* p, unsigned key, int create_flag) {
  Cache* c = of(p);
  sqlite3_pcache_page* page = inner_methods.xFetch(c->inner, key, create_flag);
  if (page != nullptr && key > c->fetched) c->fetched = key;
  return page;
}

void unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  inner_methods.xUnpin(of(p)->inner, page, discard);
}

void rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache* c = of(p);
  inner_methods.xRekey(c->inner, page, old_key, new_key);
  c->forget_moved(old_key);
  if (new_key <= c->fetched) return;
  c->moved_out = true;
  if (c->n_moved == c->moved.size()) {
    // Many pages moved far out (an auto-vacuum, not a split's swap): fold them into the bound.
    for (unsigned k : c->moved) c->fetched = std::max(c->fetched, k);
    c->n_moved = 0;
    c->fetched = std::max(c->fetched, new_key);
    return;
  }
  c->moved[c->n_moved++] = new_key;
}

void truncate(sqlite3_pcache* p, unsigned limit) {
  Cache* c = of(p);
  if (!c->may_hold_from(limit)) {
    skipped.fetch_add(1, std::memory_order_relaxed);
    if (c->moved_out) walks_avoided.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  passed.fetch_add(1, std::memory_order_relaxed);
  inner_methods.xTruncate(c->inner, limit);
  c->moved_out = false;  // SQLite's cache set its bound back to limit - 1
  // Pages numbered `limit` and beyond are gone.
  if (limit > 0) c->fetched = std::min(c->fetched, limit - 1);
  for (std::size_t i = c->n_moved; i-- > 0;) {
    if (c->moved[i] >= limit) c->moved[i] = c->moved[--c->n_moved];
  }
}

void destroy(sqlite3_pcache* p) {
  Cache* c = of(p);
  inner_methods.xDestroy(c->inner);
  delete c;
}

void shrink(sqlite3_pcache* p) {
  if (inner_methods.xShrink != nullptr) inner_methods.xShrink(of(p)->inner);
}

}  // namespace

bool install_page_cache() {
  static const bool installed = [] {
    sqlite3_pcache_methods2 own{};
    // Both refuse once SQLite is initialised (SQLITE_MISUSE): then its cache stays as it is.
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &own) != SQLITE_OK || own.xCreate == nullptr) {
      return false;
    }
    inner_methods = own;
    sqlite3_pcache_methods2 wrapper{};
    wrapper.iVersion = own.iVersion;
    wrapper.pArg = own.pArg;
    wrapper.xInit = init;
    wrapper.xShutdown = shutdown;
    wrapper.xCreate = create;
    wrapper.xCachesize = cache_size;
    wrapper.xPagecount = page_count;
    wrapper.xFetch = fetch;
    wrapper.xUnpin = unpin;
    wrapper.xRekey = rekey;
    wrapper.xTruncate = truncate;
    wrapper.xDestroy = destroy;
    wrapper.xShrink = shrink;
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapper) == SQLITE_OK;
  }();
  return installed;
}

PageCacheCounts page_cache_counts() {
  return {passed.load(std::memory_order_relaxed), skipped.load(std::memory_order_relaxed),
          walks_avoided.load(std::memory_order_relaxed)};
}

}  // namespace tsunagu::store
