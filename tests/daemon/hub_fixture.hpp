#pragma once
// Whole hubs in virtual time, through the real hub, the real simulated
// plugin and a real (in-memory) SQLite store. The simulated devices' physical
// state lives in a World that outlives the hub, so "restarting" the hub (a
// new Hub on the same store) finds them as real hardware would be.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "daemon/hub.hpp"
#include "daemon/store/store.hpp"
#include "plugins/registry.hpp"
#include "plugins/simulated/simulated.hpp"

namespace nursery::testing {

using namespace std::chrono;
using namespace std::chrono_literals;
using plugins::simulated::SimulatedDevice;
using plugins::simulated::World;

// 19:00 London time (UTC in November) on a Thursday. The example config's
// child (born 2026-09-01) is 12 weeks old: 15-minute massage sessions.
inline const TimePoint kEvening =
    time_point_cast<milliseconds>(sys_days{year{2026} / 11 / 26} + 19h);

inline Level pct(double percent) { return Level::permille(static_cast<int>(percent * 10 + 0.5)); }

inline std::string example_config_text() {
  std::ifstream in(NURSERY_SOURCE_DIR "/config/nurseryd.toml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `text` with the first `from` replaced by `to` (which must be there).
inline std::string with(std::string text, std::string_view from, std::string_view to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "the config has no " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

inline config::Config load(const std::string& text) {
  auto r = config::load_string(text, "test.toml", plugins::catalog());
  for (const auto& d : r.diagnostics)
    if (d.severity == config::Diagnostic::Severity::Error) ADD_FAILURE() << d.to_string();
  return r.config ? *r.config : config::Config{};
}

// Where each simulated device was physically, over time.
class PhysicalLog {
 public:
  struct Entry {
    TimePoint at;
    DeviceValues state;
    plugins::simulated::Cause cause;
  };
  void add(const std::string& id, TimePoint at, const DeviceValues& state,
           plugins::simulated::Cause cause) {
    entries_[id].push_back({at, state, cause});
  }
  const std::vector<Entry>& of(const std::string& id) { return entries_[id]; }
  // How long capability `c` of `id` was on within [from, to).
  Duration on_time(const std::string& id, Capability c, TimePoint from, TimePoint to) {
    Duration total{0};
    bool on = false;
    TimePoint since = from;
    for (const auto& e : entries_[id]) {
      const bool now_on = e.state.is_on(c);
      if (now_on && !on) since = std::max(e.at, from);
      if (!now_on && on && e.at > from) total += std::min(e.at, to) - since;
      on = now_on;
      if (e.at >= to) break;
    }
    if (on && to > since) total += to - since;
    return total;
  }

 private:
  std::map<std::string, std::vector<Entry>> entries_;
};

// The store, with a switch that makes every write fail as a full disk does.
class FullableStore final : public RunStore {
 public:
  explicit FullableStore(RunStore& inner) : inner_(inner) {}
  bool full = false;

  Expected<std::int64_t> begin_run(const RunRecord& run) override {
    if (full) return refused();
    return inner_.begin_run(run);
  }
  Status update_run(const RunRecord& run) override {
    if (full) return refused();
    return inner_.update_run(run);
  }
  Status end_run(std::int64_t id, TimePoint ended_at, Outcome outcome) override {
    if (full) return refused();
    return inner_.end_run(id, ended_at, outcome);
  }
  Expected<std::vector<RunRecord>> open_runs() override { return inner_.open_runs(); }
  Expected<std::vector<RunRecord>> recent_runs(const RunQuery& f) override {
    return inner_.recent_runs(f);
  }
  Status add_event(const EventRecord& event) override {
    if (full) return refused();
    return inner_.add_event(event);
  }
  Expected<std::vector<EventRecord>> recent_events(std::size_t limit) override {
    return inner_.recent_events(limit);
  }
  Expected<std::int64_t> begin_usage(const UsageRecord& usage) override {
    if (full) return refused();
    return inner_.begin_usage(usage);
  }
  Status update_usage(const UsageRecord& usage) override {
    if (full) return refused();
    return inner_.update_usage(usage);
  }
  Expected<std::vector<UsageRecord>> usage_since(TimePoint since) override {
    return inner_.usage_since(since);
  }
  Expected<std::int64_t> add_sleep_entry(const SleepEntry& entry) override {
    if (full) return refused();
    return inner_.add_sleep_entry(entry);
  }
  Expected<std::vector<SleepEntry>> sleep_entries(const SleepQuery& query) override {
    return inner_.sleep_entries(query);
  }
  Expected<std::optional<SleepEntry>> last_wake_up(std::string_view room) override {
    return inner_.last_wake_up(room);
  }

 private:
  static Error refused() {
    return Error{"storage_full", "the hub's storage is full: free space on its SD card.", 507};
  }
  RunStore& inner_;
};

class HubFixture : public ::testing::Test {
 protected:
  HubFixture() {
    watch_ = world_.watch(
        [this](const std::string& id, const DeviceValues& state, plugins::simulated::Cause cause) {
          physical_.add(id, clock_.now(), state, cause);
        });
    events_watch_ = events_.subscribe([this](const HubEvent& e) { published_.push_back(e); });
  }

  // A new hub on the same store and world: a restart when one was running
  // (which dies without shutting down, as after kill -9).
  void start(const std::string& text = example_config_text()) {
    hub_.reset();
    hub_ = std::make_unique<Hub>(clock_, disk_, sink_, events_,
                                 [this](const config::DeviceConfig& c,
                                        DeviceHost& host) -> Expected<std::unique_ptr<Device>> {
                                   if (c.id == failing_device_)
                                     return Error{"driver_failed", "the driver refused it", 500};
                                   return plugins::create_device(c, host, environment_);
                                 });
    hub_->start(load(text));
    settle();
  }
  void reload(const std::string& text) {
    hub_->reload(load(text));
    settle();
  }
  void shutdown() {
    bool done = false;
    hub_->shutdown(3s, [&] { done = true; });
    settle();
    EXPECT_TRUE(done) << "shutdown finished";
  }
  // Runs what is due now (posted work, zero-latency answers).
  void settle() { clock_.advance(0ms); }

  SimulatedDevice& sim(std::string_view id) {
    return dynamic_cast<SimulatedDevice&>(*hub_->device(id));
  }
  // What the device physically has, whether the hub still holds it or not.
  const DeviceValues& physical(std::string_view id) {
    static const DeviceValues none;
    const World::Physical* p = world_.find(std::string(id));
    EXPECT_NE(p, nullptr) << "no simulated device " << id;
    return p ? p->state : none;
  }
  RoutineStatus routine(std::string_view room = "nursery") {
    for (const auto& r : hub_->status().rooms)
      if (r.id == room) return r.routine;
    ADD_FAILURE() << "no room " << room;
    return {};
  }
  DeviceStatus device_status(std::string_view id) {
    for (const auto& r : hub_->status().rooms)
      for (const auto& d : r.devices)
        if (d.id == id) return d;
    ADD_FAILURE() << "no device " << id;
    return {};
  }
  Expected<RoutineStatus> act(RoutineAction a, std::optional<std::string> routine = {},
                              std::string_view room = "nursery") {
    auto r = hub_->routine(room, RoutineRequest{a, std::move(routine), CommandSource::Control});
    settle();
    return r;
  }
  Expected<CommandResult> set(std::string_view device, DeviceValues values,
                              std::optional<bool> on = std::nullopt,
                              std::string_view room = "nursery") {
    auto r = hub_->set_device(room, device,
                              DeviceRequest{std::move(values), on, 0ms, CommandSource::Control});
    settle();
    return r;
  }
  std::vector<EventRecord> events(std::string_view kind) {
    std::vector<EventRecord> out;
    auto all = store_->recent_events(100000);
    for (auto& e : *all)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
  std::vector<RunRecord> runs() { return *hub_->runs(RunQuery{}); }
  template <typename E>
  std::vector<E> published() const {
    std::vector<E> out;
    for (const auto& e : published_)
      if (const E* x = std::get_if<E>(&e)) out.push_back(*x);
    return out;
  }

  ManualClock clock_{kEvening};
  MemorySink sink_;
  std::unique_ptr<SqliteStore> store_ = std::move(*SqliteStore::open(":memory:"));
  FullableStore disk_{*store_};
  plugins::simulated::World world_{clock_};
  plugins::PluginEnvironment environment_{&world_};
  PhysicalLog physical_;
  Subscription watch_;
  HubEvents events_;
  std::vector<HubEvent> published_;
  Subscription events_watch_;
  std::unique_ptr<Hub> hub_;
  std::string failing_device_;  // the factory refuses to create this one
};

}  // namespace nursery::testing
