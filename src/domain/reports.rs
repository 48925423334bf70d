//! Report rules and types: email addresses, frequencies and their send slots, languages, the
//! document's sections and formats.

use super::ids::{AnalysisId, SubscriptionId};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::zone::TimeZone;
use super::RuleError;

/// An email address, trimmed and lower-cased; only built by parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// Sending attempts per report in one run of the scheduler.
pub const ATTEMPTS_PER_RUN: i16 = 3;

/// Attempts a report gets in all: a report that failed every attempt of a run (the mail
/// server was away) is claimed again by a later run, once its claim's lease is over, until it
/// has had these.
pub const MAX_ATTEMPTS: i16 = 3 * ATTEMPTS_PER_RUN;

impl Email {
    pub fn parse(value: &str) -> Result<Self, RuleError> {
        let s = value.trim().to_lowercase();
        let bad =
            || RuleError::InvalidInput("email must be an address such as name@example.com".into());
        super::text::check("email", &s, super::text::Kind::Line, 254)?;
        if s.len() > 254 || s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if local.is_empty()
            || local.len() > 64
            || local.contains('@')
            || local.starts_with('.')
            || local.ends_with('.')
            || labels.len() < 2
            || !labels.iter().all(label_ok)
        {
            return Err(bad());
        }
        // what the mailer will accept (lettre's own checks): an address it refuses would be
        // refused only when the confirmation is sent, as an internal error
        let mailable_domain = idna::domain_to_ascii(domain)
            .is_ok_and(|ascii| email_address::EmailAddress::is_valid_domain(&ascii));
        if !email_address::EmailAddress::is_valid_local_part(local) || !mailable_domain {
            return Err(bad());
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An address as shown to anyone but its owner: its first character, then `***@` and the
/// domain (`u***@example.com`).
pub fn mask(email: &str) -> String {
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let first: String = local.chars().take(1).collect();
    format!("{first}***@{domain}")
}

/// A subscription to email reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub analysis_id: AnalysisId,
    pub email: String,
    pub frequency: Frequency,
    pub hourly_rate: Option<f64>,
    pub language: Lang,
    pub active: bool,
    pub last_sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When the address confirmed from the link; reports go only to confirmed addresses.
    pub confirmed_at: Option<DateTime<Utc>>,
}

pub use super::lang::Lang;

/// A section of the downloadable report, in document order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Summary,
    Badges,
    Metrics,
    Opportunities,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Summary,
        Section::Badges,
        Section::Metrics,
        Section::Opportunities,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Summary => "summary",
            Section::Badges => "badges",
            Section::Metrics => "metrics",
            Section::Opportunities => "opportunities",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A downloadable report's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DocumentFormat {
    #[default]
    Pdf,
    Html,
}

impl DocumentFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Html => "html",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pdf" => Some(Self::Pdf),
            "html" => Some(Self::Html),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Html => "text/html; charset=utf-8",
        }
    }
}

/// How often reports go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// Mondays at 09:00 UTC.
    Weekly,
    /// The 1st of the month at 09:00 UTC.
    Monthly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "weekly" => Some(Self::Weekly),
            "monthly" => Some(Self::Monthly),
            _ => None,
        }
    }

    /// The latest scheduled send time at or before `now`, at 09:00 local time in `zone`
    /// (weekly: Monday; monthly: the 1st).
    pub fn latest_slot(self, now: DateTime<Utc>, zone: TimeZone) -> DateTime<Utc> {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).expect("valid time");
        let at = |d: chrono::NaiveDate| zone.at(d, nine);
        let today = zone.day_of(now);
        let (this, previous) = match self {
            Self::Weekly => {
                let monday = TimeZone::monday_of(today);
                (monday, monday - Duration::days(7))
            }
            Self::Monthly => {
                let first = today.with_day(1).expect("day 1 exists");
                let previous = (first - Duration::days(1)).with_day(1).expect("day 1");
                (first, previous)
            }
        };
        if at(this) <= now {
            at(this)
        } else {
            at(previous)
        }
    }

    /// The period a slot opens, as a stable key of its local day: `weekly:2026-11-16`,
    /// `monthly:2026-11`.
    pub fn period_key(self, slot: DateTime<Utc>, zone: TimeZone) -> String {
        let day = zone.day_of(slot);
        match self {
            Self::Weekly => format!("weekly:{}", day.format("%Y-%m-%d")),
            Self::Monthly => format!("monthly:{}", day.format("%Y-%m")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn utc() -> TimeZone {
        TimeZone::parse("UTC").unwrap()
    }

    #[test]
    fn slots_are_at_nine_local_time() {
        let toronto = TimeZone::default();
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        let w = Frequency::Weekly;
        // Monday 7 December 2026, 09:00 in Toronto (EST) is 14:00 UTC; in Paris (CET) 08:00 UTC
        assert_eq!(
            w.latest_slot(t("2026-12-07T14:00:00Z"), toronto),
            t("2026-12-07T14:00:00Z")
        );
        assert_eq!(
            w.latest_slot(t("2026-12-07T13:59:00Z"), toronto),
            t("2026-11-30T14:00:00Z")
        );
        assert_eq!(
            w.latest_slot(t("2026-12-07T08:00:00Z"), paris),
            t("2026-12-07T08:00:00Z")
        );
        // in summer (EDT) 13:00 UTC
        let m = Frequency::Monthly;
        assert_eq!(
            m.latest_slot(t("2026-07-01T13:00:00Z"), toronto),
            t("2026-07-01T13:00:00Z")
        );
        assert_eq!(
            m.period_key(t("2026-07-01T13:00:00Z"), toronto),
            "monthly:2026-07"
        );
        // the 1st at 09:00 in Paris is still the 31st in Toronto's terms: its own key
        assert_eq!(
            m.period_key(t("2026-08-01T07:00:00Z"), paris),
            "monthly:2026-08"
        );
    }

    #[test]
    fn emails_parse_and_normalise() {
        assert_eq!(
            Email::parse(" Jo.Doe+x@Example.COM ").unwrap().as_str(),
            "jo.doe+x@example.com"
        );
        for bad in [
            "",
            "a",
            "a@b",
            "@example.com",
            "a@.com",
            "a@example..com",
            "a b@example.com",
            "a@-x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weekly_slots_are_mondays_at_nine() {
        let w = Frequency::Weekly;
        assert_eq!(
            w.latest_slot(t("2026-11-23T09:00:00Z"), utc()),
            t("2026-11-23T09:00:00Z")
        ); // Monday 09:00
        assert_eq!(
            w.latest_slot(t("2026-11-23T08:59:59Z"), utc()),
            t("2026-11-16T09:00:00Z")
        );
        assert_eq!(
            w.latest_slot(t("2026-11-22T12:00:00Z"), utc()),
            t("2026-11-16T09:00:00Z")
        ); // Sunday
           // across a month and a year end
        assert_eq!(
            w.latest_slot(t("2027-01-02T10:00:00Z"), utc()),
            t("2026-12-28T09:00:00Z")
        );
        assert_eq!(
            w.period_key(t("2026-12-28T09:00:00Z"), utc()),
            "weekly:2026-12-28"
        );
    }

    #[test]
    fn monthly_slots_are_the_first_at_nine() {
        let m = Frequency::Monthly;
        assert_eq!(
            m.latest_slot(t("2026-03-01T09:00:00Z"), utc()),
            t("2026-03-01T09:00:00Z")
        );
        assert_eq!(
            m.latest_slot(t("2026-03-01T08:00:00Z"), utc()),
            t("2026-02-01T09:00:00Z")
        );
        assert_eq!(
            m.latest_slot(t("2026-01-01T08:00:00Z"), utc()),
            t("2025-12-01T09:00:00Z")
        );
        assert_eq!(
            m.latest_slot(t("2028-02-29T23:00:00Z"), utc()),
            t("2028-02-01T09:00:00Z")
        );
        assert_eq!(
            m.period_key(t("2026-02-01T09:00:00Z"), utc()),
            "monthly:2026-02"
        );
    }
}
