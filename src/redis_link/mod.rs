//! One Redis handle (module `redis_link`, so as not to shadow the `redis` crate) for the cache and
//! the event bus: one lazily connecting, multiplexed connection (concurrent commands are pipelined
//! on it, none waits for a free connection), short timeouts, a key prefix, and a breaker so that
//! an outage costs one warning and no waiting.

mod breaker;
mod link;

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::BoxStream;
use redis::cluster_routing::Slot;
use tracing::Instrument;

pub use breaker::Breaker;
use link::{Commands, Target};

use crate::error::BoxError;

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

#[derive(Clone)]
pub struct Redis {
    commands: Commands,
    target: Target,
    prefix: Arc<str>,
    timeout: Duration,
    breaker: Arc<Breaker>,
    set_if_newer: Arc<redis::Script>,
    count_hits: Arc<redis::Script>,
}

impl Redis {
    /// One server. Does not connect: the service starts and answers from PostgreSQL while Redis is
    /// away. Must be called inside the Tokio runtime (the connection's driver is spawned on it).
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, BoxError> {
        Self::on(Target::Single(redis::Client::open(url)?), prefix, timeout)
    }

    /// A cluster, found from any of its `nodes` (`redis://host:port`); connects as `new` does.
    /// A bad address is an error here (the cluster client parses them all when it is built).
    pub fn cluster(nodes: &[String], prefix: &str, timeout: Duration) -> Result<Self, BoxError> {
        Self::on(Target::Cluster(nodes.to_vec()), prefix, timeout)
    }

    fn on(target: Target, prefix: &str, timeout: Duration) -> Result<Self, BoxError> {
        Ok(Self {
            commands: target.commands(timeout)?,
            target,
            prefix: prefix.into(),
            timeout,
            breaker: Arc::default(),
            set_if_newer: Arc::new(redis::Script::new(SET_IF_NEWER)),
            count_hits: Arc::new(redis::Script::new(COUNT_HITS)),
        })
    }

    /// Whether this is a cluster.
    pub fn is_cluster(&self) -> bool {
        self.target.is_cluster()
    }

    /// A key or channel name under this deployment's prefix.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// The shared connection (a cheap handle), unless the breaker is open.
    fn conn(&self) -> Option<Commands> {
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

    /// The first `width` bytes of each key's value (empty when absent), in one round trip (one
    /// per shard on a cluster, side by side).
    pub async fn version_prefixes(&self, keys: &[String], width: usize) -> Option<Vec<Vec<u8>>> {
        let groups = self.by_slot(keys);
        let calls = groups.iter().map(|group| async move {
            let mut pipe = redis::pipe();
            for &i in group {
                pipe.cmd("GETRANGE").arg(&keys[i]).arg(0).arg(width - 1);
            }
            let mut conn = self.conn()?;
            self.guarded("GETRANGE", pipe.query_async::<Vec<Vec<u8>>>(&mut conn))
                .await
        });
        let answers = futures_util::future::join_all(calls).await;
        let mut values = vec![Vec::new(); keys.len()];
        for (group, answer) in groups.iter().zip(answers) {
            for (&i, value) in group.iter().zip(answer?) {
                values[i] = value;
            }
        }
        Some(values)
    }

    /// The indices of `keys`, grouped so that each group may go in one pipeline or script: all
    /// of them on one server, those of one slot on a cluster.
    fn by_slot(&self, keys: &[String]) -> Vec<Vec<usize>> {
        if keys.is_empty() {
            return Vec::new();
        }
        if !self.is_cluster() {
            return vec![(0..keys.len()).collect()];
        }
        let mut groups: Vec<(Slot, Vec<usize>)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let slot = Slot::for_key(key);
            match groups.iter_mut().find(|(s, _)| *s == slot) {
                Some((_, group)) => group.push(i),
                None => groups.push((slot, vec![i])),
            }
        }
        groups.into_iter().map(|(_, group)| group).collect()
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
    /// round trip (one per slot on a cluster, side by side: the windows are not read together,
    /// only their highest count is); the most hits among them so far, `None` when Redis is
    /// unavailable.
    pub async fn count_hits(&self, keys: &[String], window: Duration) -> Option<u64> {
        let calls = self.by_slot(keys).into_iter().map(|group| async move {
            let mut conn = self.conn()?;
            let mut invocation = self.count_hits.prepare_invoke();
            for i in group {
                invocation.key(&keys[i]);
            }
            invocation.arg(window.as_millis() as u64);
            self.guarded(
                "EVALSHA count_hits",
                invocation.invoke_async::<u64>(&mut conn),
            )
            .await
        });
        let counts = futures_util::future::join_all(calls).await;
        counts.into_iter().try_fold(0, |most, n| Some(most.max(n?)))
    }

    pub async fn del(&self, keys: &[String]) -> bool {
        keys.is_empty()
            || self
                .query::<i64>("DEL", redis::cmd("DEL").arg(keys))
                .await
                .is_some()
    }

    /// Publishes on `channel`: `SPUBLISH` on a cluster, so that the message goes to the one shard
    /// that owns the channel and its subscribers, not to every node.
    pub async fn publish(&self, channel: &str, payloads: &[Vec<u8>]) -> bool {
        if payloads.is_empty() {
            return true;
        }
        let command = if self.is_cluster() {
            "SPUBLISH"
        } else {
            "PUBLISH"
        };
        let mut pipe = redis::pipe();
        for p in payloads {
            pipe.cmd(command).arg(channel).arg(p).ignore();
        }
        let Some(mut conn) = self.conn() else {
            return false;
        };
        self.guarded(command, pipe.query_async::<()>(&mut conn))
            .await
            .is_some()
    }

    /// `used_memory` from `INFO memory` (summed over the masters of a cluster).
    pub async fn used_memory(&self) -> Option<u64> {
        let info: redis::Value = self.query("INFO", redis::cmd("INFO").arg("memory")).await?;
        if let Ok(text) = redis::from_redis_value::<String>(info.clone()) {
            return link::used_memory_of(&text);
        }
        let per_node: std::collections::HashMap<String, String> =
            redis::from_redis_value(info).ok()?;
        per_node
            .values()
            .map(|text| link::used_memory_of(text))
            .sum()
    }

    /// A dedicated subscriber connection on `channel`: its payloads, until it is lost.
    pub async fn pubsub(&self, channel: &str) -> Result<BoxStream<'static, Vec<u8>>, BoxError> {
        let wait = self.timeout.max(Duration::from_secs(1));
        tokio::time::timeout(wait, self.target.subscribe(channel, self.timeout)).await?
    }
}
