// B6: identity linking, through the core library (PersonMaster::link, the call RecordStorer makes
// for every stored event) on a real instance's store. First a city of P persons is built the way
// ingest builds it (public_assistance events with 宛名番号: insert_event, link, event.stored entry;
// batches of 500). Then E events from another system about the same children are stored
// (untimed) and linked in batches of 500, timed with their commits: two thirds carry the 宛名番号,
// one third does not and spells the kana another way (half-width, hiragana).
#include <iostream>
#include <map>

#include "bench_data.hpp"
#include "bench_util.hpp"
#include "drivers.hpp"
#include "hub/hub.hpp"
#include "identity/person_master.hpp"
#include "ingest/record_storer.hpp"

namespace tsunagu::bench {
namespace fs = std::filesystem;

// tsunagu-bench identity <work dir> --persons P --events E [--seed S]
int identity_main(const Args& args) {
  if (args.empty()) throw std::invalid_argument("usage: identity <work dir> --persons P --events E");
  const fs::path work = fs::absolute(args[0]);
  const std::uint64_t persons = option_number(args, "--persons", 100000);
  const std::uint64_t events = option_number(args, "--events", 100000);
  const std::uint64_t seed = option_number(args, "--seed", 1);
  constexpr std::uint64_t kBatch = 500;
  fs::remove_all(work);
  const auto config = load_instance_config(write_instance_config(work, {"public_assistance"}));
  auto store = open_store(config, true);
  audit::AuditLog log(*store);
  identity::PersonMaster master(*store, log);
  Rng rng(seed);
  std::int64_t input_id = 0;
  {
    store::Transaction tx(*store);
    input_id = store->open_input("public_assistance", "bench", std::string(64, 'b'), 0);
    tx.commit();
  }

  // The city: one public_assistance event per person, stored, linked and audited as ingest does.
  const auto building = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < persons;) {
    store::Transaction tx(*store);
    for (std::uint64_t k = 0; k < kBatch && i < persons; ++k, ++i) {
      CaseEvent e = event_for(person(seed, i), "public_assistance", i, true, KanaStyle::full_width, rng);
      std::string subject;
      if (!store->insert_event(e, input_id, static_cast<std::int64_t>(i), "raw", &subject)) continue;
      master.link(e, subject, "system:public_assistance");
      log.append(ingest::event_stored_entry(e, "system:public_assistance", subject, "raw",
                                            std::string(64, 'b'), static_cast<std::int64_t>(i)));
    }
    tx.commit();
  }
  const double build_s = seconds_since(building);
  std::cerr << "identity: " << persons << " persons built (store + link + audit) in " << build_s
            << " s (" << persons / build_s << " events/s)\n";

  // The measured events, stored first (untimed) so that only linking is on the clock.
  struct Pending {
    CaseEvent event;
    std::string subject;
  };
  std::vector<Pending> pending;
  pending.reserve(events);
  std::uint64_t without_rid = 0;
  for (std::uint64_t n = 0; n < events;) {
    store::Transaction tx(*store);
    for (std::uint64_t k = 0; k < kBatch && n < events; ++k, ++n) {
      const bool hard = n % 3 == 2;
      const KanaStyle style = !hard ? KanaStyle::full_width
                                    : (n % 2 == 0 ? KanaStyle::half_width : KanaStyle::hiragana);
      Pending p{event_for(person(seed, n % persons), "child_guidance", n, !hard, style, rng), {}};
      if (hard) ++without_rid;
      if (store->insert_event(p.event, input_id, static_cast<std::int64_t>(n), "raw", &p.subject)) {
        pending.push_back(std::move(p));
      }
    }
    tx.commit();
  }
  std::map<std::string, std::uint64_t> rules;
  std::uint64_t reviews = 0;
  const auto linking = std::chrono::steady_clock::now();
  const double cpu_before = self_cpu_s();
  for (std::size_t i = 0; i < pending.size();) {
    store::Transaction tx(*store);
    for (std::uint64_t k = 0; k < kBatch && i < pending.size(); ++k, ++i) {
      const auto r = master.link(pending[i].event, pending[i].subject, "system:child_guidance");
      ++rules[r.rule];
      reviews += r.reviews_opened.size();
    }
    tx.commit();
  }
  const double link_s = seconds_since(linking);
  const double link_cpu_s = self_cpu_s() - cpu_before;
  const double rate = static_cast<double>(pending.size()) / link_s;
  std::cerr << "identity: linked " << pending.size() << " events (" << without_rid
            << " without 宛名番号, kana half-width or hiragana) against " << persons << " persons in "
            << link_s << " s (" << rate << " events/s); rules:";
  for (const auto& [rule, n] : rules) std::cerr << " " << rule << "=" << n;
  std::cerr << "; review items opened " << reviews << "\n";
  result("B6", "persons", static_cast<double>(persons));
  result("B6", "events", static_cast<double>(pending.size()));
  result("B6", "without_rid", static_cast<double>(without_rid));
  result("B6", "link_per_s", rate);
  result("B6", "link_s", link_s);
  result("B6", "link_cpu_s", link_cpu_s);
  result("B6", "build_per_s", persons / build_s);
  for (const auto& [rule, n] : rules) result("B6", "rule_" + rule, static_cast<double>(n));
  result("B6", "reviews", static_cast<double>(reviews));
  store.reset();
  if (option(args, "--keep", "no") != "yes") fs::remove_all(work);
  return 0;
}

}  // namespace tsunagu::bench
