//! The in-process bus: a single instance, no Redis.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::{Event, EventBus, Hub};

pub struct MemoryBus {
    hub: Arc<Hub>,
}

impl MemoryBus {
    pub fn new(hub: Arc<Hub>) -> Self {
        Self { hub }
    }
}

impl EventBus for MemoryBus {
    fn publish<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, bool> {
        for e in events {
            self.hub.dispatch(Arc::new(e.clone()));
        }
        Box::pin(async { true })
    }

    fn kind(&self) -> &'static str {
        "in-process"
    }
}
