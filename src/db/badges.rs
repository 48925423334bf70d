//! The active catalog, awards, and achievement progress.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::{badge_metadata, user_badges};
use crate::domain::achievements::Achievement;
use crate::domain::badge::{BadgeCategory, BadgeDefinition, EarnedBadge, Rarity};
use crate::domain::criteria::UnlockCriteria;
use crate::domain::ids::AnalysisId;
use crate::domain::reports::Lang;

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = badge_metadata, check_for_backend(diesel::pg::Pg))]
pub struct BadgeRow {
    pub(crate) id: Uuid,
    pub(crate) slug: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) icon: Option<String>,
    pub(crate) rarity: String,
    pub(crate) points: i32,
    pub(crate) category: String,
    pub(crate) unlock_criteria: serde_json::Value,
    pub(crate) display_order: i32,
    pub(crate) active: bool,
    pub(crate) version: i32,
    pub(crate) translations: serde_json::Value,
}

impl BadgeRow {
    /// The domain definition; `None` (with a warning) for a row edited by hand into nonsense, so one
    /// bad badge cannot take every dashboard down.
    pub fn into_definition(self) -> Option<BadgeDefinition> {
        let parsed = (|| {
            Some(BadgeDefinition {
                rarity: Rarity::parse(&self.rarity)?,
                category: BadgeCategory::parse(&self.category)?,
                criteria: UnlockCriteria::from_json(&self.unlock_criteria).ok()?,
                id: self.id.into(),
                slug: self.slug.clone(),
                name: self.name.clone(),
                description: self.description.clone(),
                icon: self.icon.clone(),
                points: self.points,
                display_order: self.display_order,
                active: self.active,
                version: self.version,
                translations: serde_json::from_value(self.translations.clone()).ok()?,
            })
        })();
        if parsed.is_none() {
            tracing::warn!(badge = %self.slug, "skipping badge with an invalid definition");
        }
        parsed
    }
}

/// The active catalog in display order.
pub fn active_catalog_query<'a, C>() -> impl diesel_async::methods::LoadQuery<'a, C, BadgeRow>
where
    C: diesel_async::AsyncConnectionCore<Backend = diesel::pg::Pg>,
{
    badge_metadata::table
        .filter(badge_metadata::active.eq(true))
        .order((badge_metadata::display_order, badge_metadata::slug))
        .select(BadgeRow::as_select())
}

pub fn into_catalog(rows: Vec<BadgeRow>) -> Vec<BadgeDefinition> {
    rows.into_iter()
        .filter_map(BadgeRow::into_definition)
        .collect()
}

/// What changes whenever the catalog does (a badge added, changed, retired or brought back): the
/// dashboards statement returns it too, so a load notices a catalog newer than the one in memory.
#[macro_export]
macro_rules! catalog_mark_sql {
    () => {
        "(SELECT count(*) FILTER (WHERE active) || '/' || coalesce(sum(version), 0) || '/' \
          || coalesce(max(updated_at)::text, '') FROM badge_metadata)"
    };
}

#[derive(QueryableByName)]
struct Mark {
    #[diesel(sql_type = diesel::sql_types::Text)]
    mark: String,
}

/// The active catalog and its mark ([`catalog_mark_sql`]), pipelined.
pub async fn active_catalog_marked(
    conn: &mut AsyncPgConnection,
) -> QueryResult<(Vec<BadgeDefinition>, String)> {
    let conn: &AsyncPgConnection = conn;
    let (mut c1, mut c2) = (conn, conn);
    let mark = diesel::sql_query(concat!("SELECT ", catalog_mark_sql!(), " AS mark"));
    let (rows, mark) = futures_util::try_join!(
        active_catalog_query().load(&mut c1),
        mark.get_result::<Mark>(&mut c2),
    )?;
    Ok((into_catalog(rows), mark.mark))
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = user_badges, check_for_backend(diesel::pg::Pg))]
pub struct AwardRow {
    id: Uuid,
    analysis_id: Uuid,
    version_earned: i32,
    earned_at: DateTime<Utc>,
}

pub type AwardWithBadge = (AwardRow, BadgeRow);

/// `(analysis id, award)` pairs.
pub fn into_awards(rows: Vec<AwardWithBadge>) -> Vec<(AnalysisId, EarnedBadge)> {
    rows.into_iter()
        .filter_map(|(a, b)| {
            Some((
                a.analysis_id.into(),
                EarnedBadge {
                    id: a.id,
                    badge: b.into_definition()?,
                    version_earned: a.version_earned,
                    earned_at: a.earned_at,
                },
            ))
        })
        .collect()
}

/// Stores awards decided under the analysis' row lock (their ids made by the caller, so that
/// the events can be written in the same round trip). A second award of one badge is an error:
/// under the lock, the caller knew every award the analysis held.
pub async fn insert_awards(
    conn: &mut impl super::Conn,
    analysis_id: AnalysisId,
    awards: &[EarnedBadge],
) -> QueryResult<()> {
    if awards.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = awards
        .iter()
        .map(|a| {
            (
                user_badges::id.eq(a.id),
                user_badges::analysis_id.eq(analysis_id.get()),
                user_badges::badge_id.eq(a.badge.id.get()),
                user_badges::version_earned.eq(a.version_earned),
                user_badges::earned_at.eq(a.earned_at),
            )
        })
        .collect();
    diesel::insert_into(user_badges::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps `achievement_progress` in step with the latest evaluation, in one statement.
pub async fn save_progress(
    conn: &mut impl super::Conn,
    analysis_id: AnalysisId,
    achievements: &[Achievement<'_>],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    use super::prepared::{prepared, sql, Statement};
    use diesel::sql_types::{Array, Jsonb, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
    struct SaveProgress;
    impl Statement for SaveProgress {
        // one row per badge, the columns bound as arrays: the same statement for any number
        const PARTS: &'static [&'static str] = &[
            "INSERT INTO achievement_progress \
               (analysis_id, badge_id, progress_percentage, details, next_milestone, updated_at) \
             SELECT ",
            ", b, p, d, m, ",
            " FROM unnest(",
            ", ",
            ", ",
            ", ",
            ") AS t (b, p, d, m) \
             ON CONFLICT (analysis_id, badge_id) DO UPDATE SET \
               progress_percentage = excluded.progress_percentage, details = excluded.details, \
               next_milestone = excluded.next_milestone, updated_at = excluded.updated_at",
        ];
        type SqlType = diesel::sql_types::Untyped;
    }
    if achievements.is_empty() {
        return Ok(());
    }
    let badges: Vec<Uuid> = achievements.iter().map(|a| a.badge.id.get()).collect();
    let percentages: Vec<i16> = achievements
        .iter()
        .map(|a| a.progress_percentage as i16)
        .collect();
    let details: Vec<serde_json::Value> = achievements
        .iter()
        .map(|a| serde_json::to_value(&a.details).unwrap_or_default())
        .collect();
    // kept in the default language (the API writes them in the reader's)
    let milestones: Vec<Option<String>> = achievements
        .iter()
        .map(|a| a.next_milestone.as_ref().map(|m| m.render(Lang::default())))
        .collect();
    prepared::<SaveProgress, _>((
        (sql::<SqlUuid>(), analysis_id.get()),
        (sql::<Timestamptz>(), now),
        (sql::<Array<SqlUuid>>(), badges),
        (sql::<Array<SmallInt>>(), percentages),
        (sql::<Array<Jsonb>>(), details),
        (sql::<Array<Nullable<Text>>>(), milestones),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Awards of one analysis earned after `since`, oldest first (the replay of `badgeAwarded`).
pub async fn awards_since(
    conn: &mut AsyncPgConnection,
    analysis_id: AnalysisId,
    since: DateTime<Utc>,
) -> QueryResult<Vec<EarnedBadge>> {
    let analysis_id = analysis_id.get();
    let rows = user_badges::table
        .inner_join(badge_metadata::table)
        .filter(user_badges::analysis_id.eq(analysis_id))
        .filter(user_badges::earned_at.gt(since))
        .order((user_badges::earned_at, badge_metadata::display_order))
        .select((AwardRow::as_select(), BadgeRow::as_select()))
        .load(conn)
        .await?;
    Ok(into_awards(rows).into_iter().map(|(_, a)| a).collect())
}
