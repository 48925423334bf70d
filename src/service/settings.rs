//! The analysis' own settings its owner changes: its time zone (its activity days move into the
//! new zone) and its language.

use chrono::{DateTime, Utc};
use diesel_async::AsyncConnection;

use crate::db::{analyses, dashboard};
use crate::domain::dashboard::DashboardData;
use crate::domain::ids::AnalysisId;
use crate::domain::reports::Lang;
use crate::domain::zone::TimeZone;
use crate::error::{AppError, AppResult};
use crate::service::{publish, Services};

/// A setting to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Days, streaks, history and report times follow it.
    TimeZone(TimeZone),
    /// Sentences, reports and pages are written in it, unless a request asks for another.
    Language(Lang),
}

/// Changes one setting, and returns the dashboard as the change left it (cached as such).
pub async fn set(
    services: &Services,
    id: AnalysisId,
    setting: Setting,
    now: DateTime<Utc>,
) -> AppResult<DashboardData> {
    let data = {
        let mut conn = services.state.pool.get().await?;
        conn.transaction::<_, AppError, _>(async move |conn| {
            analyses::lock(conn, id)
                .await?
                .ok_or(AppError::AnalysisNotFound(id))?;
            match setting {
                Setting::TimeZone(zone) => analyses::set_time_zone(conn, id, zone).await?,
                Setting::Language(lang) => analyses::set_language(conn, id, lang).await?,
            }
            analyses::touch(conn, id, None, now).await?;
            let shared: &diesel_async::AsyncPgConnection = conn;
            dashboard::load_many(shared, &[id])
                .await?
                .remove(&id)
                .ok_or(AppError::AnalysisNotFound(id))
        })
        .await?
    };
    publish::changed(services, &data, Vec::new(), Vec::new()).await;
    Ok(data)
}
