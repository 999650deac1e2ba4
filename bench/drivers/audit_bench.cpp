// B5: the exchange log of a real instance (store, keyring and Ed25519 key laid out as tsunagud
// lays them out). Appending runs the core library directly — AuditLog::append inside transactions
// of --batch entries, a head signed every tenth of the run — next to a raw sqlite3 insert of the
// same rows into one table. Verification is the real command,
// `tsunagu audit verify`, run as a child process; one inclusion proof is AuditLog's prove() (what
// `tsunagu audit prove` calls) against the latest signed head. The ceiling is measured both in one
// transaction (as B1's) and in the appender's batches.
#include <iostream>

#include "audit/audit_log.hpp"
#include "bench_util.hpp"
#include "ceiling.hpp"
#include "drivers.hpp"
#include "hub/hub.hpp"

namespace tsunagu::bench {
namespace fs = std::filesystem;

namespace {

audit::EntryDraft draft_for(std::uint64_t i) {
  // The shape of event.stored, the commonest entry.
  char id[40];
  std::snprintf(id, sizeof id, "4e0b2c1a-9f8e-4d7c-b6a5-%012llu",
                static_cast<unsigned long long>(i));
  return {audit::entry_type::kEventStored,
          "system:public_assistance",
          "0b7c9f5e-2f0e-4f53-9d52-7d1c1f2b8a11",
          {{"event_id", id},
           {"system", "public_assistance"},
           {"source_ref", "PA" + std::to_string(1000000000000ULL + i)},
           {"source_version", "1"},
           {"kind", "welfare.member_added"},
           {"sensitivity", "special_care"},
           {"record_sha256", audit::to_hex(audit::sha256(std::to_string(i)))},
           {"input_sha256", std::string(64, 'b')},
           {"record_no", std::to_string(i + 1)}}};
}

}  // namespace

// tsunagu-bench audit <work dir> --entries N [--batch 500] [--checkpoint background|commit]
int audit_main(const Args& args) {
  if (args.empty())
    throw std::invalid_argument("usage: audit <work dir> --entries N [--batch 500]");
  const fs::path work = fs::absolute(args[0]);
  const std::uint64_t entries = option_number(args, "--entries", 200000);
  const std::uint64_t batch = option_number(args, "--batch", 500);
  const std::uint64_t head_every = std::max<std::uint64_t>(batch, entries / 10 / batch * batch);
  fs::remove_all(work);
  const fs::path config_file =
      write_instance_config(work, {"public_assistance"}, 500, "", sqlite_store_xml(args));
  const auto config = load_instance_config(config_file);
  double append_s = 0;
  {
    auto store = open_store(config, true);
    const auto key = load_or_create_signing_key(config, *store);
    audit::AuditLog log(*store);
    // Drafts made beforehand: the clock is for appending, not for building std::maps.
    std::vector<audit::EntryDraft> drafts;
    for (std::uint64_t i = 0; i < 1024; ++i) drafts.push_back(draft_for(i));
    const auto started = std::chrono::steady_clock::now();
    const double cpu_before = self_cpu_s();
    for (std::uint64_t i = 0; i < entries;) {
      store::Transaction tx(*store);
      for (std::uint64_t k = 0; k < batch && i < entries; ++k, ++i)
        log.append(drafts[i % drafts.size()]);
      tx.commit();
      if (i % head_every == 0 || i == entries) log.sign_head(key);
    }
    append_s = seconds_since(started);
    result("B5", "append_cpu_s", self_cpu_s() - cpu_before);
    std::cerr << "audit: appended " << entries << " entries in batches of " << batch << " in "
              << append_s << " s (" << entries / append_s << " entries/s)\n";

    // One inclusion proof against the latest head, as `tsunagu audit prove` makes it.
    double best = 1e9;
    for (int attempt = 0; attempt < 3; ++attempt) {
      const auto seq =
          static_cast<std::int64_t>(1 + (entries / 3) * static_cast<unsigned>(attempt));
      const auto t = std::chrono::steady_clock::now();
      const auto proof = audit::prove(log, seq);
      best = std::min(best, seconds_since(t));
      std::string why;
      if (!audit::check_proof(proof, key.verifying_key(), why))
        throw std::runtime_error("proof: " + why);
    }
    std::cerr << "audit: one inclusion proof in a log of " << entries << " entries: " << best * 1e3
              << " ms (best of 3)\n";
    result("B5", "proof_ms", best * 1e3);
  }

  // The reference: the same rows, inserted raw, with the same batches.
  const std::uint64_t ceiling_rows = std::min<std::uint64_t>(entries, 500000);
  std::vector<std::string> rows;
  rows.reserve(ceiling_rows * 2);
  for (std::uint64_t i = 0; i < ceiling_rows; ++i) {
    std::string entry =
        audit::canonical_entry(static_cast<std::int64_t>(i + 1), store::utc_now(), draft_for(i));
    rows.push_back(audit::to_hex(audit::leaf_hash(entry)));
    rows.push_back(std::move(entry));
  }
  const std::string time = store::utc_now(), type = audit::entry_type::kEventStored,
                    subject = "0b7c9f5e-2f0e-4f53-9d52-7d1c1f2b8a11";
  const std::string table =
      "CREATE TABLE audit_entries (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, type TEXT NOT "
      "NULL, "
      "subject TEXT NOT NULL, entry TEXT NOT NULL, leaf_hash TEXT NOT NULL)";
  const std::string insert =
      "INSERT INTO audit_entries (seq, time, type, subject, entry, leaf_hash) VALUES (?, ?, ?, ?, "
      "?, ?)";
  std::string seq;
  auto fill = [&](std::size_t i, std::vector<std::string_view>& v) {
    seq = std::to_string(i + 1);
    v = {seq, time, type, subject, rows[2 * i + 1], rows[2 * i]};
  };
  double ceiling_s = 0, ceiling_batched_s = 0;
  {
    RawInsert raw(work / "ceiling.db", table, insert);
    ceiling_s = raw.run(ceiling_rows, 0, fill);
  }
  {
    RawInsert raw(work / "ceiling.db", table, insert);
    ceiling_batched_s = raw.run(ceiling_rows, batch, fill);
  }
  // And with two secondary indexes of every entry (by subject, by type), as the log had before
  // migration 12 replaced them with rows per block: what that schema cost, for comparison.
  double indexed_s = 0;
  {
    RawInsert raw(work / "ceiling.db",
                  table +
                      "; CREATE INDEX by_subject ON audit_entries (subject, seq); "
                      "CREATE INDEX by_type ON audit_entries (type, seq)",
                  insert);
    indexed_s = raw.run(ceiling_rows, batch, fill);
  }
  fs::remove(work / "ceiling.db");
  const double ceiling_rate = static_cast<double>(ceiling_rows) / ceiling_s;
  result("B5", "ceiling_indexed_per_s", static_cast<double>(ceiling_rows) / indexed_s);
  const double batched_rate = static_cast<double>(ceiling_rows) / ceiling_batched_s;
  std::cerr << "audit: raw insert of " << ceiling_rows << " such rows: " << ceiling_rate
            << " rows/s in one transaction, " << batched_rate << " rows/s in batches of " << batch
            << ", " << ceiling_rows / indexed_s
            << " rows/s with two indexes of every entry (the log before migration 12)\n";

  // `tsunagu audit verify`, the real command.
  const ChildUsage verify = run_child({(layout().bin_dir / "tsunagu").string(), "--config",
                                       config_file.string(), "audit", "verify"},
                                      work / "verify.out", work / "verify.err");
  std::cerr << read_file(work / "verify.out") << read_file(work / "verify.err");
  if (verify.exit_code != 0) throw std::runtime_error("audit verify failed");
  std::cerr << "audit: `tsunagu audit verify` of " << entries << " entries: " << verify.wall_s
            << " s, peak RSS " << verify.max_rss_kb / 1024.0 << " MB\n";

  result("B5", "entries", static_cast<double>(entries));
  result("B5", "append_per_s", entries / append_s);
  result("B5", "ceiling_per_s", ceiling_rate);
  result("B5", "ceiling_batched_per_s", batched_rate);
  result("B5", "batch", static_cast<double>(batch));
  result("B5", "append_vs_ceiling", (entries / append_s) / ceiling_rate);
  result("B5", "append_vs_batched_ceiling", (entries / append_s) / batched_rate);
  // Against the same rows inserted raw with two indexes of every entry (the log's schema before
  // migration 12), in the same batches: above 1 once the appender writes less than that schema.
  result("B5", "append_vs_indexed_ceiling",
         (entries / append_s) / (static_cast<double>(ceiling_rows) / indexed_s));
  result("B5", "verify_s", verify.wall_s);
  result("B5", "verify_peak_rss_mb", verify.max_rss_kb / 1024.0);
  result("B5", "verify_s_per_10m", verify.wall_s * 1e7 / static_cast<double>(entries));
  result("B5", "store_mb", static_cast<double>(fs::file_size(config.sqlite.file)) / 1048576.0);
  if (option(args, "--keep", "no") != "yes") fs::remove_all(work);
  return 0;
}

}  // namespace tsunagu::bench
