// nurseryd: the only place that knows every part; it wires them together.
//
// Exit codes (sysexits.h): 0 clean stop, 64 bad command line, 78 config error,
// 73 the state database cannot be opened, 71 the control socket cannot be
// created, 75 another nurseryd is using the state directory.

#include <fmt/format.h>
#include <sysexits.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "daemon/clock.hpp"
#include "daemon/hub.hpp"
#include "daemon/hub_events.hpp"
#include "daemon/log.hpp"
#include "daemon/scheduler/scheduler.hpp"
#include "daemon/store/state_lock.hpp"
#include "daemon/store/store.hpp"
#include "daemon/systemd_notifier.hpp"
#include "daemon/version.hpp"
#include "plugins/ble_scan.hpp"
#include "plugins/registry.hpp"
#include "plugins/simulated/simulated.hpp"
#include "web/control_server.hpp"
#ifdef NURSERY_WITH_MQTT
#include "mqtt/bridge/bridge.hpp"
#include "mqtt/bridge/client_options.hpp"
#include "mqtt/client.hpp"
#endif
#ifdef NURSERY_BLE
#include "ble/ble_manager.hpp"
#endif

namespace fs = std::filesystem;
using namespace nursery;

namespace {

// How long SIGTERM waits for the devices to take their last command.
constexpr Duration kShutdownDeadline = std::chrono::seconds(3);

struct Options {
  fs::path config;
  fs::path state_dir;
  fs::path runtime_dir;
  std::optional<fs::path> socket;
  double time_scale = 1.0;
  bool demo = false;
  bool check_config = false;
  bool verbose = false;
  bool help = false;
  bool version = false;
};

fs::path env_dir(const char* var, const char* fallback) {
  const char* v = std::getenv(var);
  // systemd may pass several directories separated by ':'; the first is ours.
  if (v && *v) return fs::path(std::string(v).substr(0, std::string(v).find(':')));
  return fallback;
}

// Every option, once: the table drives both parsing and --help.
struct OptionSpec {
  std::string_view name;
  std::string_view value;  // the metavariable; empty for a flag
  std::string_view help;
  // Applies the option; returns an error message for a bad value.
  std::optional<std::string> (*apply)(Options&, const std::string&);
};

std::optional<std::string> parse_scale(Options& o, const std::string& v) {
  char* end = nullptr;
  o.time_scale = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !(o.time_scale >= 1.0 && o.time_scale <= 10000.0))
    return "--time-scale must be a number from 1 to 10000, got \"" + v + "\"";
  return std::nullopt;
}

constexpr OptionSpec kOptionSpecs[] = {
    {"--config", "FILE",
     "configuration (default: $CONFIGURATION_DIRECTORY/nurseryd.toml, else "
     "/etc/nurseryd/nurseryd.toml)",
     [](Options& o, const std::string& v) -> std::optional<std::string> {
       o.config = v;
       return std::nullopt;
     }},
    {"--state-dir", "DIR",
     "where the database lives (default: $STATE_DIRECTORY, else /var/lib/nurseryd)",
     [](Options& o, const std::string& v) -> std::optional<std::string> {
       o.state_dir = v;
       return std::nullopt;
     }},
    {"--runtime-dir", "DIR",
     "where the control socket lives (default: $RUNTIME_DIRECTORY, else /run/nurseryd)",
     [](Options& o, const std::string& v) -> std::optional<std::string> {
       o.runtime_dir = v;
       return std::nullopt;
     }},
    {"--socket", "PATH", "control socket (default: RUNTIME_DIR/control.sock)",
     [](Options& o, const std::string& v) -> std::optional<std::string> {
       o.socket = fs::path(v);
       return std::nullopt;
     }},
    {"--time-scale", "N", "run time N times faster (demos; default 1)", parse_scale},
    {"--demo", "", "start each room's default routine now and exit when all end",
     [](Options& o, const std::string&) -> std::optional<std::string> {
       o.demo = true;
       return std::nullopt;
     }},
    {"--check-config", "",
     "check the configuration, print problems as FILE:LINE:COL, exit 0 when usable, 78 when not",
     [](Options& o, const std::string&) -> std::optional<std::string> {
       o.check_config = true;
       return std::nullopt;
     }},
    {"--verbose", "", "log debug lines too",
     [](Options& o, const std::string&) -> std::optional<std::string> {
       o.verbose = true;
       return std::nullopt;
     }},
    {"--version", "", "print the version",
     [](Options& o, const std::string&) -> std::optional<std::string> {
       o.version = true;
       return std::nullopt;
     }},
    {"--help", "", "print this help",
     [](Options& o, const std::string&) -> std::optional<std::string> {
       o.help = true;
       return std::nullopt;
     }},
};

std::string usage() {
  constexpr std::size_t kIndent = 21, kWidth = 80;
  std::string out =
      "Usage: nurseryd [OPTION]...\n"
      "Run the nursery hub: routines, safety limits and the sleep log for the devices in\n"
      "the configuration.\n\n";
  for (const auto& spec : kOptionSpecs) {
    std::string line =
        fmt::format("  {}{}{}", spec.name, spec.value.empty() ? "" : " ", spec.value);
    line.resize(kIndent, ' ');
    // The help, wrapped at word boundaries under its column.
    std::string_view help = spec.help;
    std::size_t column = kIndent;
    while (!help.empty()) {
      const auto space = help.find(' ');
      const auto word = help.substr(0, space);
      if (column > kIndent && column + 1 + word.size() > kWidth) {
        out += line + "\n";
        line.assign(kIndent, ' ');
        column = kIndent;
      } else if (column > kIndent) {
        line += ' ';
        ++column;
      }
      line += word;
      column += word.size();
      help = space == std::string_view::npos ? std::string_view{} : help.substr(space + 1);
    }
    out += line + "\n";
  }
  return out;
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
    std::string name = args[i] == "-h" ? "--help" : args[i];
    auto spec = std::find_if(std::begin(kOptionSpecs), std::end(kOptionSpecs),
                             [&](const OptionSpec& s) { return s.name == name; });
    if (spec == std::end(kOptionSpecs)) return fail("unknown option \"" + args[i] + "\"");
    std::string value;
    if (!spec->value.empty()) {
      if (i + 1 >= args.size()) return fail(name + " needs a value");
      value = args[++i];
    }
    if (auto problem = spec->apply(o, value)) return fail(*problem);
  }
  if (o.help) {
    std::cout << usage();
    exit_code = 0;
    return std::nullopt;
  }
  if (o.version) {
    std::cout << "nurseryd " << kVersion << "\n";
    exit_code = 0;
    return std::nullopt;
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
  if (result.config && result.config->mqtt) {
    // The broker's URI and the client's own limits are the MQTT client's to
    // check: a config it would refuse is refused here, at start.
#ifdef NURSERY_WITH_MQTT
    if (auto o = mqtt::bridge::client_options(*result.config->mqtt); !o) {
      if (to_stderr)
        std::cerr << o.error().message << "\n";
      else
        log.error("{}", o.error().message);
      return std::nullopt;
    }
#else
    const auto where = result.config->mqtt->where.to_string();
    if (to_stderr)
      std::cerr << where << ": warning: this nurseryd is built without MQTT; [mqtt] is ignored\n";
    else
      log.warning("{}: this nurseryd is built without MQTT; [mqtt] is ignored", where);
#endif
  }
  return std::move(result.config);
}

// The control server keeps one HubApi for its life; the hub behind it
// exists only once the store is open.
class CurrentHub final : public HubApi {
 public:
  Hub* hub = nullptr;
  HubStatus status() const override { return hub->status(); }
  Expected<RoutineStatus> routine(std::string_view room, const RoutineRequest& r) override {
    return hub->routine(room, r);
  }
  Expected<std::vector<RunRecord>> runs(const RunQuery& query) const override {
    return hub->runs(query);
  }
  Expected<CommandResult> set_device(std::string_view room, std::string_view device,
                                     const DeviceRequest& r) override {
    return hub->set_device(room, device, r);
  }
  // BLE scans are the plugins' (they know which driver takes what).
  plugins::BleScanner* scanner = nullptr;
  Expected<BleScanStatus> start_ble_scan(std::chrono::seconds d) override {
    return scanner ? scanner->start(d) : HubApi::start_ble_scan(d);
  }
  Expected<BleScanStatus> ble_scan() const override {
    return scanner ? scanner->last() : HubApi::ble_scan();
  }
  // Schedules are the scheduler's.
  Scheduler* scheduler = nullptr;
  Expected<std::vector<schedule::Schedule>> schedules(std::string_view room) const override {
    return scheduler->schedules(room);
  }
  Expected<std::vector<schedule::Schedule>> set_schedules(
      std::string_view room, std::vector<schedule::Schedule> list) override {
    return scheduler->set_schedules(room, std::move(list));
  }
  Expected<schedule::Plan> next_triggers(std::string_view room, std::optional<TimePoint> from,
                                         std::size_t count) const override {
    return scheduler->next_triggers(room, from, count);
  }
  Expected<schedule::SunDay> sun(std::optional<date::year_month_day> day) const override {
    return scheduler->sun(day);
  }
  Expected<SleepEntry> add_sleep_entry(const SleepEntryRequest& r) override {
    auto entry = hub->add_sleep_entry(r);
    // A wake-up moves the room's wake-window trigger at once.
    if (entry && entry->kind == SleepKind::Awake && scheduler) scheduler->replan(entry->room);
    return entry;
  }
  Expected<SleepLogData> sleep_log(const SleepLogQuery& query) const override {
    return hub->sleep_log(query);
  }
};

class Daemon {
 public:
  Daemon(Options options, LogSink& sink)
      : options_(std::move(options)),
        log_(sink, "nurseryd"),
        sink_(sink),
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
    // Time starts no earlier than the latest time stored: a restart with
    // --time-scale, or a Pi whose clock is still stale after a reboot,
    // never writes times older than those it wrote before.
    TimePoint not_before{};
    if (auto latest = store_->latest_time(); latest && *latest) not_before = **latest;
    clock_ = std::make_unique<LoopClock>(io_, options_.time_scale, not_before);
    clock_->watch_system_clock();
    world_ = std::make_unique<plugins::simulated::World>(*clock_);
    environment_.simulated_world = world_.get();
    start_ble();
#ifdef NURSERY_WITH_MQTT
    // The client exists before the hub, so that MQTT drivers get it from
    // DeviceHost::pubsub() as they start; it connects once everything is up.
    std::optional<config::MqttConfig> mqtt_settings = cfg->mqtt;
    if (mqtt_settings) {
      auto o = mqtt::bridge::client_options(*mqtt_settings);
      if (!o) {  // checked by load_config already
        log_.error("{}", o.error().message);
        return EX_CONFIG;
      }
      mqtt_ = std::make_unique<mqtt::Client>(io_, log_.child("mqtt"), std::move(*o));
      services_.pubsub = mqtt_.get();
    }
#endif
    hub_ = std::make_unique<Hub>(
        *clock_, *store_, sink_, events_,
        [this](const config::DeviceConfig& c, DeviceHost& host) {
          return plugins::create_device(c, host, environment_);
        },
        services_);
    events_subscription_ = events_.subscribe([this](const HubEvent&) { on_hub_change(); });
    hub_->start(std::move(*cfg));
    current_.hub = hub_.get();
#ifdef NURSERY_WITH_MQTT
    if (mqtt_) {
      bridge_ = std::make_unique<mqtt::bridge::Bridge>(
          *clock_, *mqtt_, *hub_, events_,
          [this]() -> const config::Config& { return hub_->config(); }, *mqtt_settings,
          log_.child("mqtt"));
      mqtt_->start();
    }
#endif
    // The scheduler starts routines through the same Hub API as the surfaces.
    scheduler_ = std::make_unique<Scheduler>(
        *clock_, current_, *store_, log_.child("scheduler"),
        [this](const std::string& room, std::optional<NextTrigger> next) {
          hub_->set_next_trigger(room, std::move(next));
          on_hub_change();
        });
    current_.scheduler = scheduler_.get();
    scheduler_->start(hub_->config());
    signals_.async_wait(
        [this](const boost::system::error_code& ec, int sig) { on_signal(ec, sig); });
    const auto ms =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count() /
        1000.0;
    log_.notice("ready in {:.1f} ms: {} room(s), {} device(s), control socket {}{}", ms,
                hub_->config().rooms.size(), hub_->config().devices.size(), socket.string(),
                options_.time_scale != 1.0 ? fmt::format(", time x{}", options_.time_scale) : "");
    notifier_.ready(hub_->summary());
    notifier_.start_watchdog();
    if (options_.demo) start_demo();
    io_.run();
#ifdef NURSERY_WITH_MQTT
    bridge_.reset();
#endif
    scheduler_.reset();
    hub_.reset();
#ifdef NURSERY_WITH_MQTT
    mqtt_.reset();  // after the hub: its MQTT drivers hold subscriptions
#endif
    return exit_code_;
  }

 private:
  // BLE: the manager on the system bus (DBUS_SYSTEM_BUS_ADDRESS, as tests
  // set it), driven by this loop. It is created even with no BLE device
  // configured (it only watches org.bluez until a driver asks for a device),
  // so that a reload adding one, and `nurseryctl ble scan`, find it. No
  // BlueZ, no adapter or no permission is one warning line from the
  // manager; BLE devices are unavailable with that reason, and BlueZ
  // appearing later is picked up without a restart.
  void start_ble() {
#ifdef NURSERY_BLE
    ble_ = std::make_unique<ble::BleManager>(io_, log_.child("ble"));
    services_.ble = ble_.get();
#endif
    scanner_ = std::make_unique<plugins::BleScanner>(services_.ble, *clock_);
    current_.scanner = scanner_.get();
  }

  void on_hub_change() {
    if (stopping_) return;
    // STATUS= when what it says changes, not on every event.
    if (auto summary = hub_->summary(); summary != last_status_) {
      notifier_.status(summary);
      last_status_ = std::move(summary);
    }
    if (options_.demo && demo_started_ && !hub_->any_routine_active())
      boost::asio::post(io_, [this] { finish_demo(); });
  }

  void start_demo() {
    for (const auto& room : hub_->config().rooms) {
      auto r = hub_->routine(
          room.id, RoutineRequest{RoutineAction::Start, std::nullopt, CommandSource::Control});
      if (!r) log_.warning("{}: {}", room.name, r.error().message);
    }
    demo_started_ = true;
    on_hub_change();
  }

  void finish_demo() {
    if (stopping_) return;
    if (auto runs = hub_->runs(RunQuery{.limit = 5})) {
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
#ifdef NURSERY_WITH_MQTT
    // Compared with what runs (a reload never applies [mqtt]), so that the
    // warning stays until the restart.
    const std::optional<config::MqttConfig> running =
        bridge_ ? std::optional(bridge_->settings()) : std::nullopt;
    if (!mqtt::bridge::same_client_settings(running, cfg->mqtt))
      log_.warning("[mqtt] changed: the new settings take effect at the next restart");
#endif
    hub_->reload(std::move(*cfg));  // the policy is the hub's: see Hub::reload
    scheduler_->reload(hub_->config());
    log_.notice("reloaded: {}", hub_->summary());
    notifier_.ready(hub_->summary());
  }

  void stop() {
    if (stopping_) return;
    stopping_ = true;
    notifier_.stopping();
    server_.close();
    signals_.cancel();
    current_.hub = nullptr;
    current_.scheduler = nullptr;
    scheduler_.reset();  // no scheduled start while the devices are made safe
    if (!hub_) {
      io_.stop();
      return;
    }
    hub_->shutdown(kShutdownDeadline, [this] {
      if (auto st = store_->checkpoint(); !st) log_.warning("{}", st.error().message);
#ifdef NURSERY_WITH_MQTT
      // After the devices' last commands (MQTT ones among them): what is
      // queued goes out, then the retained "offline", then a clean disconnect.
      if (mqtt_) {
        mqtt_->stop([this] { io_.stop(); });
        return;
      }
#endif
      io_.stop();
    });
  }

  Options options_;
  Logger log_;
  LogSink& sink_;
  boost::asio::io_context io_{1};
  SystemdNotifier notifier_;
  boost::asio::signal_set signals_;
  CurrentHub current_;
  ControlServer server_;
  HubEvents events_;
  Subscription events_subscription_;
  std::optional<StateLock> state_lock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<LoopClock> clock_;
  std::unique_ptr<plugins::simulated::World> world_;
  plugins::PluginEnvironment environment_;
#ifdef NURSERY_WITH_MQTT
  std::unique_ptr<mqtt::Client> mqtt_;  // the hub's PubSub service
#endif
#ifdef NURSERY_BLE
  std::unique_ptr<ble::BleManager> ble_;  // outlives the hub, whose devices hold its handles
#endif
  DeviceServices services_;
  std::unique_ptr<plugins::BleScanner> scanner_;
  std::unique_ptr<Hub> hub_;
#ifdef NURSERY_WITH_MQTT
  std::unique_ptr<mqtt::bridge::Bridge> bridge_;  // the hub's topics; after hub_
#endif
  std::unique_ptr<Scheduler> scheduler_;
  std::string last_status_;
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
