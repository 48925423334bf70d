//! Analyses and their opportunities.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{analyses, opportunities, user_progress};
use crate::domain::analysis::{Analysis, Category, Identity, Opportunity, OpportunitySpec};
use crate::domain::ids::AnalysisId;
use crate::domain::status::ProgressStatus;
use crate::domain::zone::TimeZone;

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = analyses, check_for_backend(diesel::pg::Pg))]
pub struct AnalysisRow {
    id: Uuid,
    url: String,
    company_name: Option<String>,
    sector: Option<String>,
    estimated_size: Option<String>,
    tier: Option<String>,
    hourly_rate: Option<f64>,
    currency: String,
    created_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    version: i64,
    time_zone: String,
    language: String,
}

impl From<AnalysisRow> for Analysis {
    fn from(r: AnalysisRow) -> Self {
        Analysis {
            id: r.id.into(),
            url: r.url,
            identity: Identity {
                company_name: r.company_name,
                sector: r.sector,
                estimated_size: r.estimated_size,
                tier: r.tier,
            },
            hourly_rate: r.hourly_rate,
            currency: r.currency,
            created_at: r.created_at,
            completed_at: r.completed_at,
            updated_at: r.updated_at,
            // written only once parsed: a name the zone database no longer has reads as the default
            time_zone: TimeZone::parse(&r.time_zone).unwrap_or_default(),
            // the column's check allows only ours
            language: crate::domain::reports::Lang::parse(&r.language).unwrap_or_default(),
            version: r.version,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = opportunities, check_for_backend(diesel::pg::Pg))]
pub struct OpportunityRow {
    id: Uuid,
    analysis_id: Uuid,
    opportunity_id: String,
    category: String,
    hours_per_week: f64,
    hours_per_year: i32,
    problem_teaser: Option<String>,
    complexity_level: i16,
    tools_hint: Option<String>,
}

/// An opportunity row joined with its progress row.
pub type OpportunityWithProgress = (OpportunityRow, String, Option<DateTime<Utc>>);

/// Maps a joined row to the domain; a value outside the check constraints is a corrupt row.
pub fn to_opportunity(
    (o, status, implemented_at): OpportunityWithProgress,
) -> QueryResult<Opportunity> {
    let corrupt = |what: &str| {
        diesel::result::Error::DeserializationError(
            format!("opportunity {}: bad {what}", o.id).into(),
        )
    };
    Ok(Opportunity {
        category: Category::parse(&o.category).ok_or_else(|| corrupt("category"))?,
        status: ProgressStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        id: o.id,
        analysis_id: o.analysis_id.into(),
        opportunity_id: o.opportunity_id,
        hours_per_week: o.hours_per_week,
        hours_per_year: o.hours_per_year,
        problem_teaser: o.problem_teaser,
        complexity_level: o.complexity_level,
        tools_hint: o.tools_hint,
        implemented_at,
    })
}

/// The newest analysis of this normalised URL created at or after `since`.
pub async fn find_recent_by_url(
    conn: &mut AsyncPgConnection,
    normalized_url: &str,
    since: DateTime<Utc>,
) -> QueryResult<Option<AnalysisId>> {
    let id: Option<Uuid> = analyses::table
        .filter(analyses::normalized_url.eq(normalized_url))
        .filter(analyses::created_at.ge(since))
        .order(analyses::created_at.desc())
        .select(analyses::id)
        .first(conn)
        .await
        .optional()?;
    Ok(id.map(AnalysisId::from))
}

/// Serialises writers of one URL for the rest of the transaction, so two pipelines recording the
/// same site at once get one analysis.
pub async fn lock_url(conn: &mut AsyncPgConnection, normalized_url: &str) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<diesel::sql_types::Text, _>(normalized_url)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Insertable)]
#[diesel(table_name = analyses)]
pub struct NewAnalysis<'a> {
    pub id: Uuid,
    pub url: &'a str,
    pub normalized_url: &'a str,
    pub company_name: Option<&'a str>,
    pub sector: Option<&'a str>,
    pub estimated_size: Option<&'a str>,
    pub tier: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub time_zone: &'a str,
    pub language: &'a str,
}

/// Inserts an analysis, its opportunities (in the order given) and their NOT_STARTED progress
/// rows.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    analysis: &NewAnalysis<'_>,
    opps: &[OpportunitySpec],
) -> QueryResult<()> {
    diesel::insert_into(analyses::table)
        .values(analysis)
        .execute(conn)
        .await?;
    if opps.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = opps
        .iter()
        .enumerate()
        .map(|(i, o)| {
            (
                opportunities::id.eq(Uuid::new_v4()),
                opportunities::analysis_id.eq(analysis.id),
                opportunities::opportunity_id.eq(o.opportunity_id.as_str()),
                opportunities::category.eq(o.category.as_str()),
                opportunities::hours_per_week.eq(o.hours_per_week),
                opportunities::hours_per_year.eq(o.hours_per_year),
                opportunities::problem_teaser.eq(o.problem_teaser.as_deref()),
                opportunities::complexity_level.eq(o.complexity_level as i16),
                opportunities::tools_hint.eq(o.tools_hint.as_deref()),
                opportunities::position.eq(i as i16),
            )
        })
        .collect();
    diesel::insert_into(opportunities::table)
        .values(rows)
        .execute(conn)
        .await?;
    let progress: Vec<_> = opps
        .iter()
        .map(|o| {
            (
                user_progress::analysis_id.eq(analysis.id),
                user_progress::opportunity_id.eq(o.opportunity_id.as_str()),
            )
        })
        .collect();
    diesel::insert_into(user_progress::table)
        .values(progress)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks the analysis row for the rest of the transaction: progress changes to one analysis run
/// one after another, so badge evaluation always sees the latest state.
pub async fn lock(conn: &mut impl super::Conn, id: AnalysisId) -> QueryResult<Option<Analysis>> {
    let id = id.get();
    analyses::table
        .find(id)
        .select(AnalysisRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
        .map(|r| r.map(Analysis::from))
}

/// Records a change: remembers the hourly rate when given, and moves the version on.
pub async fn touch(
    conn: &mut impl super::Conn,
    id: AnalysisId,
    hourly_rate: Option<f64>,
    now: DateTime<Utc>,
) -> QueryResult<DateTime<Utc>> {
    use super::prepared::{prepared, sql, Statement};
    use diesel::sql_types::{Double, Nullable, Timestamptz, Uuid as SqlUuid};
    struct Touch;
    impl Statement for Touch {
        // `updated_at` is the transaction's time, set by a trigger: returned for the caller's copy
        const PARTS: &'static [&'static str] = &[
            "UPDATE analyses SET hourly_rate = coalesce(",
            ", hourly_rate), updated_at = ",
            ", version = version + 1 WHERE id = ",
            " RETURNING updated_at",
        ];
        type SqlType = Timestamptz;
    }
    prepared::<Touch, _>((
        (sql::<Nullable<Double>>(), hourly_rate),
        (sql::<Timestamptz>(), now),
        (sql::<SqlUuid>(), id.get()),
    ))
    .get_result(conn)
    .await
}

/// Ids of the analyses changed most recently (cache warm-up).
pub async fn most_recently_changed(
    conn: &mut AsyncPgConnection,
    count: i64,
) -> QueryResult<Vec<AnalysisId>> {
    let ids: Vec<Uuid> = analyses::table
        .order(analyses::updated_at.desc())
        .limit(count)
        .select(analyses::id)
        .load(conn)
        .await?;
    Ok(ids.into_iter().map(AnalysisId::from).collect())
}

/// The versions of those of `ids` that exist: what a read elsewhere (the replica) must have reached.
pub async fn versions(
    conn: &mut impl super::Conn,
    ids: &[AnalysisId],
) -> QueryResult<HashMap<AnalysisId, i64>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.get()).collect();
    let rows: Vec<(Uuid, i64)> = analyses::table
        .filter(analyses::id.eq_any(ids))
        .select((analyses::id, analyses::version))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, v)| (AnalysisId::from(id), v))
        .collect())
}

/// Whether an analysis with this id exists.
pub async fn exists(conn: &mut AsyncPgConnection, id: AnalysisId) -> QueryResult<bool> {
    let id = id.get();
    diesel::select(diesel::dsl::exists(analyses::table.find(id)))
        .get_result(conn)
        .await
}

/// Gives the analysis another time zone, and moves its activity days into it: the log's day of
/// every entry and the summary of days, as if it had always been there. The zone is parsed first
/// (`TimeZone`); PostgreSQL's zone database has every IANA name.
pub async fn set_time_zone(
    conn: &mut AsyncPgConnection,
    id: AnalysisId,
    zone: TimeZone,
) -> QueryResult<()> {
    use diesel::sql_types::{Text, Uuid as SqlUuid};
    let (id, zone) = (id.get(), zone.name());
    diesel::update(analyses::table.find(id))
        .set(analyses::time_zone.eq(zone))
        .execute(conn)
        .await?;
    diesel::sql_query(
        "UPDATE progress_activity SET activity_day = (occurred_at AT TIME ZONE $2)::date \
         WHERE analysis_id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(zone)
    .execute(conn)
    .await?;
    diesel::sql_query("DELETE FROM activity_days WHERE analysis_id = $1")
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .await?;
    diesel::sql_query(
        "INSERT INTO activity_days (analysis_id, day) SELECT DISTINCT analysis_id, activity_day \
         FROM progress_activity WHERE analysis_id = $1 AND activity_day IS NOT NULL",
    )
    .bind::<SqlUuid, _>(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the analysis' language.
pub async fn set_language(
    conn: &mut AsyncPgConnection,
    id: AnalysisId,
    language: crate::domain::reports::Lang,
) -> QueryResult<()> {
    diesel::update(analyses::table.find(id.get()))
        .set(analyses::language.eq(language.as_str()))
        .execute(conn)
        .await?;
    Ok(())
}
