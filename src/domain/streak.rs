//! Activity streaks in local days (the analysis' time zone), from the activity log.

use chrono::{DateTime, NaiveDate, Utc};

/// Facts about an analysis' activity log that the badge rules need.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActivitySummary {
    /// Distinct local days with at least one accepted change, ascending.
    pub days: Vec<NaiveDate>,
    /// The first time any opportunity became IMPLEMENTED (kept even if later undone).
    pub first_implemented_at: Option<DateTime<Utc>>,
}

/// Consecutive active days ending today or yesterday (a streak is not broken until a whole day
/// passes without activity). `days` must be ascending; duplicates are tolerated.
pub fn current_streak(days: &[NaiveDate], today: NaiveDate) -> u32 {
    let mut iter = days.iter().rev().copied().skip_while(|d| *d > today);
    let Some(last) = iter.next() else { return 0 };
    if (today - last).num_days() > 1 {
        return 0;
    }
    let mut streak = 1;
    let mut expected = last;
    for day in iter {
        if day == expected {
            continue;
        }
        match expected.pred_opt() {
            Some(prev) if day == prev => {
                streak += 1;
                expected = day;
            }
            _ => break,
        }
    }
    streak
}

/// The longest run of consecutive active days. `days` must be ascending.
pub fn longest_streak(days: &[NaiveDate]) -> u32 {
    let (mut longest, mut run) = (0, 0);
    let mut previous: Option<NaiveDate> = None;
    for &day in days {
        run = match previous {
            Some(p) if p == day => run,
            Some(p) if p.succ_opt() == Some(day) => run + 1,
            _ => 1,
        };
        longest = longest.max(run);
        previous = Some(day);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_run_anywhere_in_the_log() {
        let days = [
            d("2026-02-27"),
            d("2026-02-28"),
            d("2026-03-01"),
            d("2026-03-01"),
            d("2026-03-05"),
        ];
        assert_eq!(longest_streak(&days), 3);
        assert_eq!(longest_streak(&[]), 0);
        assert_eq!(longest_streak(&days[4..]), 1);
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn empty_log_has_no_streak() {
        assert_eq!(current_streak(&[], d("2026-01-10")), 0);
    }

    #[test]
    fn seven_days_across_a_month_end() {
        let days: Vec<_> = (0..7)
            .map(|i| d("2026-01-28") + chrono::Days::new(i))
            .collect();
        assert_eq!(days.last().unwrap(), &d("2026-02-03"));
        assert_eq!(current_streak(&days, d("2026-02-03")), 7);
    }

    #[test]
    fn across_a_year_end_and_leap_day() {
        let days = [d("2027-12-30"), d("2027-12-31"), d("2028-01-01")];
        assert_eq!(current_streak(&days, d("2028-01-01")), 3);
        let days = [d("2028-02-28"), d("2028-02-29"), d("2028-03-01")];
        assert_eq!(current_streak(&days, d("2028-03-01")), 3);
    }

    #[test]
    fn a_gap_breaks_the_streak() {
        let days = [
            d("2026-03-01"),
            d("2026-03-02"),
            d("2026-03-04"),
            d("2026-03-05"),
        ];
        assert_eq!(current_streak(&days, d("2026-03-05")), 2);
    }

    #[test]
    fn yesterday_still_counts_but_two_days_ago_does_not() {
        let days = [d("2026-03-01"), d("2026-03-02")];
        assert_eq!(current_streak(&days, d("2026-03-03")), 2);
        assert_eq!(current_streak(&days, d("2026-03-04")), 0);
    }

    #[test]
    fn duplicates_and_future_days_are_tolerated() {
        let days = [
            d("2026-03-01"),
            d("2026-03-02"),
            d("2026-03-02"),
            d("2026-03-09"),
        ];
        assert_eq!(current_streak(&days, d("2026-03-02")), 2);
    }
}
