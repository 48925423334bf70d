//! The Redis bus: events are published on one channel (a sharded one on a cluster: it lives on
//! one shard); each process holds one subscriber connection and hands what arrives to its hub.
//! The subscriber reconnects by itself, and a reconnection is a gap the streams catch up on.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::StreamExt;

use super::{Event, EventBus, Hub};
use crate::redis_link::Redis;

pub struct RedisBus {
    redis: Redis,
    channel: String,
    hub: Arc<Hub>,
    /// The subscriber connection is listening: our own events will come back through it.
    listening: Arc<AtomicBool>,
}

impl RedisBus {
    /// Starts the subscriber task; the bus works (locally) before Redis answers.
    pub fn start(redis: Redis, hub: Arc<Hub>) -> Self {
        let channel = redis.key("events");
        let listening = Arc::new(AtomicBool::new(false));
        tokio::spawn(listen(
            redis.clone(),
            channel.clone(),
            hub.clone(),
            listening.clone(),
        ));
        Self {
            redis,
            channel,
            hub,
            listening,
        }
    }

    fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }
}

async fn listen(redis: Redis, channel: String, hub: Arc<Hub>, listening: Arc<AtomicBool>) {
    let mut backoff = Duration::from_millis(100);
    let mut warned = false;
    let mut listened = false;
    loop {
        match redis.pubsub(&channel).await {
            Ok(mut messages) => {
                listening.store(true, Ordering::Release);
                // what other instances published while this one was not listening is lost
                // to the bus; the streams that keep a record catch up from the database
                if listened {
                    hub.gap();
                }
                listened = true;
                backoff = Duration::from_millis(100);
                if warned {
                    tracing::info!("event bus: Redis subscriber is back");
                }
                while let Some(payload) = messages.next().await {
                    match serde_json::from_slice::<Event>(&payload) {
                        Ok(event) => hub.dispatch(Arc::new(event)),
                        Err(e) => tracing::warn!(error = %e, "event bus: undecodable event"),
                    }
                }
                listening.store(false, Ordering::Release);
                tracing::warn!("event bus: Redis subscriber connection lost; reconnecting");
                warned = true;
            }
            Err(e) => {
                if !warned {
                    tracing::warn!(error = %e, "event bus: Redis unavailable; events stay on this instance until it returns");
                    warned = true;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

impl EventBus for RedisBus {
    fn publish<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let payloads: Vec<Vec<u8>> = events
                .iter()
                .map(|e| serde_json::to_vec(e).expect("events serialise"))
                .collect();
            let published = self.redis.publish(&self.channel, &payloads).await;
            // Without Redis, or without our own subscriber, deliver here at least.
            if !published || !self.is_listening() {
                for e in events {
                    self.hub.dispatch(Arc::new(e.clone()));
                }
            }
            published
        })
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn connected(&self) -> bool {
        self.is_listening()
    }
}
