#include "daemon/schedule/sun.hpp"

#include <fmt/format.h>

#include <cmath>

#include "daemon/schedule/civil_time.hpp"

namespace nursery::schedule {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kSecondsPerDay = 86400.0;

double rad(double deg) { return deg * kPi / 180.0; }
double deg(double rad) { return rad * 180.0 / kPi; }

// Into [0, m) whatever the sign of x.
double positive_mod(double x, double m) {
  const double r = std::fmod(x, m);
  return r < 0 ? r + m : r;
}

// Into (-180, 180].
double wrap180(double angle) {
  const double a = positive_mod(angle + 180.0, 360.0) - 180.0;
  return a == -180.0 ? 180.0 : a;
}

// Seconds since 1970-01-01T00:00:00Z: the solver works on a plain number line.
using UnixSeconds = double;

UnixSeconds to_unix(Instant t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

struct SolarTerms {
  double declination;       // degrees
  double equation_of_time;  // minutes: apparent minus mean solar time
};

// The NOAA solar equations (Meeus, ch. 25, low precision) at instant t.
SolarTerms solar_terms(UnixSeconds t) {
  const double julian_day = t / kSecondsPerDay + 2440587.5;
  const double c = (julian_day - 2451545.0) / 36525.0;  // Julian centuries since J2000.0

  const double mean_longitude = positive_mod(280.46646 + c * (36000.76983 + c * 0.0003032), 360.0);
  const double mean_anomaly = 357.52911 + c * (35999.05029 - 0.0001537 * c);
  const double eccentricity = 0.016708634 - c * (0.000042037 + 0.0000001267 * c);
  const double m = rad(mean_anomaly);
  const double centre = std::sin(m) * (1.914602 - c * (0.004817 + 0.000014 * c)) +
                        std::sin(2 * m) * (0.019993 - 0.000101 * c) + std::sin(3 * m) * 0.000289;
  const double true_longitude = mean_longitude + centre;
  const double omega = rad(125.04 - 1934.136 * c);  // the moon's node, for nutation
  const double apparent_longitude = true_longitude - 0.00569 - 0.00478 * std::sin(omega);
  const double mean_obliquity =
      23.0 + (26.0 + (21.448 - c * (46.815 + c * (0.00059 - c * 0.001813))) / 60.0) / 60.0;
  const double obliquity = mean_obliquity + 0.00256 * std::cos(omega);

  const double declination =
      deg(std::asin(std::sin(rad(obliquity)) * std::sin(rad(apparent_longitude))));

  const double y = std::pow(std::tan(rad(obliquity) / 2.0), 2);
  const double l0 = rad(mean_longitude);
  const double e = eccentricity;
  const double eot_radians = y * std::sin(2 * l0) - 2 * e * std::sin(m) +
                             4 * e * y * std::sin(m) * std::cos(2 * l0) -
                             0.5 * y * y * std::sin(4 * l0) - 1.25 * e * e * std::sin(2 * m);
  return {declination, 4.0 * deg(eot_radians)};
}

// The sun's hour angle at t, degrees in (-180, 180]: 0 at its transit,
// negative in the morning.
double hour_angle(UnixSeconds t, double longitude) {
  const double minutes_of_day = positive_mod(t, kSecondsPerDay) / 60.0;
  const double true_solar_minutes =
      minutes_of_day + solar_terms(t).equation_of_time + 4.0 * longitude;
  return wrap180(true_solar_minutes / 4.0 - 180.0);
}

// The transit (solar noon) nearest to `guess`.
UnixSeconds transit_near(UnixSeconds guess, double longitude) {
  UnixSeconds t = guess;
  for (int i = 0; i < 4; ++i) t -= hour_angle(t, longitude) / 15.0 * 3600.0;
  return t;
}

// cos of the hour angle at which the sun's centre is at `altitude` on a day
// of the given declination. Beyond [-1, 1] the sun never gets there: above 1
// it stays below (polar night), below -1 it stays above (midnight sun).
double cos_event_hour_angle(double altitude, double latitude, double declination) {
  const double numerator =
      std::sin(rad(altitude)) - std::sin(rad(latitude)) * std::sin(rad(declination));
  const double denominator = std::cos(rad(latitude)) * std::cos(rad(declination));
  if (std::fabs(denominator) < 1e-12) return numerator > 0 ? 2.0 : -2.0;  // at a pole
  return numerator / denominator;
}

SunTime solve(SunEvent event, UnixSeconds transit, GeoPosition where) {
  const double sign = is_morning(event) ? -1.0 : 1.0;
  const double altitude = event_altitude(event);
  // Start half-way between noon and midnight; each step evaluates the
  // declination and the equation of time at the current estimate, so the
  // answer is for the instant of the event, not for noon.
  UnixSeconds t = transit + sign * 6.0 * 3600.0;
  for (int i = 0; i < 12; ++i) {
    const double c = cos_event_hour_angle(altitude, where.latitude, solar_terms(t).declination);
    if (c > 1.0) return {SunState::AlwaysDown, std::nullopt};
    if (c < -1.0) return {SunState::AlwaysUp, std::nullopt};
    const double target = sign * deg(std::acos(c));
    // The hour angle now, unwrapped to be continuous around this day's transit.
    const double expected = (t - transit) / 3600.0 * 15.0;
    double now = hour_angle(t, where.longitude);
    now += 360.0 * std::round((expected - now) / 360.0);
    const double step = (target - now) / 15.0 * 3600.0;
    t += step;
    if (std::fabs(step) < 0.5) break;
  }
  const auto whole = std::chrono::seconds{std::llround(t)};
  return {SunState::Happens, Instant{whole}};
}

bool position_ok(GeoPosition where) {
  return std::isfinite(where.latitude) && std::isfinite(where.longitude) &&
         std::fabs(where.latitude) <= 90.0 && std::fabs(where.longitude) <= 180.0;
}

}  // namespace

Status check_position(GeoPosition where) {
  if (!std::isfinite(where.latitude) || std::fabs(where.latitude) > 90.0)
    return Error{
        "invalid_value",
        fmt::format("latitude must be a number from -90 to 90 degrees, got {}", where.latitude),
        400};
  if (!std::isfinite(where.longitude) || std::fabs(where.longitude) > 180.0)
    return Error{
        "invalid_value",
        fmt::format("longitude must be a number from -180 to 180 degrees, got {}", where.longitude),
        400};
  return Ok{};
}

std::string_view sun_event_name(SunEvent event) {
  switch (event) {
    case SunEvent::Sunrise:
      return "sunrise";
    case SunEvent::Sunset:
      return "sunset";
    case SunEvent::CivilDawn:
      return "civil_dawn";
    case SunEvent::CivilDusk:
      return "civil_dusk";
  }
  return "sunset";
}

std::optional<SunEvent> parse_sun_event(std::string_view name) {
  for (auto e : {SunEvent::Sunrise, SunEvent::Sunset, SunEvent::CivilDawn, SunEvent::CivilDusk})
    if (sun_event_name(e) == name) return e;
  return std::nullopt;
}

bool is_morning(SunEvent event) {
  return event == SunEvent::Sunrise || event == SunEvent::CivilDawn;
}

double event_altitude(SunEvent event) {
  return event == SunEvent::Sunrise || event == SunEvent::Sunset ? -0.833 : -6.0;
}

const SunTime& SunDay::operator[](SunEvent event) const {
  switch (event) {
    case SunEvent::Sunrise:
      return sunrise;
    case SunEvent::Sunset:
      return sunset;
    case SunEvent::CivilDawn:
      return civil_dawn;
    case SunEvent::CivilDusk:
      return civil_dusk;
  }
  return sunset;
}

SunTime sun_time(SunEvent event, date::year_month_day local_date, GeoPosition where,
                 const date::time_zone& zone) {
  if (!local_date.ok() || !position_ok(where)) return {SunState::AlwaysDown, std::nullopt};
  // The transit nearest local noon is the one on this local date for any
  // zone within ±12 h of the place's solar time.
  const Instant noon = resolve_local(zone, local_date, TimeOfDay{std::chrono::hours{12}}).at;
  const UnixSeconds transit = transit_near(to_unix(noon), where.longitude);
  return solve(event, transit, where);
}

Expected<SunDay> sun_day(date::year_month_day local_date, GeoPosition where,
                         const date::time_zone& zone) {
  if (auto ok = check_position(where); !ok) return ok.error();
  if (!local_date.ok())
    return Error{"invalid_value", "date must be a calendar date like 2027-06-21", 400};
  SunDay day;
  day.date = local_date;
  day.sunrise = sun_time(SunEvent::Sunrise, local_date, where, zone);
  day.sunset = sun_time(SunEvent::Sunset, local_date, where, zone);
  day.civil_dawn = sun_time(SunEvent::CivilDawn, local_date, where, zone);
  day.civil_dusk = sun_time(SunEvent::CivilDusk, local_date, where, zone);
  return day;
}

nlohmann::json to_json(const SunDay& day) {
  nlohmann::json out = {{"date", date::format("%F", date::sys_days{day.date})}};
  nlohmann::json polar = nlohmann::json::object();
  for (auto e : {SunEvent::Sunrise, SunEvent::Sunset, SunEvent::CivilDawn, SunEvent::CivilDusk}) {
    const SunTime& t = day[e];
    const std::string name(sun_event_name(e));
    if (t.at) {
      out[name] = format_utc(*t.at);
    } else {
      out[name] = nullptr;
      polar[name] = t.state == SunState::AlwaysUp ? "always_up" : "always_down";
    }
  }
  if (!polar.empty()) out["polar"] = polar;
  return out;
}

}  // namespace nursery::schedule
