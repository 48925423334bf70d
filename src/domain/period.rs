//! The periods platform KPIs are computed over.

use std::time::Duration;

/// The window and the tick of a platform KPI stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Minute,
    Hour,
    Day,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Minute, Period::Hour, Period::Day];

    /// The position in [`Period::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// PostgreSQL's name of the unit (`date_trunc`).
    pub fn unit(self) -> &'static str {
        match self {
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }

    /// The period ends (UTC-aligned) in `from..=to`: the first and the last, and how many; `None`
    /// when none falls in the range.
    pub fn ends_within(
        self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Option<(
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
        i64,
    )> {
        let step = self.duration().as_micros() as i64;
        let floor = |t: chrono::DateTime<chrono::Utc>| {
            let micros = t.timestamp_micros();
            micros - micros.rem_euclid(step)
        };
        let first = match floor(from) {
            f if f == from.timestamp_micros() => f,
            f => f.checked_add(step)?,
        };
        let last = floor(to);
        if last < first {
            return None;
        }
        let at = chrono::DateTime::from_timestamp_micros;
        Some((at(first)?, at(last)?, (last - first) / step + 1))
    }

    pub fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Period::Minute => 60,
            Period::Hour => 3600,
            Period::Day => 86_400,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_ends_are_aligned_and_counted() {
        let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        let (first, last, n) = Period::Hour
            .ends_within(t("2026-03-16T10:00:00Z"), t("2026-03-16T13:30:00Z"))
            .unwrap();
        assert_eq!(
            (first, last, n),
            (t("2026-03-16T10:00:00Z"), t("2026-03-16T13:00:00Z"), 4)
        );
        let (first, _, n) = Period::Day
            .ends_within(t("2026-03-16T00:00:01Z"), t("2026-03-18T00:00:00Z"))
            .unwrap();
        assert_eq!((first, n), (t("2026-03-17T00:00:00Z"), 2));
        assert!(Period::Minute
            .ends_within(t("2026-03-16T10:00:01Z"), t("2026-03-16T10:00:59Z"))
            .is_none());
    }
}
