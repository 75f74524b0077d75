// Measures an MQTT responder as Home Assistant would feel it: a trigger goes
// in, three commands come out (what the daemon does for a START). Not a test:
// the machines are shared and noisy, so nothing here passes or fails on a
// number.
//
//   mqtt_bench [--triggers N] [--warmup N] [--qos Q] [--responder 'CMD {port}' ...]
//   mqtt_bench --floor PORT QOS     (the floor responder; started by the harness)
//
// The harness starts a private mosquitto on a loopback port (set_tcp_nodelay
// true), starts each responder with {port} and {uri} replaced in its command,
// and waits until it answers. Then, closed loop, one trigger at a time: it
// publishes the trigger on bench/trigger and waits for the third message on
// bench/cmd/#; the latency is from the publish call to that third arrival.
// Prints p50, p99 and max over N triggers, triggers per second, and the
// responder's resident memory after the run.
//
// Without --responder it measures the floor (a minimal C libmosquitto
// responder, this program with --floor, TCP_NODELAY on) and a responder
// built on nursery::mqtt::Client (mqtt_client_responder). A responder that
// does not echo the trigger's payload still works: answers are counted.

#include <fmt/format.h>
#include <mosquitto.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mosquitto_fixture.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nursery::mqtt::testing::Mosquitto;
using nursery::mqtt::testing::TestClient;

constexpr const char* kTrigger = "bench/trigger";
constexpr const char* kCommands = "bench/cmd/#";
constexpr int kCommandsPerTrigger = 3;

// --- the floor: the least a responder can do ------------------------------------

struct Floor {
  int qos = 1;
};

void floor_on_message(struct mosquitto* mosq, void* context, const struct mosquitto_message* m) {
  const int qos = static_cast<Floor*>(context)->qos;
  for (int i = 1; i <= kCommandsPerTrigger; ++i) {
    const std::string topic = fmt::format("bench/cmd/{}", i);
    mosquitto_publish(mosq, nullptr, topic.c_str(), m->payloadlen, m->payload, qos, false);
  }
}

void floor_on_connect(struct mosquitto* mosq, void* context, int rc) {
  if (rc == 0) mosquitto_subscribe(mosq, nullptr, kTrigger, static_cast<Floor*>(context)->qos);
}

int run_floor(int port, int qos) {
  mosquitto_lib_init();
  Floor floor{qos};
  struct mosquitto* mosq = mosquitto_new("bench-floor", true, &floor);
  if (!mosq) return 1;
  mosquitto_int_option(mosq, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(mosq, floor_on_connect);
  mosquitto_message_callback_set(mosq, floor_on_message);
  if (mosquitto_connect(mosq, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS) return 1;
  mosquitto_loop_forever(mosq, -1, 1);  // until killed
  mosquitto_destroy(mosq);
  return 0;
}

// --- the harness ------------------------------------------------------------------

struct Args {
  int triggers = 2000;
  int warmup = 200;
  int qos = 1;
  std::vector<std::string> responders;
};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

pid_t spawn_shell(const std::string& command) {
  std::string sh = "/bin/sh", dash_c = "-c", line = "exec " + command;
  char* argv[] = {sh.data(), dash_c.data(), line.data(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, environ) != 0) return -1;
  return pid;
}

void end_process(pid_t pid) {
  kill(pid, SIGTERM);
  const auto deadline = Clock::now() + 3s;
  while (Clock::now() < deadline) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(5ms);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

long rss_kib(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

struct Result {
  std::string name;
  bool ok = false;
  std::string failure;
  std::vector<double> latencies_ms;
  double triggers_per_s = 0;
  long rss = -1;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// One trigger; waits for its answers. Returns the latency, or nullopt.
std::optional<double> one_round(TestClient& harness, int seq, int qos,
                                std::chrono::milliseconds timeout) {
  harness.clear();
  const std::string payload = std::to_string(seq);
  const auto start = Clock::now();
  if (mosquitto_publish(harness.handle(), nullptr, kTrigger, static_cast<int>(payload.size()),
                        payload.data(), qos, false) != MOSQ_ERR_SUCCESS)
    return std::nullopt;
  const auto deadline = start + timeout;
  while (harness.received().size() < kCommandsPerTrigger) {
    if (Clock::now() >= deadline) return std::nullopt;
    harness.pump(1ms);
  }
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Result measure(const std::string& name, const std::string& command, const Mosquitto& broker,
               const Args& args) {
  Result r;
  r.name = name;
  nursery::mqtt::testing::TestClientOptions options;
  options.client_id = "bench-harness";
  options.tcp_nodelay = true;
  TestClient harness(broker.port(), options);
  if (!harness.connect() || !harness.subscribe(kCommands, args.qos)) {
    r.failure = "the harness cannot reach the broker";
    return r;
  }
  const std::string line = replace_all(
      replace_all(command, "{port}", std::to_string(broker.port())), "{uri}", broker.uri());
  const pid_t pid = spawn_shell(line);
  if (pid < 0) {
    r.failure = "cannot start: " + line;
    return r;
  }
  // Ready when it answers a trigger.
  bool ready = false;
  for (int attempt = 0; attempt < 50 && !ready; ++attempt)
    ready = one_round(harness, -1, args.qos, 200ms).has_value();
  if (!ready) {
    r.failure = "no answer within 10 s from: " + line;
    end_process(pid);
    return r;
  }
  // Late answers of the readiness probes must not count for the run.
  for (int i = 0; i < 20; ++i) harness.pump(5ms);
  for (int i = 0; i < args.warmup; ++i) one_round(harness, i, args.qos, 2s);
  const auto start = Clock::now();
  for (int i = 0; i < args.triggers; ++i) {
    auto latency = one_round(harness, i, args.qos, 5s);
    if (!latency) {
      r.failure = fmt::format("trigger {} got no answer within 5 s", i);
      end_process(pid);
      return r;
    }
    r.latencies_ms.push_back(*latency);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.triggers_per_s = args.triggers / seconds;
  r.rss = rss_kib(pid);
  r.ok = true;
  end_process(pid);
  return r;
}

int usage() {
  std::fprintf(stderr,
               "usage: mqtt_bench [--triggers N] [--warmup N] [--qos 0|1] "
               "[--responder 'COMMAND {port} {uri}']...\n"
               "       mqtt_bench --floor PORT QOS\n");
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 3 && a[0] == "--floor")
    return run_floor(std::atoi(a[1].c_str()), std::atoi(a[2].c_str()));
  Args args;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= a.size()) return std::nullopt;
      return a[++i];
    };
    std::optional<std::string> v;
    if (a[i] == "--triggers" && (v = value()))
      args.triggers = std::max(1, std::atoi(v->c_str()));
    else if (a[i] == "--warmup" && (v = value()))
      args.warmup = std::max(0, std::atoi(v->c_str()));
    else if (a[i] == "--qos" && (v = value()))
      args.qos = std::clamp(std::atoi(v->c_str()), 0, 1);
    else if (a[i] == "--responder" && (v = value()))
      args.responders.push_back(*v);
    else
      return usage();
  }
  std::vector<std::pair<std::string, std::string>> responders;
  if (args.responders.empty()) {
    responders.emplace_back("floor (libmosquitto, C)",
                            fmt::format("'{}' --floor {{port}} {}", argv[0], args.qos));
    responders.emplace_back("nursery::mqtt::Client",
                            fmt::format("'{}' {{uri}} {}", MQTT_CLIENT_RESPONDER_PATH, args.qos));
  } else {
    for (const auto& r : args.responders) responders.emplace_back(r, r);
  }

  Mosquitto broker;
  if (auto started = broker.start(); !started) {
    std::fprintf(stderr, "cannot start mosquitto: %s\n", started.message());
    return 1;
  }
  std::printf(
      "mosquitto on 127.0.0.1:%d (set_tcp_nodelay true); %d triggers after %d warm-up, "
      "QoS %d, %d commands per trigger\n\n",
      broker.port(), args.triggers, args.warmup, args.qos, kCommandsPerTrigger);
  std::printf("%-26s %10s %10s %10s %12s %10s\n", "responder", "p50 ms", "p99 ms", "max ms",
              "triggers/s", "RSS KiB");
  int failures = 0;
  for (const auto& [name, command] : responders) {
    Result r = measure(name, command, broker, args);
    if (!r.ok) {
      std::printf("%-26s failed: %s\n", name.c_str(), r.failure.c_str());
      ++failures;
      continue;
    }
    std::printf("%-26s %10.3f %10.3f %10.3f %12.0f %10ld\n", name.c_str(),
                percentile(r.latencies_ms, 0.5), percentile(r.latencies_ms, 0.99),
                *std::max_element(r.latencies_ms.begin(), r.latencies_ms.end()), r.triggers_per_s,
                r.rss);
    std::fflush(stdout);
  }
  return failures == 0 ? 0 : 1;
}
