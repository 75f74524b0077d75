#include "ctl_run.hpp"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "ctl_format.hpp"
#include "daemon/api_json/api_json.hpp"
#include "daemon/schedule/time_text.hpp"

namespace nursery {
namespace {

using nlohmann::json;

// RFC 3986 unreserved characters pass; everything else is %XX.
std::string encode_segment(std::string_view segment) {
  std::string out;
  for (char c : segment) {
    auto u = static_cast<unsigned char>(c);
    bool plain = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~';
    out += plain ? std::string(1, c) : fmt::format("%{:02X}", u);
  }
  return out;
}

class Session {
 public:
  Session(const CtlArgs& args, ControlClient& client, std::ostream& out, std::ostream& err)
      : args_(args), client_(client), out_(out), err_(err) {}

  int run() {
    switch (args_.command) {
      case CtlCommand::Help:
        out_ << ctl_usage();
        return kCtlOk;
      case CtlCommand::ShowStatus:
        return status();
      case CtlCommand::Runs:
        return runs();
      case CtlCommand::Set:
        return set();
      case CtlCommand::BleScan:
        return ble_scan();
      case CtlCommand::Log:
        return args_.sleep_kind ? log_entry() : sleep_log();
      case CtlCommand::Summary:
        return summary();
      case CtlCommand::Start:
      case CtlCommand::Stop:
      case CtlCommand::Pause:
      case CtlCommand::Resume:
      case CtlCommand::Skip:
        return routine();
      case CtlCommand::Schedule:
        return schedule();
      case CtlCommand::Next:
        return next();
    }
    return kCtlUsage;
  }

 private:
  // A successful answer, or the exit code after reporting why there is none.
  struct Answer {
    int exit = kCtlOk;
    json body;
  };

  Answer call(std::string_view method, const std::string& target,
              std::optional<json> body = std::nullopt) {
    auto response = client_.request(method, target, std::move(body));
    if (!response) {
      const Error& e = response.error();
      err_ << "nurseryctl: " << e.message << "\n";
      if (e.code == "connect_failed")
        err_ << "nurseryctl: is nurseryd running? (systemctl status nurseryd; "
                "--socket PATH picks another socket)\n";
      return {kCtlNoServer, nullptr};
    }
    if (response->status >= 400) {
      if (args_.json) out_ << dump_json(response->body) << "\n";
      err_ << "nurseryctl: " << server_error_message(response->status, response->body) << "\n";
      return {kCtlRefused, nullptr};
    }
    return {kCtlOk, std::move(response->body)};
  }

  int usage(std::string_view message) {
    err_ << "nurseryctl: " << message << "\n";
    return kCtlUsage;
  }

  static std::string time_zone_of(const json& status) {
    if (status.is_object() && status.contains("hub") && status["hub"].is_object()) {
      const auto& tz = status["hub"].find("time_zone");
      if (tz != status["hub"].end() && tz->is_string()) return tz->get<std::string>();
    }
    return {};
  }

  int status() {
    auto answer = call("GET", "/api/v1/status");
    if (answer.exit != kCtlOk) return answer.exit;
    out_ << (args_.json ? dump_json(answer.body) + "\n" : format_status(answer.body));
    return kCtlOk;
  }

  int runs() {
    // The server filters (and says when the room or routine does not exist).
    std::vector<std::string> query;
    if (args_.room) query.push_back("room=" + encode_segment(*args_.room));
    if (args_.routine) query.push_back("routine=" + encode_segment(*args_.routine));
    if (args_.limit) query.push_back(fmt::format("limit={}", *args_.limit));
    std::string target = "/api/v1/runs";
    if (!query.empty()) target += fmt::format("?{}", fmt::join(query, "&"));
    auto answer = call("GET", target);
    if (answer.exit != kCtlOk) return answer.exit;
    if (args_.json) {
      out_ << dump_json(answer.body) << "\n";
      return kCtlOk;
    }
    // The hub's time zone, for the times; UTC if the status cannot be had.
    auto status = client_.request("GET", "/api/v1/status");
    std::string zone = status && status->status == 200 ? time_zone_of(status->body) : "";
    out_ << format_runs(answer.body, zone);
    return kCtlOk;
  }

  // The room a command is for: --room, or the hub's only room. The status
  // also gives the room's name and the hub's time zone for the reply.
  struct RoomChoice {
    int exit = kCtlOk;
    std::string id;
    std::string label;
    std::string zone;
  };

  RoomChoice pick_room() {
    auto status = call("GET", "/api/v1/status");
    if (status.exit != kCtlOk) return {status.exit, {}, {}, {}};
    std::vector<std::pair<std::string, std::string>> rooms;  // id, name
    if (status.body.is_object() && status.body["rooms"].is_array())
      for (const auto& room : status.body["rooms"])
        if (room.is_object() && room.contains("id") && room["id"].is_string())
          rooms.emplace_back(room["id"].get<std::string>(),
                             room.contains("name") && room["name"].is_string()
                                 ? room["name"].get<std::string>()
                                 : room["id"].get<std::string>());
    RoomChoice choice{kCtlOk, {}, {}, time_zone_of(status.body)};
    if (args_.room) {
      choice.id = *args_.room;
      choice.label = choice.id;
      for (const auto& [id, name] : rooms)
        if (id == choice.id) choice.label = name;
    } else if (rooms.size() == 1) {
      choice.id = rooms[0].first;
      choice.label = rooms[0].second;
    } else if (rooms.empty()) {
      err_ << "nurseryctl: the hub has no rooms\n";
      choice.exit = kCtlRefused;
    } else {
      std::vector<std::string> ids;
      for (const auto& [id, name] : rooms) ids.push_back(id);
      choice.exit = usage(fmt::format("the hub has {} rooms ({}): say which with --room ROOM",
                                      rooms.size(), fmt::join(ids, ", ")));
    }
    return choice;
  }

  int routine() {
    auto room = pick_room();
    if (room.exit != kCtlOk) return room.exit;
    const std::string& room_id = room.id;
    const std::string& label = room.label;
    auto answer = call("POST", "/api/v1/rooms/" + encode_segment(room_id) + "/routine",
                       routine_request_body(args_));
    if (answer.exit != kCtlOk) return answer.exit;
    if (args_.json) {
      out_ << dump_json(answer.body) << "\n";
      return kCtlOk;
    }
    const json& routine = answer.body.is_object() && answer.body.contains("routine")
                              ? answer.body["routine"]
                              : answer.body;
    out_ << format_routine_line(label, routine, room.zone) << "\n";
    return kCtlOk;
  }

  int schedule() {
    auto room = pick_room();
    if (room.exit != kCtlOk) return room.exit;
    const std::string target = "/api/v1/rooms/" + encode_segment(room.id) + "/schedules";
    auto current = call("GET", target);
    if (current.exit != kCtlOk) return current.exit;
    if (args_.schedule_action == ScheduleAction::List) {
      out_ << (args_.json ? dump_json(current.body) + "\n"
                          : format_schedules(room.label, current.body));
      return kCtlOk;
    }
    json list = current.body.is_object() && current.body["schedules"].is_array()
                    ? current.body["schedules"]
                    : json::array();
    json* found = nullptr;
    for (auto& s : list)
      if (s.is_object() && s.value("id", "") == args_.schedule_id) found = &s;
    if (args_.schedule_action == ScheduleAction::Set) {
      if (found)
        *found = merge_schedule(*found, args_.schedule_keys);
      else
        list.push_back(merge_schedule(json{{"id", args_.schedule_id}}, args_.schedule_keys));
    } else if (!found) {
      err_ << fmt::format("nurseryctl: {} has no schedule \"{}\"\n", room.label, args_.schedule_id);
      return kCtlRefused;
    } else {
      (*found)["enabled"] = args_.schedule_action == ScheduleAction::Enable;
    }
    auto answer = call("PUT", target, json{{"schedules", std::move(list)}});
    if (answer.exit != kCtlOk) return answer.exit;
    if (args_.json) {
      out_ << dump_json(answer.body) << "\n";
      return kCtlOk;
    }
    out_ << format_schedules(room.label, answer.body);
    // What the change means: the next start.
    auto next =
        client_.request("GET", "/api/v1/rooms/" + encode_segment(room.id) + "/next?count=1");
    if (next && next->status == 200) out_ << format_triggers(room.label, next->body, room.zone);
    return kCtlOk;
  }

  int next() {
    auto room = pick_room();
    if (room.exit != kCtlOk) return room.exit;
    std::vector<std::string> query;
    if (args_.count) query.push_back(fmt::format("count={}", *args_.count));
    if (args_.from) query.push_back("from=" + encode_segment(*args_.from));
    std::string target = "/api/v1/rooms/" + encode_segment(room.id) + "/next";
    if (!query.empty()) target += fmt::format("?{}", fmt::join(query, "&"));
    auto answer = call("GET", target);
    if (answer.exit != kCtlOk) return answer.exit;
    out_ << (args_.json ? dump_json(answer.body) + "\n"
                        : format_triggers(room.label, answer.body, room.zone));
    return kCtlOk;
  }

  // The hub's zone from its status; UTC when the status cannot be had.
  std::string hub_zone() {
    auto status = client_.request("GET", "/api/v1/status");
    return status && status->status == 200 ? time_zone_of(status->body) : "";
  }

  int log_entry() {
    const std::string zone = hub_zone();
    json body{{"kind", *args_.sleep_kind}};
    if (args_.at) {
      auto at = resolve_log_time(*args_.at, zone, std::chrono::system_clock::now());
      if (!at) return usage(at.error().message);
      body["at"] = *at;
    }
    if (args_.note) body["note"] = *args_.note;
    if (args_.room) body["room"] = *args_.room;
    auto answer = call("POST", "/api/v1/sleep-log", body);
    if (answer.exit != kCtlOk) return answer.exit;
    out_ << (args_.json ? dump_json(answer.body) + "\n" : format_sleep_entry(answer.body, zone));
    return kCtlOk;
  }

  // ?room=…&… for the sleep-log reads.
  std::string sleep_query(std::vector<std::string> query) const {
    if (args_.room) query.push_back("room=" + encode_segment(*args_.room));
    return query.empty() ? "" : fmt::format("?{}", fmt::join(query, "&"));
  }

  int sleep_log() {
    std::vector<std::string> query;
    if (args_.days) {
      // The server's clock decides "now"; the span is counted back from it.
      auto status = call("GET", "/api/v1/status");
      if (status.exit != kCtlOk) return status.exit;
      const json* now = status.body.is_object() && status.body["hub"].is_object()
                            ? &status.body["hub"]["now"]
                            : nullptr;
      if (!now || !now->is_string()) return usage("the hub did not say what time it is");
      auto to = schedule::parse_instant(now->get<std::string>());
      if (!to) return usage("the hub did not say what time it is");
      if (*args_.days < 1 || *args_.days > 366) return usage("--days must be from 1 to 366");
      query.push_back("from=" +
                      encode_segment(schedule::format_utc(*to - std::chrono::days(*args_.days))));
    }
    auto answer = call("GET", "/api/v1/sleep-log" + sleep_query(std::move(query)));
    if (answer.exit != kCtlOk) return answer.exit;
    out_ << (args_.json ? dump_json(answer.body) + "\n"
                        : format_sleep_log(answer.body, hub_zone()));
    return kCtlOk;
  }

  int summary() {
    std::vector<std::string> query;
    if (args_.days) query.push_back(fmt::format("days={}", *args_.days));
    auto answer = call("GET", "/api/v1/sleep-log/summary" + sleep_query(std::move(query)));
    if (answer.exit != kCtlOk) return answer.exit;
    out_ << (args_.json ? dump_json(answer.body) + "\n"
                        : format_sleep_summary(answer.body, hub_zone()));
    return kCtlOk;
  }

  int set() {
    auto answer = call("POST",
                       "/api/v1/rooms/" + encode_segment(args_.room.value_or("")) + "/devices/" +
                           encode_segment(args_.device),
                       args_.values);
    if (answer.exit != kCtlOk) return answer.exit;
    out_ << (args_.json ? dump_json(answer.body) + "\n" : format_command_result(answer.body));
    return kCtlOk;
  }

  // Starts the scan, then asks how it went until it is over (the server
  // answers at once; the scan takes its seconds).
  int ble_scan() {
    std::string target = "/api/v1/ble/scan";
    if (args_.seconds) target += fmt::format("?seconds={}", *args_.seconds);
    auto started = call("POST", target);
    if (started.exit != kCtlOk) return started.exit;
    json scan = started.body.value("scan", json::object());
    const long seconds = scan.value("seconds", 10L);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds + 30);
    while (scan.value("state", "") == "running") {
      if (std::chrono::steady_clock::now() > deadline) {
        err_ << "nurseryctl: the scan did not end in time\n";
        return kCtlRefused;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      auto answer = call("GET", "/api/v1/ble/scan");
      if (answer.exit != kCtlOk) return answer.exit;
      started.body = std::move(answer.body);
      scan = started.body.value("scan", json::object());
    }
    if (args_.json) {
      out_ << dump_json(started.body) << "\n";
      return scan.value("state", "") == "done" ? kCtlOk : kCtlRefused;
    }
    if (scan.value("state", "") != "done") {
      const json error = scan.value("error", json(nullptr));
      err_ << "nurseryctl: the scan failed: "
           << (error.is_string() ? error.get<std::string>() : "?") << "\n";
      return kCtlRefused;
    }
    out_ << format_ble_scan(scan);
    return kCtlOk;
  }

  const CtlArgs& args_;
  ControlClient& client_;
  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace

int run_ctl(const CtlArgs& args, ControlClient& client, std::ostream& out, std::ostream& err) {
  try {
    return Session(args, client, out, err).run();
  } catch (const std::exception& e) {
    err << "nurseryctl: " << e.what() << "\n";
    return kCtlRefused;
  }
}

}  // namespace nursery
