#include "ble_driver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace nursery::plugins::ble_common {
namespace {

bool hex_run(std::string_view text, std::size_t from, std::size_t n) {
  if (from + n > text.size()) return false;
  return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(from),
                     text.begin() + static_cast<std::ptrdiff_t>(from + n),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

bool valid_address(std::string_view text) {
  if (text.size() != 17) return false;
  for (std::size_t i = 0; i < 6; ++i) {
    if (!hex_run(text, i * 3, 2)) return false;
    if (i < 5 && text[i * 3 + 2] != ':') return false;
  }
  return true;
}

bool valid_uuid(std::string_view text) {
  if (text.size() == 4 || text.size() == 8) return hex_run(text, 0, text.size());
  if (text.size() != 36) return false;
  for (std::size_t dash : {8u, 13u, 18u, 23u})
    if (text[dash] != '-') return false;
  return hex_run(text, 0, 8) && hex_run(text, 9, 4) && hex_run(text, 14, 4) &&
         hex_run(text, 19, 4) && hex_run(text, 24, 12);
}

bool same_uuid(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

void error_at(const config::DeviceConfig& device, std::string_view key, std::string message,
              std::vector<config::Diagnostic>& out) {
  auto it = device.options.find(std::string(key));
  out.push_back({config::Diagnostic::Severity::Error,
                 it == device.options.end() ? device.where : it->second.where, std::move(message)});
}

void validate_link(const config::DeviceConfig& device, std::vector<config::Diagnostic>& out) {
  if (const auto* a = option<std::string>(device, "address"); a && !valid_address(*a))
    error_at(device, "address",
             "address must be a Bluetooth address such as \"F3:53:11:AA:BB:CC\" (see `nurseryctl "
             "ble scan`)",
             out);
  if (const auto* a = option<std::string>(device, "adapter");
      a && (a->size() < 4 || !a->starts_with("hci") ||
            !std::all_of(a->begin() + 3, a->end(),
                         [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })))
    error_at(device, "adapter", "adapter must name a Bluetooth adapter such as \"hci0\"", out);
}

int link_quality_of(int rssi) { return std::clamp((rssi + 100) * 2, 0, 100); }

std::string hex(const Bytes& bytes) {
  std::string out;
  for (auto b : bytes) out += fmt::format("{}{:02x}", out.empty() ? "" : " ", b);
  return out;
}

BleDriver::BleDriver(const config::DeviceConfig& config, DeviceHost& host, Duration ack_timeout)
    : Device(config),
      host_(host),
      log_(host.logger()),
      ack_timeout_(ack_timeout),
      ack_alarm_(host.clock().make_alarm()) {
  if (const auto* a = option<std::string>(config, "address")) address_ = *a;
  if (const auto* a = option<std::string>(config, "adapter")) adapter_ = *a;
}

BleDriver::~BleDriver() = default;

std::optional<BleLinkState> BleDriver::link_state() const { return state_; }

void BleDriver::start() {
  Ble* ble = host_.ble();
  if (!ble) {
    host_.availability(Availability::Unavailable, "this nurseryd runs without Bluetooth");
    return;
  }
  link_ = ble->device(address_, adapter_);
  subscribe(*link_);
  link_->on_battery([this](int percent) { host_.battery(percent); });
  link_->on_link([this](const BleLinkEvent& e) { on_link(e); });
}

void BleDriver::on_link(const BleLinkEvent& e) {
  const bool was_connected = state_ == BleLinkState::Connected;
  state_ = e.state;
  if (e.state == BleLinkState::Connected) {
    if (auto b = link_->battery_percent()) host_.battery(*b);
    if (auto r = link_->rssi()) host_.link_quality(link_quality_of(*r));
    // What the device needs first goes first; the hub's catch-up commands,
    // sent once it sees Available, come after.
    host_.availability(Availability::Connecting, "reading its state");
    connected();
    Job ready;
    ready.then = [this] { host_.availability(Availability::Available); };
    jobs_.push_back(std::move(ready));
    pump();
    return;
  }
  if (was_connected) fail_all(fmt::format("the link was lost: {}", e.reason));
  if (e.state == BleLinkState::Connecting)
    host_.availability(Availability::Connecting, e.reason);
  else
    host_.availability(Availability::Unavailable,
                       e.reason.empty() ? std::string("not connected") : e.reason);
}

void BleDriver::apply(const DeviceCommand& command) {
  if (!link_ || state_ != BleLinkState::Connected) {
    host_.command_result(command.id, CommandOutcome::Failed,
                         link_ ? "not connected" : "this nurseryd runs without Bluetooth");
    return;
  }
  auto ops = plan(command);
  if (!ops) {
    host_.command_result(command.id, CommandOutcome::Failed, ops.error().message);
    return;
  }
  jobs_.push_back(Job{std::move(*ops), 0, command, {}});
  pump();
}

void BleDriver::enqueue(std::vector<GattOp> ops) {
  if (ops.empty()) return;
  jobs_.push_back(Job{std::move(ops), 0, std::nullopt, {}});
  pump();
}

void BleDriver::pump() {
  if (!link_) {  // stopped: nothing more goes out
    fail_all("the device is stopped");
    return;
  }
  while (!busy_ && !jobs_.empty()) {
    Job& job = jobs_.front();
    if (job.next >= job.ops.size()) {
      finish_job(Ok{});
      continue;
    }
    const GattOp& op = job.ops[job.next];
    busy_ = true;
    const auto generation = generation_;
    log_.debug("{}: {} ({})", name(), op.what, hex(op.value));
    if (op.kind == GattOp::Kind::Read) {
      link_->read(op.uuid, [this, generation, uuid = op.uuid](Expected<Bytes> value) {
        if (generation != generation_) return;
        if (value) read_result(uuid, *value);
        op_done(value ? Status(Ok{}) : Status(value.error()));
      });
    } else {
      link_->write(op.uuid, op.value, true, [this, generation](Status st) {
        if (generation != generation_) return;
        op_done(std::move(st));
      });
    }
  }
}

void BleDriver::op_done(Status status) {
  Job& job = jobs_.front();
  const GattOp& op = job.ops[job.next];
  if (status && op.wait_for_ack) {
    // Answered by the peripheral; the device's own answer is still to come.
    awaiting_ack_ = true;
    const auto generation = generation_;
    ack_alarm_->set(host_.clock().now() + ack_timeout_, [this, generation] {
      if (generation != generation_ || !awaiting_ack_) return;
      ack(false, "the device did not acknowledge it");
    });
    return;
  }
  busy_ = false;
  if (!status) {
    finish_job(status);
  } else {
    ++job.next;
  }
  pump();
}

void BleDriver::ack(bool ok, std::string why) {
  if (!awaiting_ack_) return;
  awaiting_ack_ = false;
  ack_alarm_->cancel();
  busy_ = false;
  Job& job = jobs_.front();
  if (ok)
    ++job.next;
  else
    finish_job(Error{
        "ble_failed",
        fmt::format("{}: {}", job.ops[job.next].what, why.empty() ? "refused by the device" : why),
        502});
  pump();
}

void BleDriver::finish_job(Status status) {
  Job job = std::move(jobs_.front());
  jobs_.pop_front();
  if (job.then) job.then();
  if (!status) {
    const std::string what =
        job.next < job.ops.size() ? job.ops[job.next].what : std::string("command");
    log_.warning("{}: {} failed: {}", name(), what, status.error().message);
  }
  if (!job.command) return;
  if (status) {
    host_.report(DeviceReport{result_of(*job.command), false, job.command->id});
    host_.command_result(job.command->id, CommandOutcome::Done);
  } else {
    host_.command_result(job.command->id, CommandOutcome::Failed, status.error().message);
  }
}

void BleDriver::fail_all(const std::string& why) {
  ++generation_;
  busy_ = false;
  awaiting_ack_ = false;
  ack_alarm_->cancel();
  auto jobs = std::move(jobs_);
  jobs_.clear();
  for (auto& job : jobs)
    if (job.command) host_.command_result(job.command->id, CommandOutcome::Failed, why);
}

void BleDriver::observed(const DeviceValues& values) {
  // Midway through a command the device shows a mix of old and new (the
  // Rest is still off while it takes its colour), and before a queued one
  // it shows what the command is about to change: neither is a press on
  // it. The commands' results are reported when they are done.
  if (command_queued()) {
    log_.debug("{}: state while a command is carried out: {}", name(), describe(values));
    return;
  }
  host_.report(DeviceReport{values, false, std::nullopt});
}

bool BleDriver::command_queued() const {
  return std::any_of(jobs_.begin(), jobs_.end(),
                     [](const Job& j) { return j.command.has_value(); });
}

void BleDriver::stop(std::function<void()> done) {
  fail_all("the device is being stopped");
  link_.reset();  // disconnects
  state_.reset();
  done();
}

}  // namespace nursery::plugins::ble_common
