//! The Redis cache: MGET for batches, a version-checked SET, all behind the breaker.

use std::time::Duration;

use futures_util::future::BoxFuture;

use super::Cache;
use crate::redis_link::Redis;

/// Stored values start with their version, zero-padded to this width.
const VERSION_WIDTH: usize = 20;

pub struct RedisCache {
    redis: Redis,
}

impl RedisCache {
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }
}

impl Cache for RedisCache {
    fn get_many<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Vec<Option<Vec<u8>>>> {
        Box::pin(async move {
            match self.redis.mget(keys).await {
                Some(values) => values
                    .into_iter()
                    .map(|v| {
                        v.filter(|v| v.len() >= VERSION_WIDTH)
                            .map(|mut v| v.split_off(VERSION_WIDTH))
                    })
                    .collect(),
                None => vec![None; keys.len()],
            }
        })
    }

    fn versions<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Vec<Option<i64>>> {
        Box::pin(async move {
            match self.redis.version_prefixes(keys, VERSION_WIDTH).await {
                Some(values) => values
                    .into_iter()
                    .map(|v| std::str::from_utf8(&v).ok()?.parse().ok())
                    .collect(),
                None => vec![None; keys.len()],
            }
        })
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        version: i64,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, bool> {
        Box::pin(async move { self.redis.set_if_newer(key, version, &value, ttl).await })
    }

    fn delete<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, bool> {
        Box::pin(async move { self.redis.del(keys).await })
    }

    fn key(&self, suffix: &str) -> String {
        self.redis.key(suffix)
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn is_down(&self) -> bool {
        self.redis.breaker().is_down()
    }

    fn used_memory(&self) -> BoxFuture<'_, Option<u64>> {
        Box::pin(self.redis.used_memory())
    }
}
