#pragma once
// Sunrise, sunset, civil dawn and civil dusk from the NOAA solar equations
// (the ones behind NOAA's Solar Calculator, after Meeus' "Astronomical
// Algorithms"), solved for the instant itself rather than read off at noon,
// so they stay within a minute of an ephemeris up to ±65° latitude (the
// committed reference table, tests/schedule/sun_reference.csv, checks 2).
//
// Which events belong to a local date: those of the solar day whose noon
// (the sun's transit) falls on that date — the sunrise before that noon and
// the sunset after it. That is what NOAA's calculator and an almanac print.
// Where days are long and the zone is far west of its meridian (Reykjavik in
// June), the sunset of the 21st falls at 00:04 on the 22nd: it is still the
// 21st's sunset, so a "sunset -30m" trigger of the 21st is at 23:34 on the
// 21st and every date has exactly one sunset until the polar day begins.
//
// Where the sun does not cross an event's altitude in that solar day the
// event does not happen, and which of the two it is is said: AlwaysUp (above
// it all day: midnight sun, or a white night for civil dawn and dusk) or
// AlwaysDown (below it all day: polar night).
//
// Pure functions: any thread; nothing here throws.

#include <date/tz.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "daemon/expected.hpp"
#include "daemon/schedule/time_text.hpp"

namespace nursery::schedule {

struct GeoPosition {
  double latitude = 0.0;   // degrees, north positive, -90..90
  double longitude = 0.0;  // degrees, east positive, -180..180
};

// "invalid_value" naming latitude or longitude when out of range or not a number.
Status check_position(GeoPosition where);

enum class SunEvent { Sunrise, Sunset, CivilDawn, CivilDusk };

// "sunrise", "sunset", "civil_dawn", "civil_dusk" — the names schedules use.
std::string_view sun_event_name(SunEvent event);
std::optional<SunEvent> parse_sun_event(std::string_view name);
// True for sunrise and civil dawn, which come before the sun's noon.
bool is_morning(SunEvent event);
// The altitude of the sun's centre that defines the event, in degrees:
// -0.833 for sunrise and sunset (refraction and the sun's radius), -6 for
// civil dawn and dusk.
double event_altitude(SunEvent event);

enum class SunState {
  Happens,     // `at` is set
  AlwaysUp,    // the sun stays above the event's altitude all that day
  AlwaysDown,  // the sun stays below it all that day
};

struct SunTime {
  SunState state = SunState::Happens;
  std::optional<Instant> at;  // UTC, whole seconds; set exactly when state is Happens
};

struct SunDay {
  date::year_month_day date;  // the local date asked for
  SunTime sunrise;
  SunTime sunset;
  SunTime civil_dawn;
  SunTime civil_dusk;
  const SunTime& operator[](SunEvent event) const;
};

// One event of one local date at one place. `where` must be valid
// (check_position); an invalid one gives AlwaysDown rather than garbage.
SunTime sun_time(SunEvent event, date::year_month_day local_date, GeoPosition where,
                 const date::time_zone& zone);

// All four events of a local date; "invalid_value" for a bad position or date.
Expected<SunDay> sun_day(date::year_month_day local_date, GeoPosition where,
                         const date::time_zone& zone);

// The shape of GET /api/v1/sun: {"date":"2027-06-21","sunrise":"…Z"|null,
// "sunset":…,"civil_dawn":…,"civil_dusk":…} and, only when some event does
// not happen, "polar":{"sunset":"always_up",…} saying why for each null.
nlohmann::json to_json(const SunDay& day);

}  // namespace nursery::schedule
