// Schedules as data: the shapes of issue 9 are read and printed exactly, and
// every bad input is refused with a message that names its field and a code.
#include <gtest/gtest.h>

#include "daemon/schedule/schedule.hpp"

namespace nursery::schedule {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json weeknights() {
  return json::parse(R"({"id":"weeknights","routine":"bedtime",
                         "days":["mon","tue","wed","thu","fri"],"at":"19:30"})");
}

// Parses `object`, expects a refusal, returns it.
Error refused(const json& object) {
  auto s = schedule_from_json(object);
  EXPECT_FALSE(s) << object.dump();
  return s ? Error{} : s.error();
}

void expect_refused(json object, std::string_view code, std::string_view words) {
  const Error e = refused(object);
  EXPECT_EQ(e.code, code) << object.dump() << " -> " << e.message;
  EXPECT_NE(e.message.find(words), std::string::npos)
      << object.dump() << " -> " << e.message << " (wanted: " << words << ")";
  EXPECT_EQ(e.http_status, 400);
}

TEST(ScheduleJson, ReadsAClockScheduleInTheIssueShape) {
  auto s = schedule_from_json(weeknights());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->id, "weeknights");
  EXPECT_EQ(s->routine, "bedtime");
  EXPECT_TRUE(s->days.contains(date::Monday));
  EXPECT_TRUE(s->days.contains(date::Friday));
  EXPECT_FALSE(s->days.contains(date::Saturday));
  EXPECT_FALSE(s->days.contains(date::Sunday));
  EXPECT_EQ(std::get<ClockTrigger>(s->trigger).at, TimeOfDay{19h + 30min});
  EXPECT_EQ(s->grace, 15min);
  EXPECT_TRUE(s->enabled);
  EXPECT_FALSE(s->not_before);
}

TEST(ScheduleJson, ReadsASunScheduleWithOffsetBoundsGraceAndEnabled) {
  auto s = schedule_from_json(json::parse(R"({"id":"dusk","routine":"bedtime","days":["sat","sun"],
      "sun":"sunset","offset":"-30m","not_before":"18:30","not_after":"20:00",
      "grace":"30m","enabled":false})"));
  ASSERT_TRUE(s) << s.error().message;
  const auto& sun = std::get<SunTrigger>(s->trigger);
  EXPECT_EQ(sun.event, SunEvent::Sunset);
  EXPECT_EQ(sun.offset, -30min);
  EXPECT_EQ(s->not_before, TimeOfDay{18h + 30min});
  EXPECT_EQ(s->not_after, TimeOfDay{20h});
  EXPECT_EQ(s->grace, 30min);
  EXPECT_FALSE(s->enabled);
}

TEST(ScheduleJson, ReadsEverySunEventAndAPositiveOffset) {
  for (const char* event : {"sunrise", "sunset", "civil_dawn", "civil_dusk"}) {
    auto j = weeknights();
    j.erase("at");
    j["sun"] = event;
    j["offset"] = "1h15m";
    auto s = schedule_from_json(j);
    ASSERT_TRUE(s) << event << ": " << s.error().message;
    EXPECT_EQ(sun_event_name(std::get<SunTrigger>(s->trigger).event), event);
    EXPECT_EQ(std::get<SunTrigger>(s->trigger).offset, 75min);
  }
}

TEST(ScheduleJson, ReadsAWakeWindowSchedule) {
  auto j = weeknights();
  j.erase("at");
  j["wake_window"] = true;
  auto s = schedule_from_json(j);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(std::holds_alternative<WakeWindowTrigger>(s->trigger));
}

TEST(ScheduleJson, PrintsEveryFieldAndReadsBackTheSameSchedule) {
  auto j = json::parse(R"({"id":"dusk","routine":"bedtime","days":["sun","mon"],
      "sun":"civil_dusk","offset":"-1h5m","not_after":"20:00"})");
  auto s = schedule_from_json(j);
  ASSERT_TRUE(s);
  const json printed = to_json(*s);
  EXPECT_EQ(printed, json::parse(R"({"id":"dusk","routine":"bedtime","days":["mon","sun"],
      "sun":"civil_dusk","offset":"-1h5m","not_after":"20:00","grace":"15m","enabled":true})"));
  auto again = schedule_from_json(printed);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *s);
  EXPECT_EQ(to_json(*schedule_from_json(weeknights()))["at"], "19:30");
}

TEST(ScheduleJson, RefusesAnImpossibleTimeOfDay) {
  auto j = weeknights();
  j["at"] = "25:61";
  expect_refused(j, "invalid_value", "at \"25:61\" is not a time of day");
}

TEST(ScheduleJson, RefusesAnUnknownWeekdayNamingItsPlace) {
  auto j = weeknights();
  j["days"] = {"mon", "funday"};
  expect_refused(j, "invalid_value", "days[1]: \"funday\" is not a weekday");
}

TEST(ScheduleJson, RefusesAnOffsetWithAnUnknownUnit) {
  auto j = weeknights();
  j.erase("at");
  j["sun"] = "sunset";
  j["offset"] = "-30x";
  expect_refused(j, "invalid_value", "offset \"-30x\" is not a signed duration");
}

TEST(ScheduleJson, RefusesAScheduleWithNeitherTimeNorSunNorWakeWindow) {
  auto j = weeknights();
  j.erase("at");
  expect_refused(j, "missing_field", "needs one of \"at\"");
}

TEST(ScheduleJson, RefusesTwoTriggerKindsAtOnce) {
  auto j = weeknights();
  j["sun"] = "sunset";
  expect_refused(j, "conflicting_fields", "\"at\" and \"sun\" exclude each other");
  auto k = weeknights();
  k["wake_window"] = true;
  expect_refused(k, "conflicting_fields", "\"at\" and \"wake_window\" exclude each other");
}

TEST(ScheduleJson, RefusesAnUnknownKey) {
  auto j = weeknights();
  j["colour"] = "blue";
  expect_refused(j, "unknown_field", "unknown field \"colour\"");
}

TEST(ScheduleJson, RefusesAnEmptyDaysList) {
  auto j = weeknights();
  j["days"] = json::array();
  expect_refused(j, "invalid_value", "days is empty");
}

TEST(ScheduleJson, RefusesAnIdOutsideTheAllowedCharactersOrLength) {
  for (const char* bad :
       {"Weeknights", "week nights", "", "ünï", "a/b", "abcdefghijklmnopqrstuvwxyz0123456"}) {
    auto j = weeknights();
    j["id"] = bad;
    expect_refused(j, "invalid_value", "id \"");
  }
  auto ok = weeknights();
  ok["id"] = "abcdefghijklmnopqrstuvwxyz012345";  // 32: the longest allowed
  EXPECT_TRUE(schedule_from_json(ok));
}

TEST(ScheduleJson, RefusesADuplicateIdInAList) {
  const json list = {weeknights(), weeknights()};
  auto parsed = schedule_list_from_json(list);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, "duplicate_id");
  EXPECT_NE(parsed.error().message.find("schedules[1]: id \"weeknights\" is already used by "
                                        "schedules[0]"),
            std::string::npos)
      << parsed.error().message;
}

TEST(ScheduleJson, RefusesMissingRequiredFields) {
  for (const char* key : {"id", "routine", "days"}) {
    auto j = weeknights();
    j.erase(key);
    expect_refused(j, "missing_field", std::string(key) + " is required");
  }
}

TEST(ScheduleJson, RefusesValuesOfTheWrongType) {
  auto at = weeknights();
  at["at"] = 1930;
  expect_refused(at, "invalid_value", "at must be a string");
  auto days = weeknights();
  days["days"] = "mon";
  expect_refused(days, "invalid_value", "days must be a list");
  auto item = weeknights();
  item["days"] = {"mon", 2};
  expect_refused(item, "invalid_value", "days[1] must be a weekday");
  auto enabled = weeknights();
  enabled["enabled"] = "yes";
  expect_refused(enabled, "invalid_value", "enabled must be true or false");
  auto wake = weeknights();
  wake.erase("at");
  wake["wake_window"] = false;
  expect_refused(wake, "invalid_value", "wake_window must be true");
  auto id = weeknights();
  id["id"] = nullptr;
  expect_refused(id, "invalid_value", "id must be a string");
  EXPECT_FALSE(schedule_from_json(json::array()));
  EXPECT_FALSE(schedule_from_json(json("weeknights")));
}

TEST(ScheduleJson, RefusesAWeekdayListedTwice) {
  auto j = weeknights();
  j["days"] = {"mon", "tue", "mon"};
  expect_refused(j, "invalid_value", "days[2]: \"mon\" is listed twice");
}

TEST(ScheduleJson, RefusesAnUnknownSunEventAndAnOffsetBeyondHalfADay) {
  auto j = weeknights();
  j.erase("at");
  j["sun"] = "noon";
  expect_refused(j, "invalid_value", "sun \"noon\" is not a sun event");
  j["sun"] = "sunset";
  j["offset"] = "12h1m";
  expect_refused(j, "invalid_value", "beyond 12h");
  j["offset"] = "-12h";
  EXPECT_TRUE(schedule_from_json(j));
}

TEST(ScheduleJson, RefusesAnOffsetWithoutASunEvent) {
  auto j = weeknights();
  j["offset"] = "-30m";
  expect_refused(j, "conflicting_fields", "offset applies only to a \"sun\" trigger");
}

TEST(ScheduleJson, RefusesBoundsOnAClockTimeAndBoundsTheWrongWayRound) {
  auto clock = weeknights();
  clock["not_after"] = "20:00";
  expect_refused(clock, "conflicting_fields", "not_after applies only to a \"sun\"");
  auto sun = weeknights();
  sun.erase("at");
  sun["sun"] = "sunset";
  sun["not_before"] = "21:00";
  sun["not_after"] = "06:00";
  expect_refused(sun, "invalid_value", "not_before (21:00) is later than not_after (06:00)");
  sun["not_after"] = "24:00";
  expect_refused(sun, "invalid_value", "not_after \"24:00\" is not a time of day");
}

TEST(ScheduleJson, RefusesAGraceOutsideOneMinuteToTwoHours) {
  for (const char* bad : {"0s", "30s", "2h1m", "1d", "soon"}) {
    auto j = weeknights();
    j["grace"] = bad;
    expect_refused(j, "invalid_value", std::string("grace \"") + bad + "\"");
  }
  auto j = weeknights();
  j["grace"] = "2h";
  EXPECT_TRUE(schedule_from_json(j));
}

TEST(ScheduleJson, ReadsThePutBodyAndRefusesAnyOtherShape) {
  const json body = {{"schedules", {weeknights()}}};
  auto list = schedules_body_from_json(body);
  ASSERT_TRUE(list) << list.error().message;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(to_json(*list)["schedules"][0]["id"], "weeknights");
  EXPECT_TRUE(schedules_body_from_json(json{{"schedules", json::array()}}));  // clears the list
  EXPECT_EQ(schedules_body_from_json(json::object()).error().code, "missing_field");
  EXPECT_EQ(schedules_body_from_json(json{{"schedules", json::array()}, {"x", 1}}).error().code,
            "unknown_field");
  EXPECT_EQ(schedules_body_from_json(json{{"schedules", "none"}}).error().code, "invalid_value");
  auto bad_item = schedules_body_from_json(json{{"schedules", {weeknights(), 3}}});
  EXPECT_NE(bad_item.error().message.find("schedules[1]"), std::string::npos);
}

// The TOML loader's way in: fields it converted itself, and errors it can
// map back to a file:line:col through their field and item.
TEST(ScheduleFields, ReportEveryProblemWithItsFieldAndItem) {
  std::vector<Field> fields = {
      {"id", FieldValue::of_string("nap")},
      {"routine", FieldValue::of_string("nap")},
      {"days", FieldValue::of_list({FieldValue::of_string("mon"), FieldValue::of_string("tues")})},
      {"at", FieldValue::of_string("25:61")},
      {"colour", FieldValue::of_string("blue")},
  };
  const ScheduleParse parsed = parse_schedule(fields);
  EXPECT_FALSE(parsed.schedule);
  ASSERT_EQ(parsed.errors.size(), 3u);
  EXPECT_EQ(parsed.errors[0].field, "colour");
  EXPECT_EQ(parsed.errors[0].code, "unknown_field");
  EXPECT_EQ(parsed.errors[1].field, "days");
  EXPECT_EQ(parsed.errors[1].item, 1u);
  EXPECT_EQ(parsed.errors[2].field, "at");
  EXPECT_EQ(parsed.errors[2].code, "invalid_value");
}

TEST(ScheduleFields, AListReportsWhichScheduleEachProblemIsIn) {
  auto good = *fields_from_json(weeknights());
  auto bad = good;
  bad.push_back({"grace", FieldValue::of_other("a table")});
  const ScheduleListParse parsed = parse_schedule_list({good, bad, good});
  EXPECT_FALSE(parsed.schedules);
  ASSERT_EQ(parsed.errors.size(), 2u);
  EXPECT_EQ(parsed.errors[0].schedule, 1u);
  EXPECT_EQ(parsed.errors[0].field, "grace");
  EXPECT_NE(parsed.errors[0].message.find("a table"), std::string::npos);
  EXPECT_EQ(parsed.errors[1].schedule, 2u);
  EXPECT_EQ(parsed.errors[1].code, "duplicate_id");
}

TEST(ScheduleFields, RefusesAKeyGivenTwice) {
  auto fields = *fields_from_json(weeknights());
  fields.push_back({"at", FieldValue::of_string("20:00")});
  const ScheduleParse parsed = parse_schedule(fields);
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_EQ(parsed.errors[0].field, "at");
  EXPECT_NE(parsed.errors[0].message.find("given twice"), std::string::npos);
}

TEST(TriggerText, DescribesEachKindAsAParentReadsIt) {
  EXPECT_EQ(describe(ClockTrigger{TimeOfDay{19h + 30min}}), "clock 19:30");
  EXPECT_EQ(describe(SunTrigger{SunEvent::Sunset, -30min}), "sunset -30m");
  EXPECT_EQ(describe(SunTrigger{SunEvent::Sunrise, 75min}), "sunrise +1h15m");
  EXPECT_EQ(describe(SunTrigger{SunEvent::CivilDusk, 0min}), "civil_dusk");
  EXPECT_EQ(describe(WakeWindowTrigger{}), "wake window");
}

}  // namespace
}  // namespace nursery::schedule
