// Account administration. Every change is an audit entry (user.created, user.changed) written in
// the same transaction, with the OS user running the CLI as the actor. Passwords are read from
// the terminal without echo (asked twice), or as the first line of standard input when it is not
// a terminal (scripts, tests); they never appear on the command line, where `ps` would show them.
#include "cli/user_commands.hpp"

#include <termios.h>
#include <unistd.h>

#include <iomanip>
#include <iostream>

#include "cli/cli_support.hpp"
#include "hub/hub.hpp"
#include "web/accounts.hpp"

namespace tsunagu::cli {
namespace {

std::string read_line_from_stdin() {
  std::string line;
  if (!std::getline(std::cin, line)) throw std::invalid_argument("no password on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::string prompt_without_echo(const char* prompt) {
  std::cerr << prompt << std::flush;
  termios before{};
  tcgetattr(STDIN_FILENO, &before);
  termios silent = before;
  silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &silent);
  std::string line;
  const bool ok = static_cast<bool>(std::getline(std::cin, line));
  tcsetattr(STDIN_FILENO, TCSANOW, &before);
  std::cerr << "\n";
  if (!ok) throw std::invalid_argument("no password entered");
  return line;
}

std::string read_new_password() {
  if (isatty(STDIN_FILENO) == 0) return read_line_from_stdin();
  std::string first = prompt_without_echo("新しいパスワード (new password, 12+ characters): ");
  const std::string second = prompt_without_echo("もう一度 (again): ");
  if (first != second) throw std::invalid_argument("the two passwords differ; nothing changed");
  return first;
}

struct AccountSession {
  explicit AccountSession(const runtime::CommonOptions& options)
      : config(runtime::load_config(options)) {
    std::filesystem::create_directories(config.sqlite.file.parent_path());
    store = open_store(config);
    log = std::make_unique<audit::AuditLog>(*store);
    accounts = std::make_unique<web::Accounts>(*store, *log);
  }
  config::HubConfig config;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> log;
  std::unique_ptr<web::Accounts> accounts;
};

std::string one_login(const ParsedArgs& p, const char* usage) {
  if (p.positional.size() != 1) throw std::invalid_argument(std::string("usage: ") + usage);
  return p.positional[0];
}

int run_checked(const std::function<void()>& f) {
  try {
    f();
  } catch (const web::AccountError& e) {
    std::cerr << "NG  " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int user_add(const runtime::CommonOptions& options, const Args& args) {
  const char* usage = "user add <login> --role ROLE [--officer ID] [--ward CODE]";
  const auto p = parse(args, {"role", "officer", "ward"});
  web::NewAccount a;
  a.login = one_login(p, usage);
  if (!p.has("role")) throw std::invalid_argument(std::string("usage: ") + usage);
  const auto role = web::role_from_string(p.get("role"));
  if (!role) {
    throw std::invalid_argument("--role takes one of " + web::role_names() + ", not '" +
                                p.get("role") + "'");
  }
  a.role = *role;
  a.officer_id = p.get("officer");
  a.ward_code = p.get("ward");
  quiet_logging();
  AccountSession s(options);
  if (s.accounts->find(a.login)) {
    std::cerr << "NG  login '" << a.login << "' already exists\n";
    return kExitFailure;
  }
  const std::string password = read_new_password();
  return run_checked([&] {
    const auto created = s.accounts->create(a, password, cli_actor());
    std::cout << "アカウントを作成しました (created): " << created.login << " ("
              << web::to_string(created.role) << ")\n";
  });
}

int user_passwd(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {});
  const std::string login = one_login(p, "user passwd <login>");
  quiet_logging();
  AccountSession s(options);
  if (!s.accounts->find(login)) {
    std::cerr << "NG  no account '" << login << "'\n";
    return kExitFailure;
  }
  const std::string password = read_new_password();
  return run_checked([&] {
    s.accounts->set_password(login, password, cli_actor());
    std::cout << "パスワードを変更しました (changed); the account's sessions have ended: " << login
              << "\n";
  });
}

namespace {
int set_disabled(const runtime::CommonOptions& options, const Args& args, bool disabled) {
  const auto p = parse(args, {});
  const std::string login = one_login(p, disabled ? "user disable <login>" : "user enable <login>");
  quiet_logging();
  AccountSession s(options);
  return run_checked([&] {
    s.accounts->set_disabled(login, disabled, cli_actor());
    std::cout << (disabled ? "無効にしました (disabled; its sessions have ended): "
                           : "有効にしました (enabled): ")
              << login << "\n";
  });
}
}  // namespace

int user_disable(const runtime::CommonOptions& options, const Args& args) {
  return set_disabled(options, args, true);
}

int user_enable(const runtime::CommonOptions& options, const Args& args) {
  return set_disabled(options, args, false);
}

int user_list(const runtime::CommonOptions& options, const Args& args) {
  parse(args, {});
  quiet_logging();
  AccountSession s(options);
  const auto accounts = s.accounts->list();
  std::cout << std::left << std::setw(24) << "login" << std::setw(18) << "role" << std::setw(22)
            << "officer" << std::setw(8) << "ward" << std::setw(10) << "status"
            << "since\n";
  for (const auto& a : accounts) {
    std::cout << std::left << std::setw(24) << a.login << std::setw(18) << web::to_string(a.role)
              << std::setw(22) << (a.officer_id.empty() ? "-" : a.officer_id) << std::setw(8)
              << (a.ward_code.empty() ? "-" : a.ward_code) << std::setw(10)
              << (a.disabled ? "disabled" : "active") << a.created_at << "\n";
  }
  std::cout << "アカウント (accounts): " << accounts.size() << " 件\n";
  return kExitOk;
}

int user_token(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {"label", "days"});
  const std::string login = one_login(p, "user token <login> [--label TEXT] [--days N]");
  std::optional<std::chrono::days> days;
  if (p.has("days")) {
    int n = 0;
    try {
      n = std::stoi(p.get("days"));
    } catch (const std::exception&) {
      n = 0;
    }
    if (n < 1 || n > 3650) throw std::invalid_argument("--days takes 1 to 3650");
    days = std::chrono::days(n);
  }
  quiet_logging();
  AccountSession s(options);
  return run_checked([&] {
    const auto issued = s.accounts->create_api_token(login, p.get("label"), days, cli_actor());
    std::cerr << "API トークン " << issued.id << " for " << login
              << " (shown once; send it as 'Authorization: Bearer …'):\n";
    std::cout << issued.token << "\n";
  });
}

int user_token_revoke(const runtime::CommonOptions& options, const Args& args) {
  const auto p = parse(args, {});
  if (p.positional.size() != 1) throw std::invalid_argument("usage: user token-revoke <token id>");
  std::int64_t id = 0;
  try {
    id = std::stoll(p.positional[0]);
  } catch (const std::exception&) {
    throw std::invalid_argument("a token id is a number, not '" + p.positional[0] + "'");
  }
  quiet_logging();
  AccountSession s(options);
  return run_checked([&] {
    s.accounts->revoke_api_token(id, cli_actor());
    std::cout << "API トークン " << id << " を失効しました (revoked)\n";
  });
}

}  // namespace tsunagu::cli
