//! Single flight: one load per key at a time, however many requests miss it together. The first
//! request to miss a key leads its load; the others wait for what it found.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use crate::domain::ids::AnalysisId;
use tokio::sync::watch;

use crate::error::AppResult;

/// What a leader hands to the requests waiting on the same key: `Err` when it failed (they then
/// load for themselves).
type Flight<V> = Option<Result<Option<V>, ()>>;

pub struct SingleFlight<V> {
    inflight: Mutex<HashMap<AnalysisId, watch::Receiver<Flight<V>>>>,
}

impl<V> Default for SingleFlight<V> {
    fn default() -> Self {
        Self {
            inflight: Mutex::default(),
        }
    }
}

/// Removes a leader's keys from the in-flight map, even if its request is dropped midway.
struct FlightGuard<'a, V> {
    flights: &'a SingleFlight<V>,
    ids: Vec<AnalysisId>,
}

impl<V> Drop for FlightGuard<'_, V> {
    fn drop(&mut self) {
        let mut inflight = self.flights.inflight.lock().expect("inflight lock");
        for id in &self.ids {
            inflight.remove(id);
        }
    }
}

impl<V: Clone> SingleFlight<V> {
    /// The values of `ids` (unknown ids are absent): `load` runs once for the keys nobody is
    /// loading, and again, per key, for those whose leader failed or went away.
    pub async fn load<F, Fut>(
        &self,
        ids: &[AnalysisId],
        load: F,
    ) -> AppResult<HashMap<AnalysisId, V>>
    where
        F: Fn(Vec<AnalysisId>) -> Fut,
        Fut: Future<Output = AppResult<HashMap<AnalysisId, V>>>,
    {
        let (lead, follow) = self.split(ids);
        let mut out = HashMap::new();
        if !lead.is_empty() {
            out.extend(self.lead(lead, &load).await?);
        }
        for (id, mut rx) in follow {
            let flight = rx
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|v| v.clone());
            match flight {
                Some(Ok(Some(v))) => {
                    out.insert(id, v);
                }
                Some(Ok(None)) => {}
                _ => out.extend(load(vec![id]).await?),
            }
        }
        Ok(out)
    }

    /// The keys to lead, and those already in flight with their receivers.
    #[allow(clippy::type_complexity)]
    fn split(
        &self,
        ids: &[AnalysisId],
    ) -> (
        Vec<AnalysisId>,
        Vec<(AnalysisId, watch::Receiver<Flight<V>>)>,
    ) {
        let inflight = self.inflight.lock().expect("inflight lock");
        let mut lead = Vec::new();
        let mut follow = Vec::new();
        for id in ids {
            match inflight.get(id) {
                Some(rx) => follow.push((*id, rx.clone())),
                None => lead.push(*id),
            }
        }
        (lead, follow)
    }

    async fn lead<F, Fut>(
        &self,
        lead: Vec<AnalysisId>,
        load: &F,
    ) -> AppResult<HashMap<AnalysisId, V>>
    where
        F: Fn(Vec<AnalysisId>) -> Fut,
        Fut: Future<Output = AppResult<HashMap<AnalysisId, V>>>,
    {
        let senders: Vec<_> = {
            let mut inflight = self.inflight.lock().expect("inflight lock");
            lead.iter()
                .map(|id| {
                    let (tx, rx) = watch::channel(None);
                    inflight.insert(*id, rx);
                    (*id, tx)
                })
                .collect()
        };
        let _guard = FlightGuard {
            flights: self,
            ids: lead.clone(),
        };
        match load(lead).await {
            Ok(loaded) => {
                for (id, tx) in senders {
                    let _ = tx.send(Some(Ok(loaded.get(&id).cloned())));
                }
                Ok(loaded)
            }
            Err(e) => {
                for (_, tx) in senders {
                    let _ = tx.send(Some(Err(())));
                }
                Err(e)
            }
        }
    }
}
