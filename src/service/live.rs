//! The live streams behind the subscriptions: badge toasts (with replay), KPI updates and
//! platform KPIs, each counted while it lives.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::ids::AnalysisId;
use chrono::{DateTime, Utc};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use crate::db::badges;
use crate::db::pool::DbPool;
use crate::domain::badge::EarnedBadge;
use crate::domain::metrics::{Metrics, ProgressSummary};
use crate::error::AppResult;
use crate::events::hub::HubReceiver;
use crate::events::Event;
use crate::series;
use crate::service::platform::{Period, PlatformSnapshot};
use crate::service::Services;
use crate::state::LiveCounts;

/// A subscriber fell more than the channel's capacity behind: it is told, then closed, so that it
/// never slows the others. It may resubscribe (with `since`, for badges).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lagged(pub u64);

/// Whom a live stream is for: the subscribers it is handed to. One, for a stream of its own; or
/// the members of a shared operation (one stream run once for everyone who sent the same request,
/// `http::shared`), who join and leave while it runs. They are counted in the live counts while
/// the stream listens (before that, like a stream that has not subscribed yet, they are not), and
/// each delivery counts once per member.
#[derive(Clone)]
pub struct Audience(Arc<Members>);

impl Default for Audience {
    /// One subscriber.
    fn default() -> Self {
        let one = Members::default();
        one.join();
        Self(Arc::new(one))
    }
}

impl Audience {
    pub fn shared(members: Arc<Members>) -> Self {
        Self(members)
    }

    /// Counts the audience in `which` for as long as the returned guard lives.
    fn listen(self, services: &Services, which: fn(&LiveCounts) -> &AtomicI64) -> Listening {
        let mut m = self.0 .0.lock().expect("members lock");
        which(&services.state.counts).fetch_add(m.n as i64, Ordering::Relaxed);
        m.counted = Some((services.state.counts.clone(), which));
        drop(m);
        Listening(self.0)
    }
}

/// Subscribers, and which live count they are part of while their stream listens.
#[derive(Default)]
pub struct Members(Mutex<MembersState>);

#[derive(Default)]
struct MembersState {
    n: usize,
    counted: Option<CountedAs>,
}

type CountedAs = (Arc<LiveCounts>, fn(&LiveCounts) -> &AtomicI64);

impl Members {
    pub fn join(&self) {
        let mut m = self.0.lock().expect("members lock");
        m.n += 1;
        if let Some((counts, which)) = &m.counted {
            which(counts).fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One member fewer; the number left.
    pub fn leave(&self) -> usize {
        let mut m = self.0.lock().expect("members lock");
        m.n -= 1;
        if let Some((counts, which)) = &m.counted {
            which(counts).fetch_sub(1, Ordering::Relaxed);
        }
        m.n
    }
}

/// A stream's audience, counted while it listens.
struct Listening(Arc<Members>);

impl Listening {
    /// Deliveries one event makes.
    fn reach(&self) -> usize {
        self.0 .0.lock().expect("members lock").n
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let mut m = self.0 .0.lock().expect("members lock");
        if let Some((counts, which)) = m.counted.take() {
            which(&counts).fetch_sub(m.n as i64, Ordering::Relaxed);
        }
    }
}

/// The metrics and progress of one analysis after a change.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiUpdate {
    pub analysis_id: AnalysisId,
    pub metrics: Metrics,
    pub summary: ProgressSummary,
    pub at: DateTime<Utc>,
}

struct BadgeState {
    replay: VecDeque<EarnedBadge>,
    seen: HashSet<uuid::Uuid>,
    rx: HubReceiver,
    /// Told when events may have passed this instance by: then the awards since `caught_up` are
    /// read again (those already sent are told apart by id).
    gaps: watch::Receiver<u64>,
    caught_up: DateTime<Utc>,
    pool: DbPool,
    analysis_id: AnalysisId,
    done: bool,
    audience: Listening,
}

/// How far before the latest award seen a catch-up reads: awards are stamped by the clock of the
/// instance that made them.
const CATCH_UP_MARGIN: chrono::Duration = chrono::Duration::seconds(10);

/// Awards of one analysis as they happen; with `since`, the awards after that instant first.
/// The live channel is opened before the replay is read, and awards are told apart by id, so the
/// seam has no gap and no duplicate.
pub async fn badge_awards(
    services: &Services,
    analysis_id: AnalysisId,
    since: Option<DateTime<Utc>>,
    audience: Audience,
) -> AppResult<impl Stream<Item = Result<EarnedBadge, Lagged>> + Send + use<>> {
    let rx = services.state.hub.subscribe(analysis_id);
    let gaps = services.state.hub.gaps();
    let started = services.state.clock.now();
    let replay: VecDeque<EarnedBadge> = match since {
        None => VecDeque::new(),
        Some(since) => {
            let mut conn = services.state.pool.get().await?;
            badges::awards_since(&mut conn, analysis_id, since)
                .await?
                .into()
        }
    };
    // the replay covers what came after `since`; a catch-up starts there too
    let caught_up = since.map_or(started, |s| s.min(started));
    let state = BadgeState {
        seen: replay.iter().map(|a| a.id).collect(),
        replay,
        rx,
        gaps,
        caught_up,
        pool: services.state.pool.clone(),
        analysis_id,
        done: false,
        audience: audience.listen(services, |c: &LiveCounts| &c.badge_awarded),
    };
    Ok(stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        if let Some(award) = st.replay.pop_front() {
            return Some((Ok(award), st));
        }
        loop {
            let received = tokio::select! {
                received = st.rx.rx.recv() => received,
                Ok(()) = st.gaps.changed() => {
                    catch_up(&mut st).await;
                    if let Some(award) = st.replay.pop_front() {
                        return Some((Ok(award), st));
                    }
                    continue;
                }
            };
            match received {
                Ok(event) => {
                    if let Event::BadgeAwarded { award, .. } = &*event {
                        if st.seen.insert(award.id) {
                            st.caught_up = st.caught_up.max(award.earned_at);
                            delivered(&event, award.earned_at, st.audience.reach());
                            return Some((Ok(award.clone()), st));
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    st.done = true;
                    series::event_lagged();
                    return Some((Err(Lagged(n)), st));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }))
}

/// Reads the awards the stream may have missed into its replay, those not sent yet only. A
/// failure leaves the gap (logged): the client's reconnect with `since` still closes it.
async fn catch_up(st: &mut BadgeState) {
    let read = async {
        let mut conn = st.pool.get().await?;
        let since = st.caught_up - CATCH_UP_MARGIN;
        Ok::<_, crate::error::AppError>(
            badges::awards_since(&mut conn, st.analysis_id, since).await?,
        )
    };
    match read.await {
        Ok(awards) => {
            for award in awards {
                if st.seen.insert(award.id) {
                    st.caught_up = st.caught_up.max(award.earned_at);
                    st.replay.push_back(award);
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "badge toasts: could not catch up after the bus was away")
        }
    }
}

/// Counts an event handed to `n` subscribers, and the time since its change committed (by the
/// system clock, which stamped it).
fn delivered(event: &Event, committed: DateTime<Utc>, n: usize) {
    let since = (Utc::now() - committed).to_std().ok();
    series::event_delivered(event.kind(), since, n);
}

/// Metrics and progress of one analysis after each change to it.
pub fn kpi_updates(
    services: &Services,
    analysis_id: AnalysisId,
    audience: Audience,
) -> impl Stream<Item = Result<KpiUpdate, Lagged>> + Send + use<> {
    let state = (
        services.state.hub.subscribe(analysis_id),
        false,
        audience.listen(services, |c: &LiveCounts| &c.kpi_updated),
    );
    stream::unfold(state, |(mut rx, done, count)| async move {
        if done {
            return None;
        }
        loop {
            match rx.rx.recv().await {
                Ok(event) => {
                    if let Event::KpiUpdated {
                        analysis_id,
                        metrics,
                        summary,
                        at,
                    } = &*event
                    {
                        let update = KpiUpdate {
                            analysis_id: *analysis_id,
                            metrics: metrics.clone(),
                            summary: *summary,
                            at: *at,
                        };
                        delivered(&event, *at, count.reach());
                        return Some((Ok(update), (rx, false, count)));
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    series::event_lagged();
                    return Some((Err(Lagged(n)), (rx, true, count)));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// Platform KPIs for a period: the latest figures at once (when there are some), then every tick.
pub fn platform_kpis(
    services: &Services,
    period: Period,
) -> impl Stream<Item = Arc<PlatformSnapshot>> + Send + use<> {
    let sub = services.platform.subscribe(period);
    let first = sub.latest.borrow().clone();
    stream::unfold((sub, first), |(mut sub, first)| async move {
        if let Some(snapshot) = first {
            sub.latest.borrow_and_update();
            return Some((snapshot, (sub, None)));
        }
        loop {
            sub.latest.changed().await.ok()?;
            let latest = sub.latest.borrow_and_update().clone();
            if let Some(snapshot) = latest {
                return Some((snapshot, (sub, None)));
            }
        }
    })
}
