// The HubApi's defaults for what a hub without a scheduler cannot answer.
#include "hub_api.hpp"

namespace nursery {
namespace {

Error no_scheduler() {
  return Error{"no_scheduler", "This hub runs no scheduler: schedules are not available.", 503};
}

Error no_sleep_log() { return Error{"no_sleep_log", "This hub keeps no sleep log.", 503}; }

}  // namespace

Expected<SleepEntry> HubApi::add_sleep_entry(const SleepEntryRequest&) { return no_sleep_log(); }

Expected<SleepLogData> HubApi::sleep_log(const SleepLogQuery&) const { return no_sleep_log(); }

Expected<std::vector<schedule::Schedule>> HubApi::schedules(std::string_view) const {
  return no_scheduler();
}

Expected<std::vector<schedule::Schedule>> HubApi::set_schedules(std::string_view,
                                                                std::vector<schedule::Schedule>) {
  return no_scheduler();
}

Expected<schedule::Plan> HubApi::next_triggers(std::string_view, std::optional<TimePoint>,
                                               std::size_t) const {
  return no_scheduler();
}

Expected<schedule::SunDay> HubApi::sun(std::optional<date::year_month_day>) const {
  return no_scheduler();
}

}  // namespace nursery
