// nurseryd: the only place that knows every part; it wires them together.
//
// Exit codes (sysexits.h): 0 clean stop, 64 bad command line, 78 config error,
// 73 the state database cannot be opened, 71 the control socket cannot be
// created, 75 another nurseryd is using the state directory.

#include <sysexits.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "config/loader.hpp"
#include "daemon/clock.hpp"
#include "daemon/hub.hpp"
#include "daemon/log.hpp"
#include "daemon/store/state_lock.hpp"
#include "daemon/store/store.hpp"
#include "daemon/systemd_notifier.hpp"
#include "daemon/version.hpp"
#include "plugins/registry.hpp"
#include "web/control_server.hpp"

namespace fs = std::filesystem;
using namespace nursery;

namespace {

constexpr const char* kUsage = R"(Usage: nurseryd [OPTION]...
Run the nursery hub: routines, safety limits and the sleep log for the devices in
the configuration.

  --config FILE      configuration (default: $CONFIGURATION_DIRECTORY/nurseryd.toml,
                     else /etc/nurseryd/nurseryd.toml)
  --state-dir DIR    where the database lives (default: $STATE_DIRECTORY,
                     else /var/lib/nurseryd)
  --runtime-dir DIR  where the control socket lives (default: $RUNTIME_DIRECTORY,
                     else /run/nurseryd)
  --socket PATH      control socket (default: RUNTIME_DIR/control.sock)
  --time-scale N     run time N times faster (demos; default 1)
  --demo             start each room's default routine now and exit when all end
  --check-config     check the configuration, print problems as FILE:LINE:COL, exit
                     0 when usable, 78 when not
  --verbose          log debug lines too
  --version          print the version
  --help             print this help
)";

struct Options {
  fs::path config;
  fs::path state_dir;
  fs::path runtime_dir;
  std::optional<fs::path> socket;
  double time_scale = 1.0;
  bool demo = false;
  bool check_config = false;
  bool verbose = false;
};

fs::path env_dir(const char* var, const char* fallback) {
  const char* v = std::getenv(var);
  // systemd may pass several directories separated by ':'; the first is ours.
  if (v && *v) return fs::path(std::string(v).substr(0, std::string(v).find(':')));
  return fallback;
}

std::optional<Options> parse_args(int argc, char** argv, int& exit_code) {
  Options o;
  o.config = env_dir("CONFIGURATION_DIRECTORY", "/etc/nurseryd") / "nurseryd.toml";
  o.state_dir = env_dir("STATE_DIRECTORY", "/var/lib/nurseryd");
  o.runtime_dir = env_dir("RUNTIME_DIRECTORY", "/run/nurseryd");
  std::vector<std::string> args(argv + 1, argv + argc);
  auto fail = [&](std::string message) -> std::optional<Options> {
    std::cerr << "nurseryd: " << message << "\nTry 'nurseryd --help'.\n";
    exit_code = EX_USAGE;
    return std::nullopt;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      exit_code = 0;
      return std::nullopt;
    } else if (a == "--version") {
      std::cout << "nurseryd " << kVersion << "\n";
      exit_code = 0;
      return std::nullopt;
    } else if (a == "--check-config") {
      o.check_config = true;
    } else if (a == "--demo") {
      o.demo = true;
    } else if (a == "--verbose") {
      o.verbose = true;
    } else if (a == "--config" || a == "--state-dir" || a == "--runtime-dir" || a == "--socket" ||
               a == "--time-scale") {
      auto v = value();
      if (!v) return fail(a + " needs a value");
      if (a == "--config") o.config = *v;
      if (a == "--state-dir") o.state_dir = *v;
      if (a == "--runtime-dir") o.runtime_dir = *v;
      if (a == "--socket") o.socket = fs::path(*v);
      if (a == "--time-scale") {
        char* end = nullptr;
        o.time_scale = std::strtod(v->c_str(), &end);
        if (end == v->c_str() || *end != '\0' || !(o.time_scale >= 1.0 && o.time_scale <= 10000.0))
          return fail("--time-scale must be a number from 1 to 10000, got \"" + *v + "\"");
      }
    } else {
      return fail("unknown option \"" + a + "\"");
    }
  }
  return o;
}

// Prints every diagnostic; returns the config when it has no error.
std::optional<config::Config> load_config(const fs::path& file, Logger& log, bool to_stderr) {
  auto result = config::load_file(file, plugins::catalog());
  for (const auto& d : result.diagnostics) {
    if (to_stderr)
      std::cerr << d.to_string() << "\n";
    else if (d.severity == config::Diagnostic::Severity::Error)
      log.error("{}", d.to_string());
    else
      log.warning("{}", d.to_string());
  }
  return std::move(result.config);
}

// The control server keeps one HubApi for its life; a reload replaces the
// Hub behind it.
class CurrentHub final : public HubApi {
 public:
  Hub* hub = nullptr;
  HubStatus status() const override { return hub->status(); }
  Expected<RoutineStatus> routine(std::string_view room, const RoutineRequest& r) override {
    return hub->routine(room, r);
  }
  Expected<std::vector<RunRecord>> runs(std::size_t limit) const override {
    return hub->runs(limit);
  }
  Expected<CommandResult> set_device(std::string_view room, std::string_view device,
                                     const DeviceCommand& c) override {
    return hub->set_device(room, device, c);
  }
};

class Daemon {
 public:
  Daemon(Options options, LogSink& sink)
      : options_(std::move(options)),
        log_(sink, "nurseryd"),
        sink_(sink),
        clock_(io_, options_.time_scale),
        notifier_(io_),
        signals_(io_, SIGTERM, SIGINT, SIGHUP),
        server_(io_, current_, log_.child("control")) {}

  int run() {
    const auto t0 = std::chrono::steady_clock::now();
    auto cfg = load_config(options_.config, log_, true);
    if (!cfg) {
      log_.error("{}: the configuration has errors; not starting", options_.config.string());
      return EX_CONFIG;
    }
    // The socket first: it is how a second nurseryd finds the one already
    // running, and it must give up before it resumes that one's runs on the
    // same devices (and switches them off as it exits). Nothing is served
    // before io_.run(), by which time the hub exists.
    const fs::path socket = options_.socket.value_or(options_.runtime_dir / "control.sock");
    if (auto st = server_.listen(socket); !st) {
      log_.error("{}", st.error().message);
      return EX_OSERR;
    }
    auto lock = StateLock::acquire(options_.state_dir);
    if (!lock) {
      log_.error("{}", lock.error().message);
      server_.close();
      return lock.error().code == "state_dir_in_use" ? EX_TEMPFAIL : EX_CANTCREAT;
    }
    state_lock_.emplace(std::move(*lock));
    const fs::path db = options_.state_dir / "nurseryd.db";
    auto store = SqliteStore::open(db);
    if (!store) {
      log_.error("{}", store.error().message);
      server_.close();
      return EX_CANTCREAT;
    }
    store_ = std::move(*store);
    if (!start_hub(std::move(*cfg))) {
      server_.close();
      return EX_CONFIG;
    }
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) { on_signal(ec, sig); });
    const auto ms = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - t0).count() / 1000.0;
    log_.notice("ready in {:.1f} ms: {} room(s), {} device(s), control socket {}{}", ms,
                hub_->config().rooms.size(), hub_->config().devices.size(), socket.string(),
                options_.time_scale != 1.0 ? fmt::format(", time x{}", options_.time_scale) : "");
    notifier_.ready(hub_->summary());
    notifier_.start_watchdog();
    if (options_.demo) start_demo();
    io_.run();
    return exit_code_;
  }

 private:
  bool start_hub(config::Config cfg) {
    auto hub = Hub::create(std::move(cfg), clock_, *store_, sink_, plugins::create_device);
    if (!hub) {
      log_.error("{}", hub.error().message);
      return false;
    }
    hub_ = std::move(*hub);
    current_.hub = hub_.get();
    hub_->on_change([this] { on_hub_change(); });
    hub_->recover();
    return true;
  }

  void on_hub_change() {
    notifier_.status(hub_->summary());
    if (options_.demo && demo_started_ && !hub_->any_routine_active())
      boost::asio::post(io_, [this] { finish_demo(); });
  }

  void start_demo() {
    for (const auto& room : hub_->config().rooms) {
      auto r = hub_->routine(room.id, RoutineRequest{RoutineAction::Start, std::nullopt});
      if (!r) log_.warning("{}: {}", room.name, r.error().message);
    }
    demo_started_ = true;
    on_hub_change();
  }

  void finish_demo() {
    if (stopping_) return;
    if (auto runs = hub_->runs(5)) {
      log_.notice("stored runs, newest first:");
      for (const auto& run : *runs)
        log_.notice("  {} {}: started {}, ended {}, {}", run.room, run.routine,
                    hub_->local_time(run.started_at),
                    run.ended_at ? hub_->local_time(*run.ended_at) : "-",
                    run.outcome ? outcome_name(*run.outcome) : "running");
    }
    stop();
  }

  void on_signal(const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
      signals_.async_wait([this](const boost::system::error_code& e, int s) { on_signal(e, s); });
      return;
    }
    log_.notice("{} received: leaving every device safe and stopping",
                sig == SIGTERM ? "SIGTERM" : "SIGINT");
    stop();
  }

  void reload() {
    notifier_.reloading();
    log_.notice("reloading {}", options_.config.string());
    auto cfg = load_config(options_.config, log_, false);
    if (!cfg) {
      log_.error("the new configuration has errors; keeping the one that is running");
      notifier_.ready(hub_->summary());
      return;
    }
    // Devices are re-created from the new config and runs are recomputed from
    // the store exactly as after a restart, but a massage that goes on is not
    // interrupted: the old hub lets go without switching anything off, and
    // the new one switches off only what its routines do not keep on.
    config::Config running = hub_->config();
    const auto massagers_on = hub_->release();
    hub_.reset();
    if (!start_hub(std::move(*cfg))) {
      log_.error("the new configuration could not be applied; going back to the running one");
      if (!start_hub(std::move(running))) {
        current_.hub = nullptr;
        exit_code_ = EX_SOFTWARE;
        stop();
        return;
      }
    }
    hub_->settle_massagers(massagers_on);
    log_.notice("reloaded: {}", hub_->summary());
    notifier_.ready(hub_->summary());
  }

  void stop() {
    if (stopping_) return;
    stopping_ = true;
    notifier_.stopping();
    if (hub_) hub_->shutdown();
    server_.close();
    signals_.cancel();
    if (auto st = store_->checkpoint(); !st) log_.warning("{}", st.error().message);
    io_.stop();
  }

  Options options_;
  Logger log_;
  LogSink& sink_;
  boost::asio::io_context io_{1};
  LoopClock clock_;
  SystemdNotifier notifier_;
  boost::asio::signal_set signals_;
  CurrentHub current_;
  ControlServer server_;
  std::optional<StateLock> state_lock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Hub> hub_;
  bool demo_started_ = false;
  bool stopping_ = false;
  int exit_code_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  auto options = parse_args(argc, argv, exit_code);
  if (!options) return exit_code;
  StderrSink sink(options->verbose ? LogLevel::Debug : LogLevel::Info);
  if (options->check_config) {
    Logger log(sink, "nurseryd");
    auto cfg = load_config(options->config, log, true);
    if (!cfg) return EX_CONFIG;
    std::cerr << options->config.string() << ": configuration is valid\n";
    return 0;
  }
  Daemon daemon(std::move(*options), sink);
  return daemon.run();
}
