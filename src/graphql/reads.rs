//! What one query read, recorded as it runs, so that its answer can be served again without
//! running it (`http::answers`): the dashboards and the versions it saw, the catalog, every
//! access decision it took, and until when its time-dependent fields hold. The places every read
//! passes through record here themselves: the dataloader (`loaders`: dashboards, the catalog,
//! ids not found), the access checks (`access`) and the request's instant ([`Now`], readable only
//! with a horizon); a resolver adds only that its answer must not be kept (`unrepeatable`). A request without a
//! recorder (WebSocket, mutations) records nothing.

use std::sync::{Arc, Mutex};

use async_graphql::Context;
use chrono::{DateTime, Utc};

use crate::domain::access::Caller;
use crate::domain::dashboard::DashboardData;
use crate::domain::ids::AnalysisId;
use crate::service::dashboards::Catalog;

/// An access decision an answer depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// May read this analysis.
    Read(AnalysisId),
    /// Is a known caller.
    Known,
    /// Is an admin.
    Admin,
}

impl Check {
    /// What `caller` is allowed, by the same rules the resolvers apply.
    pub fn allows(self, caller: &Caller) -> bool {
        match self {
            Check::Read(id) => caller.read(id).is_ok(),
            Check::Known => !matches!(caller, Caller::Anonymous),
            Check::Admin => caller.admin().is_ok(),
        }
    }
}

/// What a query read.
#[derive(Default)]
pub struct Recorded {
    /// Each dashboard read, with the version it was read at.
    pub dashboards: Vec<(AnalysisId, i64)>,
    /// Each access decision taken, and its outcome.
    pub checks: Vec<(Check, bool)>,
    /// The badge catalog, when the answer shows it.
    pub catalog: Option<Catalog>,
    /// When a time-dependent field may start to read differently.
    pub until: Option<DateTime<Utc>>,
    /// It read something no later check could confirm (an id that does not exist, live
    /// figures): the answer must not be served again.
    pub unrepeatable: bool,
}

/// The recorder a request carries.
#[derive(Default, Clone)]
pub struct ReadRecorder(Arc<Mutex<Recorded>>);

impl ReadRecorder {
    /// What was recorded.
    pub fn take(&self) -> Recorded {
        std::mem::take(&mut *self.0.lock().expect("reads lock"))
    }

    fn with(ctx: &Context<'_>, f: impl FnOnce(&mut Recorded)) {
        if let Some(reads) = ctx.data_opt::<ReadRecorder>() {
            f(&mut reads.0.lock().expect("reads lock"));
        }
    }

    /// The dashboards a load returned for `asked`, each at its version, with the catalog they
    /// were built on; an id asked for and not found makes the answer unrepeatable (absent now,
    /// perhaps not later: nothing a stored answer could be checked against).
    pub fn dashboards(
        &self,
        asked: &[AnalysisId],
        found: &std::collections::HashMap<AnalysisId, Arc<DashboardData>>,
    ) {
        let mut r = self.0.lock().expect("reads lock");
        for d in found.values() {
            r.dashboards.push((d.analysis.id, d.analysis.version));
            r.catalog.get_or_insert_with(|| d.catalog.clone());
        }
        if asked.iter().any(|id| !found.contains_key(id)) {
            r.unrepeatable = true;
        }
    }

    /// The catalog, as shown.
    pub fn catalog(&self, catalog: &Catalog) {
        let mut r = self.0.lock().expect("reads lock");
        r.catalog.get_or_insert_with(|| catalog.clone());
    }
}

/// "Now", as the resolvers are given it: the request's instant, readable only by saying until
/// when what is computed from it holds, so that a stored answer is never served past that.
#[derive(Clone)]
pub struct Now {
    at: DateTime<Utc>,
    reads: Option<ReadRecorder>,
}

impl Now {
    /// The request's instant from the server's clock, recording into its recorder if it has one.
    pub fn of(ctx: &Context<'_>) -> async_graphql::Result<Self> {
        let at = ctx.data::<crate::service::Services>()?.state.clock.now();
        Ok(Self {
            at,
            reads: ctx.data_opt::<ReadRecorder>().cloned(),
        })
    }

    /// An instant no answer is stored for (a mutation's, a subscription's).
    pub fn unrecorded(at: DateTime<Utc>) -> Self {
        Self { at, reads: None }
    }

    /// `f` computes a value from the instant and says until when that value holds.
    pub fn with<T>(&self, f: impl FnOnce(DateTime<Utc>) -> (T, DateTime<Utc>)) -> T {
        let (value, holds_until) = f(self.at);
        if let Some(reads) = &self.reads {
            let mut r = reads.0.lock().expect("reads lock");
            r.until = Some(r.until.map_or(holds_until, |u| u.min(holds_until)));
        }
        value
    }
}

pub fn check(ctx: &Context<'_>, check: Check, allowed: bool) {
    ReadRecorder::with(ctx, |r| r.checks.push((check, allowed)));
}

pub fn unrepeatable(ctx: &Context<'_>) {
    ReadRecorder::with(ctx, |r| r.unrepeatable = true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn reading_the_instant_records_until_when_it_holds() {
        let at = Utc.with_ymd_and_hms(2026, 3, 16, 10, 0, 0).unwrap();
        let reads = ReadRecorder::default();
        let now = Now {
            at,
            reads: Some(reads.clone()),
        };
        let later = |m| at + chrono::Duration::minutes(m);
        assert_eq!(now.with(|t| (t, later(30))), at);
        now.with(|_| ((), later(5)));
        now.with(|_| ((), later(60)));
        assert_eq!(reads.take().until, Some(later(5)), "the earliest horizon");
        let unrecorded = Now::unrecorded(at);
        assert_eq!(unrecorded.with(|t| (t, later(1))), at);
    }
}
