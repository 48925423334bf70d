//! Progress over time: the log history is replayed from, a page of the activity log, and the
//! look-up the analysis pipeline makes before it pays for an analysis.

use chrono::{DateTime, Utc};

use crate::db::activity;
use crate::db::analyses;
use crate::domain::history::{Log, Page};
use crate::domain::ids::AnalysisId;
use crate::domain::values::NormalizedUrl;
use crate::error::{AppError, AppResult};
use crate::service::record_analysis::DUPLICATE_WINDOW;
use crate::service::Services;

/// At most this many entries in one page of the activity log.
pub const MAX_PAGE: i32 = 100;

/// The status changes and hourly rates of one analysis, oldest first.
pub async fn log(services: &Services, id: AnalysisId) -> AppResult<Log> {
    let mut conn = services.state.pool.get().await?;
    Ok(activity::log(&mut conn, id).await?)
}

/// Up to `first` status changes before the cursor `after` (an entry's id), newest first.
pub async fn activity(
    services: &Services,
    id: AnalysisId,
    first: i32,
    after: Option<i64>,
) -> AppResult<Page> {
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(AppError::invalid_input(format!(
            "first must be between 1 and {MAX_PAGE}, got {first}"
        )));
    }
    let mut conn = services.state.pool.get().await?;
    Ok(activity::page(&mut conn, id, after, i64::from(first)).await?)
}

/// The analysis recorded for this URL (normalised) in the last 7 days, if any: records nothing.
pub async fn recent_analysis(
    services: &Services,
    url: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<AnalysisId>> {
    let normalized = NormalizedUrl::parse(url)?;
    let found = {
        let mut conn = services.state.pool.get().await?;
        analyses::find_recent_by_url(&mut conn, normalized.as_str(), now - DUPLICATE_WINDOW).await?
    };
    crate::series::dedup_lookup(found.is_some());
    Ok(found)
}
