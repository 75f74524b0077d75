#pragma once
// One room: its routine engine (with the holds of manual overrides) and
// whether it is night there. Night lasts from the start of a bedtime routine
// until a wake routine starts, or `night_window` at most.
// Thread: the loop thread. Never throws.

#include <memory>
#include <optional>
#include <vector>

#include "clock.hpp"
#include "config/model.hpp"
#include "engine.hpp"

namespace nursery {

class Room {
 public:
  Room(config::RoomConfig config, std::vector<Device*> devices, Clock& clock, RoutineHost& host,
       Logger log)
      : config_(std::move(config)),
        engine_(std::make_unique<RoutineEngine>(config_.id, std::move(devices), clock, host,
                                                std::move(log))) {}

  const config::RoomConfig& config() const { return config_; }
  const std::string& id() const { return config_.id; }
  RoutineEngine& engine() { return *engine_; }
  const RoutineEngine& engine() const { return *engine_; }

  bool night(TimePoint now, Duration window) const {
    return night_since_ && now >= *night_since_ && now < *night_since_ + window;
  }
  // A routine of this kind started at `started`.
  void routine_started(config::RoutineKind kind, TimePoint started) {
    if (kind == config::RoutineKind::Bedtime) night_since_ = started;
    if (kind == config::RoutineKind::Wake) night_since_.reset();
  }
  // When the current night began (the bedtime routine's start), if it is night.
  std::optional<TimePoint> night_since() const { return night_since_; }
  void shift(Duration by) {
    if (night_since_) *night_since_ += by;
    engine_->shift(by);
  }

 private:
  config::RoomConfig config_;
  std::unique_ptr<RoutineEngine> engine_;
  std::optional<TimePoint> night_since_;
};

}  // namespace nursery
