// Sun times against an independent ephemeris (PyEphem, through
// make_sun_reference.py into sun_reference.csv), and the polar days and nights
// where an event does not happen.
#include "daemon/schedule/sun.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "daemon/schedule/civil_time.hpp"

namespace nursery::schedule {
namespace {

using namespace std::chrono_literals;

const date::time_zone& zone(const std::string& name) { return **find_zone(name); }

date::year_month_day ymd(int y, unsigned m, unsigned d) {
  return date::year{y} / date::month{m} / date::day{d};
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ',')) out.push_back(cell);
  return out;
}

struct ReferenceRow {
  std::string place;
  GeoPosition where;
  std::string zone;
  date::year_month_day date;
  std::string events[4];  // sunrise, sunset, civil_dawn, civil_dusk as in the CSV
  double low_before = 0, high = 0, low_after = 0;
};

std::vector<ReferenceRow> read_reference() {
  std::ifstream in(SUN_REFERENCE_CSV);
  std::vector<ReferenceRow> rows;
  std::string line;
  if (!std::getline(in, line)) return rows;  // header
  while (std::getline(in, line)) {
    const auto f = split(line);
    if (f.size() != 12) {
      ADD_FAILURE() << "malformed reference line: " << line;
      continue;
    }
    ReferenceRow r;
    r.place = f[0];
    r.where = {std::stod(f[1]), std::stod(f[2])};
    r.zone = f[3];
    const auto day = parse_instant(f[4] + "T00:00:00Z");
    if (!day) {
      ADD_FAILURE() << "bad date in: " << line;
      continue;
    }
    r.date = date::year_month_day{date::floor<date::days>(*day)};
    for (int i = 0; i < 4; ++i) r.events[i] = f[5 + i];
    r.low_before = std::stod(f[9]);
    r.high = std::stod(f[10]);
    r.low_after = std::stod(f[11]);
    rows.push_back(r);
  }
  return rows;
}

constexpr SunEvent kEvents[] = {SunEvent::Sunrise, SunEvent::Sunset, SunEvent::CivilDawn,
                                SunEvent::CivilDusk};

TEST(SunReference, CoversTheRequiredPlacesBothHemispheresAndTheYear) {
  const auto rows = read_reference();
  std::set<std::string> places;
  std::set<unsigned> months;
  double southmost = 0, northmost = 0;
  for (const auto& r : rows) {
    places.insert(r.place);
    months.insert(static_cast<unsigned>(r.date.month()));
    southmost = std::min(southmost, r.where.latitude);
    northmost = std::max(northmost, r.where.latitude);
  }
  for (const char* p : {"Quito", "Singapore", "London", "Reykjavik", "Tromso", "Sydney", "Ushuaia",
                        "Anchorage", "Honolulu", "Kolkata", "Kathmandu"})
    EXPECT_TRUE(places.count(p)) << p;
  EXPECT_EQ(months.size(), 12u);
  EXPECT_LE(southmost, -65.0);
  EXPECT_GE(northmost, 65.0);
  EXPECT_GT(rows.size(), 500u);
}

// Within 2 minutes of the ephemeris at every place and date of the table, for
// every event that happens, and the same "always up / always down" where it
// does not. A day on which the sun only grazes an event's altitude (within
// 0.05 degrees at its highest or lowest) is not held to either: there the
// event's existence and time turn on the last digits of the declination.
TEST(SunReference, EveryEventIsWithinTwoMinutesOfTheEphemeris) {
  const auto rows = read_reference();
  ASSERT_FALSE(rows.empty()) << "cannot read " << SUN_REFERENCE_CSV;
  constexpr double kGrazing = 0.05;
  double worst = 0;
  std::string worst_where;
  int compared = 0, polar = 0, grazing = 0;
  for (const auto& r : rows) {
    const date::time_zone& z = zone(r.zone);
    for (int i = 0; i < 4; ++i) {
      const SunEvent e = kEvents[i];
      const double h0 = event_altitude(e);
      const double low = is_morning(e) ? r.low_before : r.low_after;
      if (std::min(std::fabs(low - h0), std::fabs(r.high - h0)) < kGrazing) {
        ++grazing;
        continue;
      }
      const SunTime got = sun_time(e, r.date, r.where, z);
      const std::string what = r.place + " " + date::format("%F", date::sys_days{r.date}) + " " +
                               std::string(sun_event_name(e));
      if (r.events[i] == "always_up" || r.events[i] == "always_down") {
        ++polar;
        EXPECT_EQ(got.state, r.events[i] == "always_up" ? SunState::AlwaysUp : SunState::AlwaysDown)
            << what;
        EXPECT_FALSE(got.at) << what;
        continue;
      }
      const auto expected = parse_instant(r.events[i]);
      ASSERT_TRUE(expected) << what << ": " << r.events[i];
      ASSERT_EQ(got.state, SunState::Happens) << what;
      ASSERT_TRUE(got.at) << what;
      const double error = std::fabs(std::chrono::duration<double>(*got.at - *expected).count());
      EXPECT_LE(error, 120.0) << what << ": got " << format_utc(*got.at) << ", ephemeris "
                              << r.events[i];
      ++compared;
      if (error > worst) {
        worst = error;
        worst_where = what;
      }
    }
  }
  std::cout << "sun: " << compared << " event times compared, worst " << worst << " s ("
            << worst_where << "); " << polar << " polar states compared; " << grazing
            << " grazing events not held\n";
  EXPECT_GT(compared, 2000);
  EXPECT_GT(polar, 40);
}

void expect_all(const SunDay& day, SunState state) {
  for (SunEvent e : kEvents) {
    EXPECT_EQ(day[e].state, state) << sun_event_name(e);
    EXPECT_FALSE(day[e].at) << sun_event_name(e);
  }
}

TEST(PolarSun, TromsoHasMidnightSunInJuneAndPolarNightInDecember) {
  const GeoPosition tromso{69.6492, 18.9553};
  const auto june = sun_day(ymd(2027, 6, 21), tromso, zone("Europe/Oslo"));
  ASSERT_TRUE(june);
  expect_all(*june, SunState::AlwaysUp);
  const auto december = sun_day(ymd(2027, 12, 21), tromso, zone("Europe/Oslo"));
  ASSERT_TRUE(december);
  EXPECT_EQ(december->sunrise.state, SunState::AlwaysDown);
  EXPECT_EQ(december->sunset.state, SunState::AlwaysDown);
  // The sun gets to about -3 degrees at noon: there is civil twilight, no sunrise.
  ASSERT_EQ(december->civil_dawn.state, SunState::Happens);
  ASSERT_EQ(december->civil_dusk.state, SunState::Happens);
  EXPECT_LT(*december->civil_dawn.at, *december->civil_dusk.at);
}

TEST(PolarSun, SeventyEightNorthHasNoTwilightInEitherSolstice) {
  const GeoPosition svalbard{78.0, 15.6};
  expect_all(*sun_day(ymd(2027, 6, 21), svalbard, zone("Arctic/Longyearbyen")), SunState::AlwaysUp);
  expect_all(*sun_day(ymd(2027, 12, 21), svalbard, zone("Arctic/Longyearbyen")),
             SunState::AlwaysDown);
}

TEST(PolarSun, TheSouthernEquivalentsAreTheOtherWayRound) {
  const GeoPosition south69{-69.6, 39.58};
  expect_all(*sun_day(ymd(2027, 12, 21), south69, zone("Antarctica/Syowa")), SunState::AlwaysUp);
  const auto june = sun_day(ymd(2027, 6, 21), south69, zone("Antarctica/Syowa"));
  EXPECT_EQ(june->sunrise.state, SunState::AlwaysDown);
  EXPECT_EQ(june->civil_dawn.state, SunState::Happens);
  const GeoPosition south78{-78.0, 166.67};
  expect_all(*sun_day(ymd(2027, 12, 21), south78, zone("Antarctica/McMurdo")), SunState::AlwaysUp);
  expect_all(*sun_day(ymd(2027, 6, 21), south78, zone("Antarctica/McMurdo")), SunState::AlwaysDown);
}

TEST(SunTimes, AReykjavikJuneSunsetAfterMidnightBelongsToTheDayBefore) {
  const auto day = sun_day(ymd(2027, 6, 21), {64.1466, -21.9426}, zone("Atlantic/Reykjavik"));
  ASSERT_TRUE(day && day->sunset.at);
  EXPECT_EQ(local_date(zone("Atlantic/Reykjavik"), *day->sunset.at), ymd(2027, 6, 22));
  EXPECT_EQ(format_local_hhmm(zone("Atlantic/Reykjavik"), *day->sunset.at), "00:03");
  EXPECT_EQ(local_date(zone("Atlantic/Reykjavik"), *day->sunrise.at), ymd(2027, 6, 21));
}

TEST(SunTimes, AtTheEquatorTheDayIsTwelveHoursAndAFewMinutes) {
  const auto day = sun_day(ymd(2027, 3, 20), {0.0, 0.0}, zone("UTC"));
  ASSERT_TRUE(day && day->sunrise.at && day->sunset.at);
  const auto length = *day->sunset.at - *day->sunrise.at;
  EXPECT_GT(length, 12h);
  EXPECT_LT(length, 12h + 10min);
  EXPECT_LT(*day->civil_dawn.at, *day->sunrise.at);
  EXPECT_GT(*day->civil_dusk.at, *day->sunset.at);
}

TEST(SunTimes, RefusesALatitudeOrLongitudeOutOfRange) {
  for (GeoPosition bad : {GeoPosition{95.0, 0.0}, GeoPosition{-90.5, 0.0}, GeoPosition{0.0, 181.0},
                          GeoPosition{std::nan(""), 0.0}}) {
    const auto day = sun_day(ymd(2027, 6, 21), bad, zone("UTC"));
    ASSERT_FALSE(day);
    EXPECT_EQ(day.error().code, "invalid_value");
  }
  const auto lat = sun_day(ymd(2027, 6, 21), {95.0, 0.0}, zone("UTC"));
  EXPECT_NE(lat.error().message.find("latitude"), std::string::npos);
  EXPECT_NE(lat.error().message.find("95"), std::string::npos);
}

TEST(SunTimes, AtThePoleTheAnswerIsPolarNotACrash) {
  expect_all(*sun_day(ymd(2027, 6, 21), {90.0, 0.0}, zone("UTC")), SunState::AlwaysUp);
  expect_all(*sun_day(ymd(2027, 6, 21), {-90.0, 0.0}, zone("UTC")), SunState::AlwaysDown);
}

TEST(SunJson, NullWhereTheEventDoesNotHappenAndSaysWhy) {
  const auto day = sun_day(ymd(2027, 12, 21), {69.6492, 18.9553}, zone("Europe/Oslo"));
  const auto j = to_json(*day);
  EXPECT_EQ(j["date"], "2027-12-21");
  EXPECT_TRUE(j["sunrise"].is_null());
  EXPECT_TRUE(j["sunset"].is_null());
  EXPECT_TRUE(j["civil_dawn"].is_string());
  EXPECT_EQ(j["polar"]["sunrise"], "always_down");
  EXPECT_FALSE(j["polar"].contains("civil_dawn"));
  const auto london =
      to_json(*sun_day(ymd(2027, 3, 28), {51.5074, -0.1278}, zone("Europe/London")));
  EXPECT_FALSE(london.contains("polar"));
  EXPECT_EQ(london["sunrise"].get<std::string>().substr(0, 14), "2027-03-28T05:");
}

}  // namespace
}  // namespace nursery::schedule
