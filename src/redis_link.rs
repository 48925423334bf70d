//! One Redis handle (module `redis_link`, so as not to shadow the `redis` crate) for the cache and
//! the event bus: one lazily connecting, multiplexed connection (concurrent commands are pipelined
//! on it, none waits for a free connection), short timeouts, a key prefix, and a breaker so that
//! an outage costs one warning and no waiting.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::Stream;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tracing::Instrument;

use crate::error::BoxError;

/// How long a failed Redis stays skipped before the next try.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Sets `KEYS[1]` to `ARGV[2]` for `ARGV[3]` ms unless it holds a version (the first 20
/// characters, zero-padded) at least `ARGV[1]`: a slow reader never overwrites a newer entry.
const SET_IF_NEWER: &str = r"
local cur = redis.call('GETRANGE', KEYS[1], 0, 19)
if cur ~= '' and cur >= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1";

/// Counts one hit in each window of `KEYS`, each expiring `ARGV[1]` ms after its first hit; the
/// highest count so far.
const COUNT_HITS: &str = r"
local most = 0
for _, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  if n > most then most = n end
end
return most";

#[derive(Default)]
struct BreakerState {
    down_since: Option<Instant>,
    retry_at: Option<Instant>,
}

/// Open after a failure, for a second; logs once per outage.
#[derive(Default)]
pub struct Breaker(Mutex<BreakerState>);

impl Breaker {
    fn allow(&self) -> bool {
        let s = self.0.lock().expect("breaker lock");
        s.retry_at.is_none_or(|at| Instant::now() >= at)
    }

    fn failure(&self, error: &dyn std::fmt::Display) {
        let mut s = self.0.lock().expect("breaker lock");
        if s.down_since.is_none() {
            tracing::warn!(error = %error, "Redis unavailable: serving from PostgreSQL until it returns");
            s.down_since = Some(Instant::now());
        }
        s.retry_at = Some(Instant::now() + RETRY_AFTER);
    }

    fn success(&self) {
        let mut s = self.0.lock().expect("breaker lock");
        if let Some(since) = s.down_since.take() {
            tracing::info!(
                outage_ms = since.elapsed().as_millis() as u64,
                "Redis is back"
            );
        }
        s.retry_at = None;
    }

    pub fn is_down(&self) -> bool {
        self.0.lock().expect("breaker lock").down_since.is_some()
    }
}

#[derive(Clone)]
pub struct Redis {
    commands: ConnectionManager,
    client: redis::Client,
    prefix: Arc<str>,
    timeout: Duration,
    breaker: Arc<Breaker>,
    set_if_newer: Arc<redis::Script>,
    count_hits: Arc<redis::Script>,
}

impl Redis {
    /// Does not connect: the service starts and answers from PostgreSQL while Redis is away.
    /// Must be called inside the Tokio runtime (the connection's driver is spawned on it).
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, BoxError> {
        let client = redis::Client::open(url)?;
        // One try per command: the breaker, not the manager, decides when to try again.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(0);
        Ok(Self {
            commands: ConnectionManager::new_lazy_with_config(client.clone(), config)?,
            client,
            prefix: prefix.into(),
            timeout,
            breaker: Arc::default(),
            set_if_newer: Arc::new(redis::Script::new(SET_IF_NEWER)),
            count_hits: Arc::new(redis::Script::new(COUNT_HITS)),
        })
    }

    /// A key or channel name under this deployment's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// The shared connection (a cheap handle), unless the breaker is open.
    fn conn(&self) -> Option<ConnectionManager> {
        self.breaker.allow().then(|| self.commands.clone())
    }

    /// Awaits a Redis call with the timeout and tells the breaker how it went.
    /// Each call is a span (`redis`) named by its command.
    async fn guarded<T>(
        &self,
        command: &'static str,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        let span = crate::traces::child(|| {
            tracing::debug_span!(
                "redis",
                otel.name = command,
                otel.kind = "client",
                db.system.name = "redis",
                db.operation.name = command,
                otel.status_code = tracing::field::Empty,
            )
        });
        let result = tokio::time::timeout(self.timeout, call)
            .instrument(span.clone())
            .await;
        match result {
            Ok(Ok(v)) => {
                self.breaker.success();
                return Some(v);
            }
            Ok(Err(e)) => self.breaker.failure(&e),
            Err(_) => self.breaker.failure(&"timed out"),
        }
        crate::traces::failed(&span);
        None
    }

    /// Runs one command; `None` when Redis is unavailable.
    async fn query<T: redis::FromRedisValue>(
        &self,
        command: &'static str,
        cmd: &redis::Cmd,
    ) -> Option<T> {
        let mut conn = self.conn()?;
        self.guarded(command, cmd.query_async::<T>(&mut conn)).await
    }

    /// Whether Redis answers a PING now (the breaker is not asked: this is the check).
    pub async fn ping(&self) -> bool {
        let mut conn = self.commands.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        matches!(tokio::time::timeout(self.timeout, ping).await, Ok(Ok(_)))
    }

    /// One key's value; `Some(None)` when absent, `None` when Redis is unavailable.
    pub async fn get(&self, key: &str) -> Option<Option<Vec<u8>>> {
        self.query("GET", redis::cmd("GET").arg(key)).await
    }

    /// Sets a key for `ttl`. False when Redis is unavailable.
    pub async fn set_for(&self, key: &str, value: &[u8], ttl: Duration) -> bool {
        let cmd = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .clone();
        self.query::<()>("SET", &cmd).await.is_some()
    }

    pub async fn mget(&self, keys: &[String]) -> Option<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Some(Vec::new());
        }
        self.query("MGET", redis::cmd("MGET").arg(keys)).await
    }

    /// The first `width` bytes of each key's value (empty when absent), in one round trip.
    pub async fn version_prefixes(&self, keys: &[String], width: usize) -> Option<Vec<Vec<u8>>> {
        if keys.is_empty() {
            return Some(Vec::new());
        }
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("GETRANGE").arg(key).arg(0).arg(width - 1);
        }
        let mut conn = self.conn()?;
        self.guarded("GETRANGE", pipe.query_async::<Vec<Vec<u8>>>(&mut conn))
            .await
    }

    pub async fn set_if_newer(&self, key: &str, version: i64, value: &[u8], ttl: Duration) -> bool {
        let Some(mut conn) = self.conn() else {
            return false;
        };
        let version = format!("{version:020}");
        let mut stored = Vec::with_capacity(20 + value.len());
        stored.extend_from_slice(version.as_bytes());
        stored.extend_from_slice(value);
        let mut invocation = self.set_if_newer.key(key);
        invocation
            .arg(&version)
            .arg(stored)
            .arg(ttl.as_millis() as u64);
        self.guarded(
            "EVALSHA set_if_newer",
            invocation.invoke_async::<i64>(&mut conn),
        )
        .await
        .is_some()
    }

    /// One more hit in each counting window of `keys` (created with `window` to live), in one
    /// round trip; the most hits among them so far, `None` when Redis is unavailable.
    pub async fn count_hits(&self, keys: &[String], window: Duration) -> Option<u64> {
        let mut conn = self.conn()?;
        let mut invocation = self.count_hits.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        invocation.arg(window.as_millis() as u64);
        self.guarded(
            "EVALSHA count_hits",
            invocation.invoke_async::<u64>(&mut conn),
        )
        .await
    }

    pub async fn del(&self, keys: &[String]) -> bool {
        keys.is_empty()
            || self
                .query::<i64>("DEL", redis::cmd("DEL").arg(keys))
                .await
                .is_some()
    }

    pub async fn publish(&self, channel: &str, payloads: &[Vec<u8>]) -> bool {
        if payloads.is_empty() {
            return true;
        }
        let mut pipe = redis::pipe();
        for p in payloads {
            pipe.cmd("PUBLISH").arg(channel).arg(p).ignore();
        }
        let Some(mut conn) = self.conn() else {
            return false;
        };
        self.guarded("PUBLISH", pipe.query_async::<()>(&mut conn))
            .await
            .is_some()
    }

    /// `used_memory` from `INFO memory`.
    pub async fn used_memory(&self) -> Option<u64> {
        let info: String = self.query("INFO", redis::cmd("INFO").arg("memory")).await?;
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
    }

    /// A dedicated subscriber connection on `channel`.
    pub async fn pubsub(
        &self,
        channel: &str,
    ) -> Result<impl Stream<Item = redis::Msg> + use<>, BoxError> {
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            Ok::<_, redis::RedisError>(pubsub.into_on_message())
        };
        Ok(tokio::time::timeout(self.timeout.max(Duration::from_secs(1)), connect).await??)
    }
}
