#include "hatch_rest.hpp"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "config/loader.hpp"

namespace nursery::plugins::hatch_rest {
namespace {

using ble_common::GattOp;
using ble_common::option;

constexpr config::DriverOptionSpec kOptions[] = {
    ble_common::kAddressOption,
    ble_common::kAdapterOption,
    {"sleep_timer", config::OptionType::Duration, false},
};

constexpr Duration kDefaultSleepTimer = std::chrono::hours(12);
constexpr std::int64_t kMaxSleepTimerSeconds = 0xffff;

struct Track {
  std::string_view name;
  int number;
};
// The first name of a number is the one reported back.
constexpr std::array kTracks = {
    Track{"none", 0},       Track{"stream", 2},    Track{"white-noise", 3}, Track{"noise", 3},
    Track{"pink-noise", 3}, Track{"dryer", 4},     Track{"ocean", 5},       Track{"wind", 6},
    Track{"rain", 7},       Track{"bird", 9},      Track{"crickets", 10},   Track{"brahms", 11},
    Track{"twinkle", 13},   Track{"rockabye", 14},
};

std::string track_names() {
  std::string out;
  for (const auto& t : kTracks) out += fmt::format("{}{}", out.empty() ? "" : ", ", t.name);
  return out;
}

std::optional<Duration> sleep_timer_of(const config::DeviceConfig& device) {
  const auto* v = option<std::string>(device, "sleep_timer");
  if (!v) return kDefaultSleepTimer;
  auto d = config::parse_duration(*v);
  if (!d || d->count() < 0 || d->count() > kMaxSleepTimerSeconds) return std::nullopt;
  return std::chrono::duration_cast<Duration>(*d);
}

std::vector<config::Diagnostic> validate(const config::DeviceConfig& device) {
  std::vector<config::Diagnostic> out;
  ble_common::validate_link(device, out);
  if (!sleep_timer_of(device))
    ble_common::error_at(device, "sleep_timer",
                         "sleep_timer must be a duration from \"0s\" (none) to \"18h\"", out);
  return out;
}

Capabilities capabilities(const config::DeviceConfig&) {
  return Capability::Light | Capability::Sound;
}

constexpr config::DriverSpec kSpec{"hatch-rest", kOptions, &validate, &capabilities};

Expected<std::unique_ptr<Device>> create(const config::DeviceConfig& config, DeviceHost& host,
                                         const PluginEnvironment&) {
  auto timer = sleep_timer_of(config);
  if (!timer)
    return Error{"invalid_config",
                 fmt::format("{}: sleep_timer out of range", config.where.to_string()), 500};
  return std::unique_ptr<Device>(std::make_unique<HatchRest>(config, host, *timer));
}

int byte_of(Level level) { return static_cast<int>(std::lround(level.permille() * 255 / 1000.0)); }
Level level_of(int byte) {
  return Level::permille(static_cast<int>(std::lround(byte * 1000.0 / 255)));
}

Bytes ascii(const std::string& text) { return Bytes(text.begin(), text.end()); }

GattOp command(std::string text, std::string what) {
  return GattOp{GattOp::Kind::Write, std::string(kTx), ascii(text), std::move(what), true};
}

// Seconds into the local day, from "HH:MM:SS".
std::optional<int> seconds_of_day(const std::string& hms) {
  int h = 0, m = 0, s = 0;
  if (std::sscanf(hms.c_str(), "%d:%d:%d", &h, &m, &s) != 3) return std::nullopt;
  return h * 3600 + m * 60 + s;
}

// Its services, Hatch's company id (1076), or its name.
bool recognises(const BleScanResult& seen) {
  const bool service =
      std::any_of(seen.service_uuids.begin(), seen.service_uuids.end(), [](const std::string& u) {
        return ble_common::same_uuid(u, kRestService) ||
               ble_common::same_uuid(u, kAdvertisingService);
      });
  const bool company = std::find(seen.manufacturer_ids.begin(), seen.manufacturer_ids.end(),
                                 kManufacturerId) != seen.manufacturer_ids.end();
  return service || company || seen.name.starts_with("Hatch Rest");
}

}  // namespace

const PluginDescriptor kDescriptor{kSpec, &create, &recognises};

Rgb rgb_of_kelvin(int kelvin) {
  // The usual black-body fit (T. Helland), in hundreds of kelvin.
  const double t = std::clamp(kelvin, 1000, 10000) / 100.0;
  auto clamp = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0))); };
  Rgb c;
  c.r = t <= 66 ? 255 : clamp(329.698727446 * std::pow(t - 60, -0.1332047592));
  c.g = t <= 66 ? clamp(99.4708025861 * std::log(t) - 161.1195681661)
                : clamp(288.1221695283 * std::pow(t - 60, -0.0755148492));
  c.b = t >= 66 ? 255 : t <= 19 ? 0 : clamp(138.5177312231 * std::log(t - 10) - 305.0447927307);
  return c;
}

std::optional<int> track_number(std::string_view name) {
  for (const auto& t : kTracks)
    if (t.name == name) return t.number;
  return std::nullopt;
}

std::optional<Feedback> parse_feedback(const Bytes& v) {
  if (v.size() != 20 || v[0] != 'T' || v[5] != 'C' || v[10] != 'S' || v[13] != 'P' || v[15] != 'e')
    return std::nullopt;
  Feedback f;
  f.color = Rgb{v[6], v[7], v[8]};
  f.brightness = v[9];
  f.track = v[11];
  f.volume = v[12];
  // Bits 7 and 6 are set while off; 5..0 name the favourite playing.
  f.power = (v[14] & 0xc0) == 0;
  return f;
}

HatchRest::HatchRest(const config::DeviceConfig& config, DeviceHost& host, Duration sleep_timer)
    : BleDriver(config, host, std::chrono::seconds(10)),
      sleep_timer_(sleep_timer),
      clock_alarm_(host.clock().make_alarm()) {
  // What it plays and shows until the hub says otherwise: amber and the
  // first noise, quiet (safety caps whatever the routines ask).
  wanted_.light_on = false;
  wanted_.sound_on = false;
  wanted_.brightness = Level::permille(100);
  wanted_.color_temp = 2200;
  wanted_.track = "white-noise";
  wanted_.volume = Level::permille(300);
}

bool HatchRest::power() const { return wanted_.light_on == true || wanted_.sound_on == true; }

Expected<std::vector<GattOp>> HatchRest::plan(const DeviceCommand& cmd) {
  const DeviceValues& v = cmd.values;
  if (v.track && !track_number(*v.track))
    return Error{
        "invalid_value",
        fmt::format("the Hatch Rest has no track \"{}\" (it has {})", *v.track, track_names()),
        400};
  const DeviceValues before = wanted_;
  const bool was_on = device_on_;
  wanted_.merge(v.only(capabilities()));
  std::vector<GattOp> ops;
  if (!power()) {
    if (was_on || v.light_on || v.sound_on) ops.push_back(command("SI00", "power off"));
    return ops;
  }
  // The Rest forgot everything while off: all of it before power on.
  const bool all = !was_on;
  const bool light = wanted_.light_on == true;
  const bool sound = wanted_.sound_on == true;
  auto changed = [&](auto member) { return all || !(before.*member == wanted_.*member); };
  if (changed(&DeviceValues::light_on) || changed(&DeviceValues::brightness) ||
      changed(&DeviceValues::color_temp)) {
    const Rgb c = rgb_of_kelvin(wanted_.color_temp.value_or(2200));
    const int br = light ? byte_of(wanted_.brightness.value_or(Level::permille(100))) : 0;
    ops.push_back(
        command(fmt::format("SC{:02x}{:02x}{:02x}{:02x}", c.r, c.g, c.b, br),
                fmt::format("colour {} K, brightness {}", wanted_.color_temp.value_or(0), br)));
  }
  if (changed(&DeviceValues::sound_on) || changed(&DeviceValues::track)) {
    const int track = sound ? track_number(wanted_.track.value_or("white-noise")).value_or(3) : 0;
    ops.push_back(command(fmt::format("SN{:02x}", track), fmt::format("track {}", track)));
  }
  if (changed(&DeviceValues::volume)) {
    const int vol = byte_of(wanted_.volume.value_or(Level::permille(300)));
    ops.push_back(command(fmt::format("SV{:02x}", vol), fmt::format("volume {}", vol)));
  }
  if (!was_on) {
    if (sleep_timer_ > Duration{0}) {
      const auto s = std::min<std::int64_t>(
          std::chrono::duration_cast<std::chrono::seconds>(sleep_timer_).count(),
          kMaxSleepTimerSeconds);
      ops.push_back(command(fmt::format("SD{:04X}", s), fmt::format("sleep timer {} s", s)));
    }
    ops.push_back(command("SI01", "power on"));
  }
  return ops;
}

DeviceValues HatchRest::result_of(const DeviceCommand&) {
  // Now the device shows what was asked: remember its power for the next plan.
  device_on_ = power();
  return wanted_;
}

void HatchRest::subscribe(BleDevice& link) {
  link.notify(std::string(kRx), [this](const Bytes& value) {
    const std::string text(value.begin(), value.end());
    if (text == "OK")
      ack(true);
    else
      ack(false, fmt::format("the Rest answered \"{}\"", ble_common::hex(value)));
  });
  link.notify(std::string(kFeedback), [this](const Bytes& value) { on_feedback(value); });
}

void HatchRest::connected() {
  set_clock();
  enqueue({GattOp{GattOp::Kind::Read, std::string(kFeedback), {}, "read state"}});
}

void HatchRest::set_clock() {
  const TimePoint now = host_.clock().now();
  const auto local_sod = seconds_of_day(host_.local_time(now));
  if (!local_sod) return;
  const auto utc = std::chrono::floor<std::chrono::seconds>(now);
  const auto utc_sod = (utc - std::chrono::floor<date::days>(utc)).count();
  // The zone's offset, from the two times of day (zones are -12 h to +14 h).
  auto offset = *local_sod - utc_sod;
  if (offset > 14 * 3600) offset -= 86400;
  if (offset < -12 * 3600) offset += 86400;
  constexpr int kQuietEnd = 2 * 3600 + 30 * 60;
  if (*local_sod < kQuietEnd) {
    // 00:00 to 02:30 may repeat or not exist on a DST night: wait.
    const auto wait = std::chrono::seconds(kQuietEnd - *local_sod);
    clock_alarm_->set(now + wait, [this] {
      if (link_state() == BleLinkState::Connected) set_clock();
    });
    return;
  }
  const auto local = utc + std::chrono::seconds(offset);
  const auto day = std::chrono::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss hms{local - day};
  enqueue({command(fmt::format("ST{:04}{:02}{:02}{:02}{:02}{:02}U", int(ymd.year()),
                               unsigned(ymd.month()), unsigned(ymd.day()), hms.hours().count(),
                               hms.minutes().count(), hms.seconds().count()),
                   "set clock")});
}

void HatchRest::read_result(const std::string&, const Bytes& value) { on_feedback(value); }

void HatchRest::on_feedback(const Bytes& value) {
  auto f = parse_feedback(value);
  if (!f) {
    log_.debug("{}: ignored a state notification that is not one: {}", name(),
               ble_common::hex(value));
    return;
  }
  DeviceValues seen;
  seen.light_on = f->power && f->brightness > 0;
  seen.sound_on = f->power && f->track != 0;
  if (f->power && f->brightness > 0) seen.brightness = level_of(f->brightness);
  if (f->power && f->track != 0) {
    seen.volume = level_of(f->volume);
    // The name the hub uses for this number, if it is the one it asked for.
    if (wanted_.track && track_number(*wanted_.track) == f->track)
      seen.track = wanted_.track;
    else
      for (const auto& t : kTracks)
        if (t.number == f->track) {
          seen.track = std::string(t.name);
          break;
        }
  }
  device_on_ = f->power;
  observed(seen);
}

}  // namespace nursery::plugins::hatch_rest
