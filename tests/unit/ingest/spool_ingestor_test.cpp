// The spool ingestor over a real store: a file whose records cannot be stored (here a routing
// step that fails inside the storing transaction, as a full disk would fail the COMMIT) stays in
// work/ and is not counted as processed, so the hub waits its poll interval before the next try
// instead of spinning; once the store takes it, the next pass stores it whole and moves it to
// done/.
#include "ingest/spool_ingestor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>

#include "config/hub_config.hpp"
#include "mapping/mapping.hpp"
#include "security/keyring.hpp"
#include "store/prepared.hpp"
#include "support/line_adapter.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

namespace {

using namespace tsunagu;
namespace fs = std::filesystem;

class SpoolIngestorTest : public ::testing::Test {
 protected:
  SpoolIngestorTest() {
    config_.data_dir = dir_ / "data";
    config::SystemConfig pa;
    pa.name = "public_assistance";
    config_.systems.push_back(pa);
    config::prepare_data_dir(config_);
    store_ = tsunagu_test::open_test_store(dir_ / "store.db", {});
    store_->set_keyring(security::Keyring::open(dir_ / "keys", true));
    audit_ = std::make_unique<audit::AuditLog>(*store_);
    ingest::SystemPipeline p;
    p.system = "public_assistance";
    p.adapter = std::make_shared<tsunagu_test::LineAdapter>();
    p.mapping = std::make_shared<const mapping::Mapping>(mapping::Mapping::load_file(
        fs::path(TSUNAGU_SOURCE_DIR) / "mappings" / "public_assistance.xml",
        fs::path(TSUNAGU_SOURCE_DIR) / "mappings" / "mapping.xsd"));
    // Stands in for routing: it runs inside the storing transaction and fails while told to.
    p.on_stored = [this](store::Store&, audit::AuditLog&, const CaseEvent&, const std::string&,
                         const identity::LinkResult&) {
      if (failing_) throw std::runtime_error("routing failed");
    };
    ingestor_ = std::make_unique<ingest::SpoolIngestor>(
        config_, *store_, *audit_, std::vector<ingest::SystemPipeline>{p}, stop_);
  }

  fs::path spool() const { return config_.spool_dir("public_assistance"); }

  std::int64_t events() {
    auto q = store_->query("SELECT COUNT(*) FROM events");
    return q.next() ? q.integer(0) : -1;
  }

  tsunagu_test::TempDir dir_;
  config::HubConfig config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failing_{true};
  std::unique_ptr<ingest::SpoolIngestor> ingestor_;
};

TEST_F(SpoolIngestorTest, AFileTheStoreRefusesIsRetriedOnALaterPassNotCountedAsProcessed) {
  std::ofstream(spool() / "PA_1.csv") << "PA-1,01103\nPA-2,01103\n";
  EXPECT_EQ(ingestor_->poll_once(), 0u);
  EXPECT_TRUE(fs::exists(spool() / "work" / "PA_1.csv"));
  EXPECT_EQ(events(), 0);
  EXPECT_EQ(ingestor_->poll_once(), 0u) << "still failing: still not processed";
  EXPECT_TRUE(fs::exists(spool() / "work" / "PA_1.csv"));

  failing_ = false;
  EXPECT_EQ(ingestor_->poll_once(), 1u);
  EXPECT_FALSE(fs::exists(spool() / "work" / "PA_1.csv"));
  EXPECT_TRUE(fs::exists(spool() / "done" / "PA_1.csv"));
  EXPECT_EQ(events(), 2);
  EXPECT_EQ(ingestor_->poll_once(), 0u) << "nothing left";
}

}  // namespace
