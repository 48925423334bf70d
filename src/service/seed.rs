//! Demo data: the specification's example analysis plus a realistic spread of others, created
//! through the same services as real traffic (so badges, activity and metrics are all genuine).
//! Idempotent: ids are fixed, and an analysis that exists is left alone.

use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use indicatif::{ProgressBar, ProgressStyle};
use uuid::{uuid, Uuid};

use crate::domain::ids::AnalysisId;

use crate::db::analyses;
use crate::domain::analysis::OpportunitySpec;
use crate::domain::analysis::{Category, Identity};
use crate::domain::status::ProgressStatus::{self, *};
use crate::error::{AppError, AppResult};
use crate::service::record_analysis::{record_analysis, AnalysisSpec};
use crate::service::update_progress::{update_progress, ProgressChange};

/// The example analysis of the specification.
pub const EXAMPLE_ANALYSIS_ID: AnalysisId =
    AnalysisId::new(uuid!("550e8400-e29b-41d4-a716-446655440000"));

/// Demo analyses other than the example get ids from here up.
const DEMO_ID_BASE: u128 = 0xdead_0000_0000_4000_8000_0000_0000_0000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub created: usize,
    pub existing: usize,
}

/// (days after creation, hours into that day, opportunity, status, rate)
type Step = (i64, i64, &'static str, ProgressStatus, Option<f64>);

struct Plan {
    spec: AnalysisSpec,
    steps: Vec<Step>,
}

fn opp(
    id: &'static str,
    week: f64,
    year: i32,
    complexity: i32,
    teaser: &str,
    tools: &str,
) -> OpportunitySpec {
    OpportunitySpec {
        opportunity_id: id.into(),
        category: Category::parse(id).unwrap_or(Category::BusinessManagement),
        hours_per_week: week,
        hours_per_year: year,
        problem_teaser: Some(teaser.into()),
        complexity_level: complexity,
        tools_hint: Some(tools.into()),
    }
}

fn example(now: DateTime<Utc>) -> Plan {
    let created = now - Duration::days(3);
    Plan {
        spec: AnalysisSpec {
            id: Some(EXAMPLE_ANALYSIS_ID),
            url: "https://example.com".into(),
            identity: Identity {
                company_name: Some("Example Inc.".into()),
                sector: Some("Services Professionnels".into()),
                estimated_size: Some("50-100".into()),
                tier: Some("Tier 2".into()),
            },
            opportunities: vec![
                opp(
                    "digital_presence",
                    5.0,
                    260,
                    7,
                    "Site web lent et peu de visibilité en ligne",
                    "SEO automation, analytics integration",
                ),
                opp(
                    "value_creation",
                    8.0,
                    416,
                    5,
                    "Processus de facturation manuel",
                    "Invoice automation, CRM integration",
                ),
                opp(
                    "business_management",
                    2.0,
                    104,
                    3,
                    "Suivi des dépenses sur Excel",
                    "Accounting software integration",
                ),
            ],
            created_at: Some(created),
            completed_at: Some(created + Duration::seconds(35)),
            time_zone: None,
            language: None,
        },
        steps: vec![
            (0, 3, "value_creation", InProgress, None),
            (1, 2, "digital_presence", Implemented, Some(50.0)),
        ],
    }
}

const SECTORS: [&str; 8] = [
    "Services Professionnels",
    "Commerce de détail",
    "Construction",
    "Santé",
    "Restauration",
    "Manufacturier",
    "Immobilier",
    "Technologies",
];
/// Most users are in Québec; some elsewhere, so that the demo shows local days that differ.
const ZONES: [&str; 6] = [
    "America/Toronto",
    "America/Montreal",
    "America/Toronto",
    "America/Vancouver",
    "Europe/Paris",
    "America/Halifax",
];
const SIZES: [&str; 5] = ["1-10", "10-49", "50-100", "100-249", "250+"];
const NAMES: [&str; 12] = [
    "Boréal",
    "Laurentide",
    "Érable",
    "Cap-Rouge",
    "Saguenay",
    "Outaouais",
    "Maskinongé",
    "Beauce",
    "Gaspé",
    "Charlevoix",
    "Mauricie",
    "Estrie",
];
const KINDS: [&str; 6] = [
    "Conseil",
    "Atelier",
    "Groupe",
    "Services",
    "Distribution",
    "Solutions",
];

/// A small deterministic generator, so the same demo data comes out every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The i-th demo analysis at one of five stages: untouched, started, one implemented,
/// most implemented, everything implemented over a 7-day streak.
fn demo(i: usize, now: DateTime<Utc>) -> Plan {
    let mut rng = Rng(i as u64 * 7919 + 17);
    let company = format!(
        "{} {} {}",
        KINDS[rng.below(KINDS.len() as u64) as usize],
        NAMES[i % NAMES.len()],
        i + 1
    );
    // two to six months ago, so that history has months to show
    let created =
        now - Duration::days(60 + rng.below(120) as i64) - Duration::hours(rng.below(12) as i64);
    let ids = ["digital_presence", "value_creation", "business_management"];
    let mut opportunities: Vec<_> = ids
        .iter()
        .map(|id| {
            let week = 1.0 + rng.below(16) as f64 / 2.0;
            opp(
                id,
                week,
                (week * 52.0) as i32,
                1 + rng.below(10) as i32,
                "Tâches répétitives à automatiser",
                "Automatisation, intégrations",
            )
        })
        .collect();
    // not every analysis has exactly three opportunities
    if i % 4 == 1 {
        opportunities.push(OpportunitySpec {
            opportunity_id: "customer_support".into(),
            ..opp(
                "business_management",
                3.5,
                182,
                4,
                "Courriels clients traités à la main",
                "Helpdesk, réponses automatiques",
            )
        });
    }
    let rate = Some(40.0 + rng.below(9) as f64 * 10.0);
    let steps = demo_steps(i, ids, rate);
    Plan {
        spec: AnalysisSpec {
            id: Some(Uuid::from_u128(DEMO_ID_BASE + i as u128).into()),
            url: format!("https://www.demo-{}.example.ca/", i + 1),
            identity: Identity {
                company_name: Some(company),
                sector: Some(SECTORS[rng.below(SECTORS.len() as u64) as usize].into()),
                estimated_size: Some(SIZES[rng.below(SIZES.len() as u64) as usize].into()),
                tier: Some(format!("Tier {}", 1 + rng.below(3))),
            },
            opportunities,
            created_at: Some(created),
            completed_at: Some(created + Duration::seconds(20 + rng.below(40) as i64)),
            time_zone: Some(ZONES[i % ZONES.len()].into()),
            // one in five reads English
            language: Some(if i % 5 == 3 {
                crate::domain::reports::Lang::En
            } else {
                crate::domain::reports::Lang::Fr
            }),
        },
        steps,
    }
}

/// The moves of the i-th demo analysis: (days after creation, hours into that day, opportunity,
/// status, rate).
fn demo_steps(i: usize, ids: [&'static str; 3], rate: Option<f64>) -> Vec<Step> {
    match i % 5 {
        0 => vec![],
        1 => vec![(1, 4, ids[0], InProgress, None)],
        2 => vec![
            (0, 5, ids[1], InProgress, rate),
            (12, 2, ids[1], Implemented, None),
            (30, 1, ids[2], InProgress, None),
        ],
        3 => vec![
            (2, 1, ids[0], InProgress, None),
            (20, 3, ids[0], Implemented, rate),
            (41, 2, ids[1], Implemented, None),
            (55, 4, ids[2], InProgress, None),
        ],
        // seven moves on seven consecutive days, ending with everything implemented
        _ => vec![
            (0, 2, ids[0], InProgress, rate),
            (1, 2, ids[0], Implemented, None),
            (2, 2, ids[1], InProgress, None),
            (3, 2, ids[1], Implemented, None),
            (4, 2, ids[2], InProgress, None),
            (5, 2, ids[2], NotStarted, None),
            (6, 2, ids[2], Implemented, None),
        ],
    }
}

async fn apply(conn: &mut AsyncPgConnection, plan: Plan) -> AppResult<bool> {
    let id = plan.spec.id.expect("demo plans have ids");
    if analyses::exists(conn, id).await? {
        return Ok(false);
    }
    let created = plan.spec.created_at.expect("demo plans have dates");
    let recorded = record_analysis(conn, plan.spec, created).await?;
    if recorded.analysis_id != id {
        return Err(AppError::invalid_input(format!(
            "demo analysis {id}: its URL was recorded in the last 7 days by analysis {}",
            recorded.analysis_id
        )));
    }
    for (day, hour, opportunity, status, rate) in plan.steps {
        let at = created + Duration::days(day) + Duration::hours(hour);
        let change = ProgressChange {
            analysis_id: id,
            opportunity_id: opportunity.into(),
            status,
            hourly_rate: rate,
            actor: None,
        };
        let outcome = update_progress(conn, change, at).await?;
        // History, not news: nobody is listening to demo data being made.
        crate::db::outbox::mark_published(conn, &outcome.outbox_ids).await?;
    }
    Ok(true)
}

/// Seeds the example analysis and `others` demo analyses, showing a progress bar on a terminal.
pub async fn seed_demo(
    conn: &mut AsyncPgConnection,
    others: usize,
    now: DateTime<Utc>,
) -> AppResult<SeedReport> {
    let bar = ProgressBar::new(others as u64 + 1);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_message("seeding");
    let mut report = SeedReport::default();
    let plans = std::iter::once(example(now)).chain((0..others).map(|i| demo(i, now)));
    for plan in plans {
        if apply(conn, plan).await? {
            report.created += 1;
        } else {
            report.existing += 1;
        }
        bar.inc(1);
    }
    bar.finish_with_message("seeded");
    Ok(report)
}
