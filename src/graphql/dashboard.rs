//! The `Dashboard` type: one analysis' figures at one instant, each field computed from its
//! stored facts when asked for.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::ResultExt as _;
use async_graphql::{Context, Object, Result, ID};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::reports::{ReportFormat, ReportSection};
use crate::domain::badge::MAX_BADGES;
use crate::domain::dashboard::DashboardData;
use crate::domain::ids::BadgeId;
use crate::domain::reports::Section;
use crate::domain::{achievements, criteria::Facts, history, metrics, recommendations};
use crate::reports::DocumentRoute;
use crate::service::history as history_service;
use crate::service::record_analysis::MAX_OPPORTUNITIES;
use crate::service::{reports, Services};

use super::access;
use super::language::reader;
use super::reads::{self, Now};
use super::reports::EmailSubscription;
use super::reports::ReportLanguage;
use super::timeline::{
    self, ActivityConnection, HistoryGranularity, ProgressDelta, ProgressPoint, Streak,
};
use super::types::*;

/// One analysis' dashboard: everything derived from its stored facts at one instant.
#[derive(Clone)]
pub struct Dashboard {
    data: Arc<DashboardData>,
    now: Now,
    /// The log history is replayed from, read once for every field of this dashboard that needs it.
    log: Arc<tokio::sync::OnceCell<Arc<history::Log>>>,
}

impl Dashboard {
    pub fn new(data: Arc<DashboardData>, now: Now) -> Self {
        Self {
            data,
            now,
            log: Arc::default(),
        }
    }

    pub fn metrics(&self) -> Metrics {
        let a = &self.data.analysis;
        metrics::metrics(&self.data.opportunities, a.hourly_rate, &a.currency).into()
    }

    pub fn progress_summary(&self) -> ProgressSummary {
        metrics::progress_summary(&self.data.opportunities).into()
    }
}

#[Object]
impl Dashboard {
    /// Equal to analysisId, so that Apollo's cache normalises it.
    async fn id(&self) -> ID {
        ID(self.data.analysis.id.to_string())
    }

    /// The analysis' id.
    async fn analysis_id(&self) -> Uuid {
        self.data.analysis.id.get()
    }

    /// The company website analysed.
    async fn url(&self) -> &str {
        &self.data.analysis.url
    }

    /// Who the analysis is about.
    async fn identity(&self) -> Identity {
        let i = &self.data.analysis.identity;
        Identity {
            company_name: i.company_name.clone(),
            sector: i.sector.clone(),
            estimated_size: i.estimated_size.clone(),
            tier: i.tier.clone(),
        }
    }

    /// The opportunities, in the order the analysis listed them.
    #[graphql(complexity = "MAX_OPPORTUNITIES * child_complexity + 1")]
    async fn opportunities(&self) -> Vec<Opportunity> {
        self.data
            .opportunities
            .iter()
            .map(Opportunity::from)
            .collect()
    }

    /// Counts per status and completion.
    #[graphql(name = "progressSummary")]
    async fn gql_progress_summary(&self) -> ProgressSummary {
        self.progress_summary()
    }

    /// Badges earned, oldest first.
    #[graphql(complexity = "MAX_BADGES * child_complexity + 1")]
    async fn badges(&self, ctx: &Context<'_>) -> Vec<Badge> {
        let lang = reader(ctx, &self.data.analysis);
        self.data
            .badges
            .iter()
            .map(|b| Badge::new(b, lang))
            .collect()
    }

    /// Every active badge, earned or not, with progress towards it.
    #[graphql(complexity = "MAX_BADGES * child_complexity + 1")]
    async fn achievements(&self, ctx: &Context<'_>) -> Vec<Achievement> {
        let d = &self.data;
        let lang = reader(ctx, &d.analysis);
        let facts = self.now.with(|now| {
            let (created, zone) = (d.analysis.created_at, d.analysis.time_zone);
            let facts = Facts::compute(created, zone, &d.opportunities, &d.activity, now);
            let until = achievements::stable_until(&d.catalog, &facts, created, zone, now);
            (facts, until)
        });
        let earned: HashSet<BadgeId> = d.badges.iter().map(|b| b.badge.id).collect();
        achievements::achievements(&d.catalog, &earned, &facts)
            .into_iter()
            .map(|a| Achievement {
                badge: BadgeDefinition::new(a.badge, lang),
                unlocked: a.unlocked,
                progress_percentage: a.progress_percentage,
                next_milestone: a.next_milestone.map(|m| m.render(lang)),
                conditions: (a.details.iter())
                    .map(|p| ConditionProgress::new(p, lang))
                    .collect(),
            })
            .collect()
    }

    /// Time and money saved.
    #[graphql(name = "metrics")]
    async fn gql_metrics(&self) -> Metrics {
        self.metrics()
    }

    /// NOT_STARTED opportunities, best first.
    #[graphql(complexity = "MAX_OPPORTUNITIES * child_complexity + 1")]
    async fn recommendations(&self, ctx: &Context<'_>) -> Vec<Recommendation> {
        let lang = reader(ctx, &self.data.analysis);
        recommendations::recommendations(&self.data.opportunities)
            .into_iter()
            .map(|r| Recommendation {
                opportunity: r.opportunity.into(),
                priority_score: r.priority_score,
                reason: r.reason.render(lang),
            })
            .collect()
    }

    /// A link to this dashboard as a document (PDF by default), with the sections asked for (all
    /// by default). Signed: it opens the document from a plain link or an iframe, with no
    /// Authorization header, for at least `REPORT_LINK_TTL_SECONDS` (15 minutes by default).
    async fn report_url(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "ReportFormat::Pdf")] format: ReportFormat,
        sections: Option<Vec<ReportSection>>,
    ) -> Result<String> {
        let reports = &ctx.data::<Services>()?.state.reports;
        let sections: Vec<Section> = match sections {
            Some(s) if !s.is_empty() => s.into_iter().map(Section::from).collect(),
            _ => Section::ALL.to_vec(),
        };
        // a stored answer hands the link out only while it still has its whole lifetime
        let url = self.now.with(|now| {
            let link = reports.document_link(
                DocumentRoute::Reports,
                self.data.analysis.id,
                format.into(),
                &sections,
                now,
            );
            (link.url, link.fresh_until)
        });
        Ok(url)
    }

    /// When the analysis was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.data.analysis.created_at
    }

    /// When the analysis finished, if it has.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.data.analysis.completed_at
    }

    /// The analysis' language (FR by default); composed sentences follow the request's language, else this.
    async fn language(&self) -> ReportLanguage {
        self.data.analysis.language.into()
    }

    /// IANA time zone (e.g. America/Toronto): days, streaks, history buckets and report times follow it.
    async fn time_zone(&self) -> &'static str {
        self.data.analysis.time_zone.name()
    }

    /// One point per bucket from `from` (default: creation) to `to` (default: now), oldest first; at most 400.
    #[graphql(complexity = "history::MAX_POINTS * child_complexity + 1")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "HistoryGranularity::Day")] granularity: HistoryGranularity,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<ProgressPoint>> {
        let zone = self.data.analysis.time_zone;
        // up to now, a new bucket begins at the next boundary; a given `to` does not move
        let to = to.unwrap_or_else(|| {
            self.now
                .with(|now| (now, history::holds_until(zone, granularity.into(), now)))
        });
        let from = from.unwrap_or(self.data.analysis.created_at);
        let log = self.log(ctx).await?;
        timeline::points(&self.data, &log, granularity, from, to).extend()
    }

    /// The figures at `since` and now, and the badges earned in between.
    async fn progress_since(
        &self,
        ctx: &Context<'_>,
        since: DateTime<Utc>,
    ) -> Result<ProgressDelta> {
        // the answer shows the instant itself: it holds for no later request
        let now = self.now.with(|now| (now, now));
        let log = self.log(ctx).await?;
        let lang = reader(ctx, &self.data.analysis);
        Ok(timeline::delta(&self.data, &log, since, now, lang))
    }

    /// Status changes, newest first (1..100 a page).
    #[graphql(complexity = "first.clamp(0, 100) as usize * child_complexity + 1")]
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> Result<ActivityConnection> {
        let after = timeline::after(after.as_deref()).extend()?;
        let services = ctx.data::<Services>()?;
        let (id, version) = (self.data.analysis.id, self.data.analysis.version);
        let page = history_service::activity(services, id, version, first, after)
            .await
            .extend()?;
        let lang = reader(ctx, &self.data.analysis);
        Ok(timeline::connection(&self.data, page, first, lang))
    }

    /// Consecutive local days with activity.
    async fn streak(&self) -> Streak {
        let zone = self.data.analysis.time_zone;
        let now = self.now.with(|now| (now, zone.next_midnight(now)));
        timeline::streak(&self.data, now)
    }

    /// Report subscriptions of this analysis, addresses masked (owner).
    async fn report_subscriptions(&self, ctx: &Context<'_>) -> Result<Vec<EmailSubscription>> {
        let id = self.data.analysis.id;
        access::write(ctx, id)?;
        // subscriptions change without the dashboard: an answer holding them is not kept
        reads::unrepeatable(ctx);
        let services = ctx.data::<Services>()?;
        let subscriptions = reports::of_analysis(services, id).await.extend()?;
        Ok(subscriptions
            .into_iter()
            .map(EmailSubscription::masked)
            .collect())
    }
}

impl Dashboard {
    /// What history is replayed from, read once per dashboard (`history` and `progressSince`
    /// in one request share it); it changes only with the dashboard's version, which the loader
    /// recorded.
    async fn log(&self, ctx: &Context<'_>) -> Result<Arc<history::Log>> {
        let services = ctx.data::<Services>()?;
        let (id, version) = (self.data.analysis.id, self.data.analysis.version);
        let log = self
            .log
            .get_or_try_init(|| async {
                history_service::log(services, id, version)
                    .await
                    .map(Arc::new)
            })
            .await
            .extend()?;
        Ok(log.clone())
    }
}
