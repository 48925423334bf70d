//! What one query read, recorded as it runs, so that its answer can be served again without
//! running it (`http::answers`): the dashboards and the versions it saw, the catalog, every
//! access decision it took, and until when its time-dependent fields hold. The places every read
//! passes through record here themselves: the dataloader (`loaders`: dashboards, the catalog,
//! ids not found) and the access checks (`access`); a resolver adds only a time limit
//! (`until`) or that its answer must not be kept (`unrepeatable`). A request without a
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
}

impl ReadRecorder {
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
            if r.catalog.is_none() {
                r.catalog = Some(d.catalog.clone());
            }
        }
        if asked.iter().any(|id| !found.contains_key(id)) {
            r.unrepeatable = true;
        }
    }

    /// The catalog, as shown.
    pub fn catalog(&self, catalog: &Catalog) {
        let mut r = self.0.lock().expect("reads lock");
        if r.catalog.is_none() {
            r.catalog = Some(catalog.clone());
        }
    }
}

pub fn check(ctx: &Context<'_>, check: Check, allowed: bool) {
    ReadRecorder::with(ctx, |r| r.checks.push((check, allowed)));
}

pub fn until(ctx: &Context<'_>, at: DateTime<Utc>) {
    ReadRecorder::with(ctx, |r| r.until = Some(r.until.map_or(at, |u| u.min(at))));
}

pub fn unrepeatable(ctx: &Context<'_>) {
    ReadRecorder::with(ctx, |r| r.unrepeatable = true);
}
