//! Local time: each analysis has an IANA time zone, and every "day" the product speaks of (activity
//! days, streaks, the quick-win window, history buckets, report times) is a local day in it, DST
//! included. The zone database is chrono-tz's, bundled, so a day is the same on every host.

use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;

use super::text::{self, Kind};
use super::RuleError;

/// An IANA time zone, as an analysis has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(Tz);

impl Default for TimeZone {
    /// Most users are in Québec.
    fn default() -> Self {
        Self(Tz::America__Toronto)
    }
}

impl TimeZone {
    /// Longest IANA name is 32 characters; this leaves room and bounds what is read.
    pub const MAX_CHARS: usize = 64;

    /// A zone by its IANA name (`America/Toronto`, `Europe/Paris`, `UTC`), exactly as the
    /// database spells it.
    pub fn parse(value: &str) -> Result<Self, RuleError> {
        text::check("timeZone", value, Kind::Line, Self::MAX_CHARS)?;
        Tz::from_str(value).map(Self).map_err(|_| {
            let shown: String = value.chars().take(40).collect();
            RuleError::InvalidInput(format!(
                "timeZone must be an IANA time zone such as America/Toronto or Europe/Paris, got {shown:?}"
            ))
        })
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// An instant in local time; one within a day of the calendar's ends is taken a day in
    /// (chrono panics on a local time past them, and a client may send such an instant).
    fn local(self, at: DateTime<Utc>) -> chrono::DateTime<Tz> {
        let margin = chrono::Duration::days(2);
        let at = at.clamp(
            DateTime::<Utc>::MIN_UTC + margin,
            DateTime::<Utc>::MAX_UTC - margin,
        );
        at.with_timezone(&self.0)
    }

    /// The local day of an instant.
    pub fn day_of(self, at: DateTime<Utc>) -> NaiveDate {
        self.local(at).date_naive()
    }

    /// The instant a local day begins: its midnight, or where a DST change skips midnight, the
    /// first local time that exists.
    pub fn start_of(self, day: NaiveDate) -> DateTime<Utc> {
        self.at(day, NaiveTime::MIN)
    }

    /// The instant of a local time on a local day (the earlier one when the clock goes back; the
    /// first that exists after it when the clock jumps over it).
    pub fn at(self, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let mut local = day.and_time(time);
        // a gap is at most a few hours; step until the local time exists
        for _ in 0..24 * 4 {
            if let Some(t) = self.0.from_local_datetime(&local).earliest() {
                return t.with_timezone(&Utc);
            }
            match local.checked_add_signed(chrono::Duration::minutes(15)) {
                Some(next) => local = next,
                None => break,
            }
        }
        // only at the calendar's ends: the same wall time in UTC
        Utc.from_utc_datetime(&day.and_time(time))
    }

    /// Days from one instant to another as a wall clock there reads them (a DST change does not
    /// make a day 23 or 25 hours long), fractional.
    pub fn days_between(self, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        let local = |t: DateTime<Utc>| self.local(t).naive_local();
        (local(to) - local(from)).num_milliseconds() as f64 / 86_400_000.0
    }

    /// The instant `days` local days after `from` (the inverse of [`Self::days_between`]).
    pub fn days_after(self, from: DateTime<Utc>, days: f64) -> DateTime<Utc> {
        let start = self.local(from).naive_local();
        let local = start
            .checked_add_signed(chrono::Duration::milliseconds((days * 86_400_000.0) as i64))
            .unwrap_or(start);
        self.at(local.date(), local.time())
    }

    /// The next local midnight after `now`.
    pub fn next_midnight(self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.day_of(now)
            .succ_opt()
            .map_or(now, |d| self.start_of(d))
    }

    /// The Monday of the local week holding `day`.
    pub fn monday_of(day: NaiveDate) -> NaiveDate {
        let back = chrono::Days::new(u64::from(day.weekday().num_days_from_monday()));
        // the calendar's first week has no Monday before its first day: that day, then
        day.checked_sub_days(back).unwrap_or(day)
    }
}

impl serde::Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for TimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn days_are_local_days() {
        let montreal = TimeZone::default();
        // 19:00 and 20:00 in Montréal (EST, UTC-5) are one day; in UTC, two
        let seven = utc("2026-01-15T00:00:00Z");
        let eight = utc("2026-01-15T01:00:00Z");
        assert_eq!(montreal.day_of(seven), montreal.day_of(eight));
        assert_ne!(seven.date_naive(), utc("2026-01-14T23:00:00Z").date_naive());
        // 23:30 and 00:30 local are two
        let late = utc("2026-01-15T04:30:00Z");
        let early = utc("2026-01-15T05:30:00Z");
        assert_eq!(
            montreal.day_of(late).succ_opt(),
            Some(montreal.day_of(early))
        );
    }

    #[test]
    fn a_day_begins_at_local_midnight_across_dst() {
        let montreal = TimeZone::default();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(
            montreal.start_of(d("2026-03-07")),
            utc("2026-03-07T05:00:00Z")
        );
        // DST began on 8 March at 02:00: the 9th starts at EDT midnight, UTC-4
        assert_eq!(
            montreal.start_of(d("2026-03-09")),
            utc("2026-03-09T04:00:00Z")
        );
        // Havana skips midnight when DST begins: the day begins at 01:00
        let havana = TimeZone::parse("America/Havana").unwrap();
        assert_eq!(
            havana.start_of(d("2026-03-08")),
            utc("2026-03-08T05:00:00Z")
        );
        assert_eq!(TimeZone::monday_of(d("2026-12-06")), d("2026-11-30"));
        assert_eq!(TimeZone::monday_of(d("2026-12-07")), d("2026-12-07"));
    }

    #[test]
    fn the_calendars_ends_do_not_panic() {
        for zone in [
            TimeZone::default(),
            TimeZone::parse("Pacific/Kiritimati").unwrap(),
        ] {
            for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
                let day = zone.day_of(at);
                let _ = zone.start_of(day);
                let _ = zone.next_midnight(at);
                let _ = zone.days_between(DateTime::<Utc>::MIN_UTC, at);
                let _ = zone.days_after(at, 1e9);
            }
            let _ = zone.start_of(NaiveDate::MAX);
            let _ = zone.start_of(NaiveDate::MIN);
            let _ = TimeZone::monday_of(NaiveDate::MIN);
            let _ = TimeZone::monday_of(zone.day_of(DateTime::<Utc>::MIN_UTC));
        }
    }

    #[test]
    fn only_iana_names_are_zones() {
        assert_eq!(
            TimeZone::parse("Europe/Paris").unwrap().name(),
            "Europe/Paris"
        );
        for bad in [
            "",
            "Mars/Olympus",
            "america/toronto",
            "+05:00",
            "Europe/Paris\0",
            &"A".repeat(65),
        ] {
            assert!(TimeZone::parse(bad).is_err(), "{bad:?}");
        }
    }
}
