// Runs tests/e2e/web.e2e.mjs — Debian's chromium driven by playwright-core — against the real
// tsunagud with the shipped routing configuration, a notice routed to 東区's liaisons from a
// public-assistance file dropped into the spool, and accounts made by the real CLI. Skipped only
// when chromium, node or npm is not installed (scripts/lib.sh installs them); playwright-core is
// installed with `npm ci` from tests/e2e/package-lock.json into BUILD/e2e (no browser is
// downloaded). Screenshots are left in BUILD/e2e/screenshots.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <gtest/gtest.h>

#include "store/prepared.hpp"
#include "store/store.hpp"
#include "support/routed_notice.hpp"
#include "support/web_instance.hpp"

namespace {

using namespace tsunagu_test;
namespace fs = std::filesystem;

// The program's path on $PATH, or "".
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto colon = dirs.find(':', start);
    const fs::path candidate =
        fs::path(
            dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start)) /
        name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

// npm ci into BUILD/e2e when the lock file changed since the last install.
void install_playwright(const fs::path& dir, const std::string& npm) {
  fs::create_directories(dir);
  const fs::path source = kSourceDir / "tests" / "e2e";
  const std::string lock = read_file(source / "package-lock.json");
  if (fs::exists(dir / "node_modules" / "playwright-core" / "package.json") &&
      read_file(dir / ".installed-lock") == lock) {
    return;
  }
  for (const char* f : {"package.json", "package-lock.json"}) {
    fs::copy_file(source / f, dir / f, fs::copy_options::overwrite_existing);
  }
  std::string out;
  Poco::Pipe out_pipe;
  auto handle = Poco::Process::launch(npm, {"ci", "--no-audit", "--no-fund", "--loglevel=error"},
                                      dir.string(), nullptr, &out_pipe, &out_pipe);
  Poco::PipeInputStream from(out_pipe);
  out.assign(std::istreambuf_iterator<char>(from), std::istreambuf_iterator<char>());
  if (handle.wait() != 0)
    throw std::runtime_error("npm ci in " + dir.string() + " failed:\n" + out);
  std::ofstream(dir / ".installed-lock", std::ios::binary) << lock;
}

TEST(WebBrowser, LiaisonAndAuditorScenariosInChromium) {
  const char* chromium_env = std::getenv("TSUNAGU_CHROMIUM");
  const std::string chromium = chromium_env != nullptr ? chromium_env : "/usr/bin/chromium";
  const std::string node = find_program("node");
  const std::string npm = find_program("npm");
  if (::access(chromium.c_str(), X_OK) != 0 || node.empty() || npm.empty()) {
    GTEST_SKIP() << "needs chromium (" << chromium << "), node and npm: scripts/lib.sh installs "
                 << "them (apt-get install chromium nodejs npm)";
  }
  const fs::path e2e = fs::path(TSUNAGU_BINARY_DIR) / "e2e";
  install_playwright(e2e, npm);

  WebInstance hub(1, /*with_routing=*/true);
  hub.add_account("e2e_auditor", "auditor");
  hub.add_account("e2e_higashi", "liaison", "higashi-liaison-1", "01103");
  hub.add_account("e2e_kita", "liaison", "kita-liaison-1", "01102");
  hub.start();
  route_a_higashi_notice(hub.spool("public_assistance"));
  std::string notice_id;
  {
    auto store = tsunagu::store::Store::open_sqlite(hub.data() / "store.db", {});
    auto q = store->query("SELECT id FROM notices WHERE rule_id = 'pa_visit_child_not_seen'");
    if (q.next()) notice_id = q.text(0);
  }
  ASSERT_FALSE(notice_id.empty()) << "the PA files routed no notice";
  const fs::path screenshots = e2e / "screenshots";
  fs::remove_all(screenshots);
  std::vector<std::string> env_args{"TSUNAGU_URL=" + hub.url(),
                                    "TSUNAGU_SERVER_CERT=" + (hub.tls() / "server.crt").string(),
                                    "TSUNAGU_PASSWORD=" + std::string(WebInstance::kPassword),
                                    "TSUNAGU_NOTICE_ID=" + notice_id,
                                    "TSUNAGU_E2E_MODULES=" + e2e.string(),
                                    "TSUNAGU_SCREENSHOTS=" + screenshots.string(),
                                    "TSUNAGU_CHROMIUM=" + chromium,
                                    node,
                                    (kSourceDir / "tests" / "e2e" / "web.e2e.mjs").string()};
  // env(1) sets the variables for node only; HOME for chromium's profile is a temp dir.
  env_args.insert(env_args.begin(), "HOME=" + hub.dir().path().string());
  std::string out;
  const int rc = run_program("env", env_args, "", out);
  std::cout << out;
  EXPECT_EQ(rc, 0) << "browser scenarios failed; screenshots in " << screenshots.string();
  for (const char* shot :
       {"01-liaison-inbox.png", "02-notice-detail.png", "03-notice-acknowledged.png",
        "04-other-ward-404.png", "06-audit-notice.png"}) {
    EXPECT_TRUE(fs::exists(screenshots / shot)) << shot;
  }
}

}  // namespace
