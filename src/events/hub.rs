//! Local fan-out: one broadcast channel per analysis that has subscribers, so an event wakes only
//! the subscribers of its analysis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::ids::AnalysisId;
use tokio::sync::{broadcast, watch};

use super::Event;

/// Events a slow subscriber may fall behind by before it is told and closed.
pub const CHANNEL_CAPACITY: usize = 64;

pub struct Hub {
    channels: Mutex<HashMap<AnalysisId, broadcast::Sender<Arc<Event>>>>,
    /// Session revocations, to every connection and the token verifier of this instance.
    revocations: broadcast::Sender<Arc<Event>>,
    /// Bumped when events may have passed this instance by (its bus connection was lost and is
    /// back): streams that can, catch up from the database.
    gaps: watch::Sender<u64>,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            channels: Mutex::default(),
            revocations: broadcast::channel(CHANNEL_CAPACITY).0,
            gaps: watch::channel(0).0,
        }
    }
}

/// A subscription to one analysis' events; dropping it frees the channel when it was the last.
pub struct HubReceiver {
    pub rx: broadcast::Receiver<Arc<Event>>,
    hub: Arc<Hub>,
    analysis_id: AnalysisId,
}

impl Drop for HubReceiver {
    fn drop(&mut self) {
        let mut channels = self.hub.channels.lock().expect("hub lock");
        // `self.rx` still counts until this returns, hence 1.
        if channels
            .get(&self.analysis_id)
            .is_some_and(|tx| tx.receiver_count() <= 1)
        {
            channels.remove(&self.analysis_id);
        }
    }
}

impl Hub {
    pub fn subscribe(self: &Arc<Self>, analysis_id: AnalysisId) -> HubReceiver {
        let rx = self
            .channels
            .lock()
            .expect("hub lock")
            .entry(analysis_id)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe();
        HubReceiver {
            rx,
            hub: self.clone(),
            analysis_id,
        }
    }

    /// Hands an event to the subscribers of its analysis, if any.
    pub fn dispatch(&self, event: Arc<Event>) {
        let Some(analysis_id) = event.analysis_id() else {
            let _ = self.revocations.send(event);
            return;
        };
        let channels = self.channels.lock().expect("hub lock");
        if let Some(tx) = channels.get(&analysis_id) {
            // No receiver left is not an error: the last one just went away.
            let _ = tx.send(event);
        }
    }

    /// Events may have been missed (the bus was away and is back).
    pub fn gap(&self) {
        self.gaps.send_modify(|n| *n += 1);
    }

    /// Told of every `gap` from now on.
    pub fn gaps(&self) -> watch::Receiver<u64> {
        self.gaps.subscribe()
    }

    /// Session revocations as they reach this instance.
    pub fn revocations(&self) -> broadcast::Receiver<Arc<Event>> {
        self.revocations.subscribe()
    }

    /// Analyses with at least one local subscriber.
    pub fn channel_count(&self) -> usize {
        self.channels.lock().expect("hub lock").len()
    }
}
