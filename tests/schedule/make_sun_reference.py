#!/usr/bin/python3
"""Writes sun_reference.csv: sunrise, sunset, civil dawn and civil dusk from an
independent ephemeris (PyEphem), for the sun tests of schedule_tests.

Run once, by hand, when the table should change; the CSV is committed and the
C++ test only reads it, so neither CI nor a developer needs PyEphem:

    apt-get install python3-ephem          # Debian 12; PyEphem 4.1.4
    /usr/bin/python3 tests/schedule/make_sun_reference.py > tests/schedule/sun_reference.csv

(Debian's python3-* modules are for /usr/bin/python3; another python3 earlier
on PATH may not have them.)

Conventions, the same as the C++ code (daemon/schedule/sun.hpp):
- the events of a local date are those of the solar day whose transit (solar
  noon) falls on that date: the rising before that transit, the setting after;
- sunrise/sunset: the sun's centre at -0:50 (refraction 34' plus the sun's
  radius, as NOAA's -0.833 deg), with PyEphem's own refraction switched off
  (pressure 0) so that it is not counted twice; civil dawn/dusk: the centre
  at -6 deg;
- an event that does not happen in that solar day is written always_up or
  always_down (PyEphem's AlwaysUpError / NeverUpError);
- instants are UTC, rounded to the second;
- low_before, high, low_after: the altitude of the sun's centre (degrees,
  without refraction) at the lower culmination before the transit, at the
  transit and at the lower culmination after it. On a day where one of them
  is within a few hundredths of a degree of an event's altitude the sun only
  grazes it: whether the event happens, and when, then turns on the last
  digits of the declination, and the test does not hold a model to it.
"""

import csv
import datetime
import sys
from zoneinfo import ZoneInfo

import ephem

# name, latitude, longitude, tz zone. Both hemispheres, the equator, ±65 deg,
# half- and quarter-hour zones, and polar places for the polar-day/night rows.
PLACES = [
    ("Quito", -0.1807, -78.4678, "America/Guayaquil"),
    ("Singapore", 1.3521, 103.8198, "Asia/Singapore"),
    ("Honolulu", 21.3069, -157.8583, "Pacific/Honolulu"),
    ("Kolkata", 22.5726, 88.3639, "Asia/Kolkata"),  # +05:30
    ("Kathmandu", 27.7172, 85.3240, "Asia/Kathmandu"),  # +05:45
    ("Sydney", -33.8688, 151.2093, "Australia/Sydney"),
    ("Lord Howe Island", -31.5553, 159.0821, "Australia/Lord_Howe"),  # 30-minute DST
    ("Santiago", -33.4489, -70.6693, "America/Santiago"),
    ("New York", 40.7128, -74.0060, "America/New_York"),
    ("Berlin", 52.5200, 13.4050, "Europe/Berlin"),
    ("London", 51.5074, -0.1278, "Europe/London"),
    ("Ushuaia", -54.8019, -68.3030, "America/Argentina/Ushuaia"),
    ("Anchorage", 61.2181, -149.9003, "America/Anchorage"),
    ("Reykjavik", 64.1466, -21.9426, "Atlantic/Reykjavik"),
    ("Palmer Station", -64.7743, -64.0531, "Antarctica/Palmer"),
    ("Tromso", 69.6492, 18.9553, "Europe/Oslo"),
    ("69.6 S", -69.6, 39.5833, "Antarctica/Syowa"),
    ("Longyearbyen", 78.2232, 15.6267, "Arctic/Longyearbyen"),
    ("78 S", -78.0, 166.6667, "Antarctica/McMurdo"),
]


def dates_of_2027():
    days = set()
    for month in range(1, 13):
        days.add(datetime.date(2027, month, 5))
        days.add(datetime.date(2027, month, 20))
    # Solstices, and the DST changes of Europe, the US and Australia.
    for m, d in [(6, 21), (12, 21), (3, 14), (3, 28), (4, 4), (10, 3), (10, 31), (11, 7)]:
        days.add(datetime.date(2027, m, d))
    return sorted(days)


def utc_naive(moment):
    return moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def iso(ephem_date):
    t = ephem.Date(ephem_date).datetime()
    t = (t + datetime.timedelta(microseconds=500000)).replace(microsecond=0)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def events(lat, lon, zone, day):
    observer = ephem.Observer()
    observer.lat = str(lat)
    observer.lon = str(lon)
    observer.elevation = 0
    observer.pressure = 0
    sun = ephem.Sun()
    tz = ZoneInfo(zone)
    midnight = utc_naive(datetime.datetime(day.year, day.month, day.day, tzinfo=tz))
    next_day = day + datetime.timedelta(days=1)
    next_midnight = utc_naive(datetime.datetime(next_day.year, next_day.month, next_day.day, tzinfo=tz))
    transit = observer.next_transit(sun, start=ephem.Date(midnight))
    if not ephem.Date(midnight) <= transit < ephem.Date(next_midnight):
        raise SystemExit(f"{zone} {day}: the transit is not on the local date")

    def altitude(when):
        observer.date = when
        sun.compute(observer)
        return f"{float(sun.alt) * 180.0 / 3.141592653589793:.3f}"

    out = {
        "low_before": altitude(observer.previous_antitransit(sun, start=transit)),
        "high": altitude(transit),
        "low_after": altitude(observer.next_antitransit(sun, start=transit)),
    }
    for name, horizon, find in [
        ("sunrise", "-0:50", observer.previous_rising),
        ("sunset", "-0:50", observer.next_setting),
        ("civil_dawn", "-6", observer.previous_rising),
        ("civil_dusk", "-6", observer.next_setting),
    ]:
        observer.horizon = horizon
        try:
            t = find(sun, start=transit, use_center=True)
            if abs(t - transit) > 0.5:  # ephem days: beyond 12 h it is another solar day
                raise SystemExit(f"{zone} {day} {name}: found an event of another day")
            out[name] = iso(t)
        except ephem.AlwaysUpError:
            out[name] = "always_up"
        except ephem.NeverUpError:
            out[name] = "always_down"
    return out


def main():
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["place", "latitude", "longitude", "zone", "date",
                     "sunrise", "sunset", "civil_dawn", "civil_dusk",
                     "low_before", "high", "low_after"])
    for name, lat, lon, zone in PLACES:
        for day in dates_of_2027():
            e = events(lat, lon, zone, day)
            writer.writerow([name, lat, lon, zone, day.isoformat(),
                             e["sunrise"], e["sunset"], e["civil_dawn"], e["civil_dusk"],
                             e["low_before"], e["high"], e["low_after"]])


if __name__ == "__main__":
    main()
