//! Recording an analysis from the pipeline, with URL de-duplication over 7 days.

use std::collections::HashSet;

use crate::domain::ids::AnalysisId;
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db::analyses::{self, NewAnalysis};
use crate::domain::analysis::{Identity, OpportunitySpec};
use crate::domain::text::Kind;
use crate::domain::values::{self, NormalizedUrl, OpportunityKey};
use crate::domain::zone::TimeZone;
use crate::error::{AppError, AppResult};
use crate::service::{recent_urls, Services};

/// How long a recorded URL answers for itself.
pub const DUPLICATE_WINDOW: Duration = Duration::days(7);
/// More is almost certainly a pipeline bug.
pub const MAX_OPPORTUNITIES: usize = 50;
const MAX_TEXT: usize = 2000;
const MAX_IDENTITY_TEXT: usize = 200;

#[derive(Debug, Clone)]
pub struct AnalysisSpec {
    pub url: String,
    pub identity: Identity,
    pub opportunities: Vec<OpportunitySpec>,
    pub created_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// An IANA name; `America/Toronto` when not given.
    pub time_zone: Option<String>,
    /// Its readers' language; French when not given.
    pub language: Option<crate::domain::reports::Lang>,
    /// Set by callers that need a known id (demo data); otherwise a new v4 id.
    pub id: Option<AnalysisId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    pub analysis_id: AnalysisId,
    /// The same normalised URL was recorded in the last 7 days; that analysis was returned.
    pub duplicate: bool,
}

fn text(value: &Option<String>, field: &str, kind: Kind, max: usize) -> AppResult<Option<String>> {
    Ok(values::optional_text(field, value.as_deref(), kind, max)?)
}

/// Checks everything before anything is written.
struct Checked {
    url: String,
    normalized: NormalizedUrl,
    identity: Identity,
    /// Trimmed, with their keys checked.
    opportunities: Vec<OpportunitySpec>,
    created_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    time_zone: TimeZone,
    language: crate::domain::reports::Lang,
}

/// The zone named, or the default (`America/Toronto`).
fn time_zone(name: Option<&str>) -> AppResult<TimeZone> {
    name.map_or(Ok(TimeZone::default()), |name| {
        TimeZone::parse(name).map_err(|e| AppError::invalid_input(format!("identity.{e}")))
    })
}

fn check(spec: AnalysisSpec, now: DateTime<Utc>) -> AppResult<Checked> {
    let normalized = NormalizedUrl::parse(&spec.url)?;
    let time_zone = time_zone(spec.time_zone.as_deref())?;
    let created_at = spec.created_at.unwrap_or(now);
    if created_at > now + Duration::minutes(5) {
        return Err(AppError::invalid_input(
            "createdAt must not be in the future",
        ));
    }
    if let Some(done) = spec.completed_at {
        if done < created_at {
            return Err(AppError::invalid_input(
                "completedAt must not be before createdAt",
            ));
        }
    }
    if spec.opportunities.is_empty() {
        return Err(AppError::invalid_input(
            "an analysis needs at least one opportunity",
        ));
    }
    if spec.opportunities.len() > MAX_OPPORTUNITIES {
        return Err(AppError::invalid_input(format!(
            "an analysis has at most {MAX_OPPORTUNITIES} opportunities"
        )));
    }
    let mut seen = HashSet::new();
    let mut opportunities = Vec::with_capacity(spec.opportunities.len());
    for (i, mut o) in spec.opportunities.into_iter().enumerate() {
        let at = |what: &str| AppError::invalid_input(format!("opportunities[{i}]: {what}"));
        let key = OpportunityKey::parse(&o.opportunity_id).map_err(|e| at(&e.to_string()))?;
        if !seen.insert(key.as_str().to_owned()) {
            return Err(at(&format!("duplicate opportunityId {:?}", key.as_str())));
        }
        if !o.hours_per_week.is_finite() || !(0.0..=168.0).contains(&o.hours_per_week) {
            return Err(at("hoursPerWeek must be between 0 and 168"));
        }
        if !(0..=8784).contains(&o.hours_per_year) {
            return Err(at("hoursPerYear must be between 0 and 8784"));
        }
        if !(1..=10).contains(&o.complexity_level) {
            return Err(at("complexityLevel must be between 1 and 10"));
        }
        o.problem_teaser = text(&o.problem_teaser, "problemTeaser", Kind::Prose, MAX_TEXT)
            .map_err(|e| at(&e.to_string()))?;
        o.tools_hint = text(&o.tools_hint, "toolsHint", Kind::Prose, MAX_TEXT)
            .map_err(|e| at(&e.to_string()))?;
        o.opportunity_id = key.as_str().to_owned();
        opportunities.push(o);
    }
    let id = &spec.identity;
    Ok(Checked {
        url: spec.url.trim().to_owned(),
        normalized,
        identity: Identity {
            company_name: text(
                &id.company_name,
                "identity.companyName",
                Kind::Line,
                MAX_IDENTITY_TEXT,
            )?,
            sector: text(&id.sector, "identity.sector", Kind::Line, MAX_IDENTITY_TEXT)?,
            estimated_size: text(
                &id.estimated_size,
                "identity.estimatedSize",
                Kind::Line,
                MAX_IDENTITY_TEXT,
            )?,
            tier: text(&id.tier, "identity.tier", Kind::Line, MAX_IDENTITY_TEXT)?,
        },
        opportunities,
        created_at,
        completed_at: spec.completed_at,
        time_zone,
        language: spec.language.unwrap_or_default(),
    })
}

/// Records an analysis through the cache's de-duplication key first, then PostgreSQL.
pub async fn record(
    services: &Services,
    spec: AnalysisSpec,
    now: DateTime<Utc>,
) -> AppResult<Recorded> {
    let normalized = NormalizedUrl::parse(&spec.url)?;
    let cache = services.state.cache.as_deref();
    let known = match cache {
        Some(c) => recent_urls::recent(c, normalized.as_str(), now - DUPLICATE_WINDOW).await,
        None => None,
    };
    if let Some(existing) = known {
        // validate the rest anyway: a bad request is refused even when the site is known
        check(spec, now)?;
        crate::series::dedup_lookup(true);
        return Ok(Recorded {
            analysis_id: existing,
            duplicate: true,
        });
    }
    let created_at = spec.created_at.unwrap_or(now);
    let recorded = {
        let mut conn = services.state.pool.get().await?;
        record_analysis(&mut conn, spec, now).await?
    };
    crate::series::dedup_lookup(recorded.duplicate);
    if let (false, Some(c)) = (recorded.duplicate, cache) {
        recent_urls::remember(c, normalized.as_str(), recorded.analysis_id, created_at).await;
    }
    Ok(recorded)
}

/// Records an analysis, its opportunities and their NOT_STARTED progress; or, when the same site
/// was recorded in the last 7 days, returns that analysis instead.
pub async fn record_analysis(
    conn: &mut AsyncPgConnection,
    spec: AnalysisSpec,
    now: DateTime<Utc>,
) -> AppResult<Recorded> {
    let id = spec.id.unwrap_or_else(AnalysisId::random);
    let c = check(spec, now)?;
    conn.transaction::<_, AppError, _>(async move |conn| {
        analyses::lock_url(conn, c.normalized.as_str()).await?;
        if let Some(existing) =
            analyses::find_recent_by_url(conn, c.normalized.as_str(), now - DUPLICATE_WINDOW)
                .await?
        {
            return Ok(Recorded {
                analysis_id: existing,
                duplicate: true,
            });
        }
        let analysis = NewAnalysis {
            id: id.get(),
            url: &c.url,
            normalized_url: c.normalized.as_str(),
            company_name: c.identity.company_name.as_deref(),
            sector: c.identity.sector.as_deref(),
            estimated_size: c.identity.estimated_size.as_deref(),
            tier: c.identity.tier.as_deref(),
            created_at: c.created_at,
            completed_at: c.completed_at,
            time_zone: c.time_zone.name(),
            language: c.language.as_str(),
        };
        analyses::insert(conn, &analysis, &c.opportunities).await?;
        Ok(Recorded {
            analysis_id: id,
            duplicate: false,
        })
    })
    .await
}
