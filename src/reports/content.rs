//! What a report says, built once from a dashboard and fed to every format: the email (HTML and
//! text), the HTML document and the PDF.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use super::numbers::{amount, hours, money, percent};
use crate::domain::analysis::Opportunity;
use crate::domain::badge::EarnedBadge;
use crate::domain::dashboard::DashboardData;
use crate::domain::messages::Message;
use crate::domain::metrics::{metrics, progress_summary};
use crate::domain::recommendations::recommendations;
pub use crate::domain::reports::Lang;
use crate::domain::reports::{Frequency, Section};
use crate::domain::status::ProgressStatus;
use crate::domain::zone::TimeZone;

type Strings = HashMap<String, String>;

/// The templates' labels (`t.per_week`...), from the `report-` messages of each language.
static STRINGS: LazyLock<HashMap<Lang, Strings>> = LazyLock::new(|| {
    Lang::ALL
        .into_iter()
        .map(|lang| (lang, crate::domain::messages::labels(lang, "report-")))
        .collect()
});

fn strings(lang: Lang) -> &'static Strings {
    &STRINGS[&lang]
}

/// Money saved a year, written with its currency as the reader writes it ("13 000 $").
#[derive(Debug, Clone, Serialize)]
pub struct Money {
    pub implemented: String,
    pub potential: String,
    pub currency: String,
    /// The unit of a yearly sum, with its currency: "CAD/year", "CAD/an".
    pub unit: String,
}

impl Money {
    fn new(m: &crate::domain::metrics::MoneySaved, lang: Lang) -> Self {
        let written = |value: Option<i64>| money(value.unwrap_or(0), &m.currency, lang);
        Self {
            implemented: written(m.implemented_annual),
            potential: written(m.potential_annual),
            currency: m.currency.clone(),
            unit: Message::new("report-money-unit")
                .text("currency", &m.currency)
                .render(lang),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BadgeLine {
    pub name: String,
    pub icon: String,
    /// common, rare, epic or legendary: the medal's colour in the PDF.
    pub rarity: &'static str,
    pub description: String,
    pub points: i32,
    pub earned_on: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub title: String,
    pub hours_per_week: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpportunityLine {
    pub title: String,
    pub tools: String,
    pub hours_per_week: String,
    pub complexity: i16,
    pub status_label: String,
    /// 0, 50 or 100: the status as a bar.
    pub progress: i32,
}

/// One bar of the chart of hours per week by opportunity.
#[derive(Debug, Clone, Serialize)]
pub struct ChartBar {
    pub title: String,
    pub hours: String,
    /// NOT_STARTED, IN_PROGRESS or IMPLEMENTED: the bar's colour.
    pub status: &'static str,
    /// The bar's length, in percent of the longest (at least 1, so that every bar shows).
    pub width: u32,
}

/// Most bars in the chart: the opportunities with the most hours per week.
pub const CHART_BARS: usize = 12;

/// The chart's bars: the opportunities with the most hours per week, longest first.
fn chart(opportunities: &[Opportunity], lang: Lang) -> Vec<ChartBar> {
    let mut largest: Vec<&Opportunity> = opportunities.iter().collect();
    largest.sort_by(|a, b| b.hours_per_week.total_cmp(&a.hours_per_week));
    largest.truncate(CHART_BARS);
    let max = largest.first().map_or(0.0, |o| o.hours_per_week);
    largest
        .into_iter()
        .map(|o| ChartBar {
            title: title_of(o),
            hours: hours(o.hours_per_week, lang),
            status: o.status.as_str(),
            width: if max > 0.0 {
                ((o.hours_per_week / max * 100.0).round() as u32).clamp(1, 100)
            } else {
                1
            },
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportContent {
    pub lang: &'static str,
    pub t: &'static Strings,
    pub title: String,
    pub company: String,
    pub url: String,
    pub completion: i32,
    /// The completion as the reader writes it: "45 %" (fr, no-break space) or "45%" (en).
    pub completion_text: String,
    pub implemented: i32,
    pub total: i32,
    /// "2 opportunités implémentées sur 5".
    pub implemented_line: String,
    /// The completion as 20 characters, for the plain-text email.
    pub bar: String,
    pub hours_weekly: String,
    pub potential_weekly: String,
    /// Hours a year, thousands grouped as the reader groups them ("1 040").
    pub hours_annual: String,
    pub potential_annual: String,
    pub money: Option<Money>,
    /// Every badge earned, oldest first.
    pub badges: Vec<BadgeLine>,
    /// Badges earned since the last report (all of them for a first report).
    pub new_badges: Vec<BadgeLine>,
    /// The top two recommendations.
    pub next_steps: Vec<Step>,
    pub opportunities: Vec<OpportunityLine>,
    /// Hours per week by opportunity, coloured by status (the document's chart).
    pub chart: Vec<ChartBar>,
    /// Implemented hours per week, week by week (`with_history`).
    pub weeks: Vec<super::change::WeekBar>,
    /// What changed since the previous report (`with_history`, for an email).
    pub change: Option<super::change::Change>,
    pub dashboard_url: String,
    pub unsubscribe_url: String,
    pub why: String,
    pub generated_on: String,
    /// The sections shown, by name (the templates test them).
    pub sections: Vec<&'static str>,
}

/// A local day as its reader writes it.
fn date(day: chrono::NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::Fr => day.format("%d/%m/%Y").to_string(),
        Lang::En => day.format("%Y-%m-%d").to_string(),
    }
}

/// How an opportunity is named in a report: its teaser, or its id in words.
fn title_of(o: &Opportunity) -> String {
    o.problem_teaser
        .clone()
        .unwrap_or_else(|| o.opportunity_id.replace('_', " "))
}

impl BadgeLine {
    fn new(b: &EarnedBadge, lang: Lang, zone: TimeZone) -> Self {
        Self {
            name: b.badge.name_in(lang).to_owned(),
            icon: b.badge.icon.clone().unwrap_or_default(),
            rarity: b.badge.rarity.as_str(),
            description: b.badge.description_in(lang).to_owned(),
            points: b.badge.points,
            earned_on: date(zone.day_of(b.earned_at), lang),
        }
    }
}

impl OpportunityLine {
    fn new(o: &Opportunity, lang: Lang) -> Self {
        Self {
            title: title_of(o),
            tools: o.tools_hint.clone().unwrap_or_default(),
            hours_per_week: hours(o.hours_per_week, lang),
            complexity: o.complexity_level,
            status_label: strings(lang)[&format!("status_{}", o.status.as_str())].clone(),
            progress: match o.status {
                ProgressStatus::NotStarted => 0,
                ProgressStatus::InProgress => 50,
                ProgressStatus::Implemented => 100,
            },
        }
    }
}

impl ReportContent {
    /// `rate` overrides the analysis' hourly rate (a subscriber's own rate); `badges_since` picks
    /// the "new" badges.
    pub fn new(
        data: &DashboardData,
        lang: Lang,
        now: DateTime<Utc>,
        rate: Option<f64>,
        badges_since: Option<DateTime<Utc>>,
    ) -> Self {
        let t = strings(lang);
        let a = &data.analysis;
        let m = metrics(&data.opportunities, rate.or(a.hourly_rate), &a.currency);
        let s = progress_summary(&data.opportunities);
        let zone = a.time_zone;
        let badge = |b| BadgeLine::new(b, lang, zone);
        let filled = (s.completion_percentage / 5) as usize;
        Self {
            lang: lang.as_str(),
            t,
            title: t["report_title"].clone(),
            company: a
                .identity
                .company_name
                .clone()
                .unwrap_or_else(|| a.url.clone()),
            url: a.url.clone(),
            completion: s.completion_percentage,
            completion_text: percent(s.completion_percentage, lang),
            implemented: s.implemented,
            total: s.total,
            implemented_line: Message::new("report-implemented")
                .number("implemented", s.implemented.into())
                .number("total", s.total.into())
                .render(lang),
            bar: format!("{}{}", "#".repeat(filled), "-".repeat(20 - filled)),
            hours_weekly: hours(m.time_saved.implemented_weekly, lang),
            potential_weekly: hours(m.time_saved.potential_weekly, lang),
            hours_annual: amount(m.time_saved.implemented_annual, lang),
            potential_annual: amount(m.time_saved.potential_annual, lang),
            money: m
                .money_saved
                .hourly_rate
                .map(|_| Money::new(&m.money_saved, lang)),
            badges: data.badges.iter().map(badge).collect(),
            new_badges: data
                .badges
                .iter()
                .filter(|b| badges_since.is_none_or(|since| b.earned_at > since))
                .map(badge)
                .collect(),
            next_steps: recommendations(&data.opportunities)
                .into_iter()
                .take(2)
                .map(|r| Step {
                    title: title_of(r.opportunity),
                    hours_per_week: hours(r.opportunity.hours_per_week, lang),
                    reason: r.reason.render(lang),
                })
                .collect(),
            opportunities: data
                .opportunities
                .iter()
                .map(|o| OpportunityLine::new(o, lang))
                .collect(),
            chart: chart(&data.opportunities, lang),
            weeks: Vec::new(),
            change: None,
            dashboard_url: String::new(),
            unsubscribe_url: String::new(),
            why: String::new(),
            // the analysis' local day, as every day the product speaks of
            generated_on: date(zone.day_of(now), lang),
            sections: Section::ALL.iter().map(|s| s.as_str()).collect(),
        }
    }

    /// Addresses the content to a subscriber's email.
    pub fn for_email(
        mut self,
        frequency: Frequency,
        dashboard_url: String,
        unsubscribe_url: String,
    ) -> Self {
        let (title, why) = match frequency {
            Frequency::Weekly => ("weekly_title", "why_weekly"),
            Frequency::Monthly => ("monthly_title", "why_monthly"),
        };
        self.title = self.t[title].clone();
        self.why = self.t[why].clone();
        self.dashboard_url = dashboard_url;
        self.unsubscribe_url = unsubscribe_url;
        self
    }

    /// With the progress chart (implemented hours per week, week by week) and, given the
    /// previous report's instant, what changed since (`change`).
    pub fn with_history(
        mut self,
        data: &DashboardData,
        log: &crate::domain::history::Log,
        since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let lang = Lang::parse(self.lang).unwrap_or_default();
        self.weeks = super::change::weeks(data, log, now, lang);
        self.change = since.map(|since| super::change::since(data, log, since, now, lang));
        self
    }

    pub fn with_sections(mut self, sections: &[Section]) -> Self {
        self.sections = sections.iter().map(|s| s.as_str()).collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(zone: &str) -> DashboardData {
        let at: DateTime<Utc> = "2026-03-01T00:00:00Z".parse().unwrap();
        DashboardData {
            analysis: crate::domain::analysis::Analysis {
                id: crate::domain::ids::AnalysisId::random(),
                url: "https://x.example.com".into(),
                identity: Default::default(),
                hourly_rate: None,
                currency: "CAD".into(),
                created_at: at,
                completed_at: None,
                updated_at: at,
                time_zone: TimeZone::parse(zone).unwrap(),
                language: Lang::Fr,
                version: 1,
            },
            opportunities: Vec::new(),
            badges: Vec::new(),
            activity: Default::default(),
            catalog: Default::default(),
        }
    }

    #[test]
    fn a_report_is_dated_by_the_analysis_local_day() {
        // 22:00 on the 15th in Toronto, 04:00 on the 16th in Paris
        let now: DateTime<Utc> = "2026-03-16T03:00:00Z".parse().unwrap();
        let on = |zone| ReportContent::new(&data(zone), Lang::Fr, now, None, None).generated_on;
        assert_eq!(on("America/Toronto"), "15/03/2026");
        assert_eq!(on("Europe/Paris"), "16/03/2026");
    }

    #[test]
    fn hours_read_naturally() {
        assert_eq!(hours(8.0, Lang::Fr), "8");
        assert_eq!(hours(2.5, Lang::Fr), "2,5");
        assert_eq!(hours(2.5, Lang::En), "2.5");
        assert_eq!(hours(-0.0, Lang::Fr), "0");
    }

    #[test]
    fn amounts_group_thousands() {
        assert_eq!(amount(13000, Lang::Fr), "13\u{202f}000");
        assert_eq!(amount(1234567, Lang::En), "1,234,567");
        assert_eq!(amount(999, Lang::En), "999");
    }

    #[test]
    fn both_languages_have_every_string() {
        let fr: std::collections::BTreeSet<_> = strings(Lang::Fr).keys().collect();
        let en: std::collections::BTreeSet<_> = strings(Lang::En).keys().collect();
        assert_eq!(fr, en);
    }
}
