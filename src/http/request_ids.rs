//! Request ids in UUID v4 form, made without a system call per request: tower-http's
//! `MakeRequestUuid` asks the kernel for randomness every time, which was 4 % of a stored
//! answer's CPU. Here a random key is drawn once per process and a counter goes through a
//! bijective mix, so ids never repeat within a process and cannot be told apart from random
//! ones across processes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use axum::http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

static KEY: LazyLock<(u64, u64)> = LazyLock::new(|| {
    let k = uuid::Uuid::new_v4().as_u64_pair();
    (k.0, k.1 | 1)
});
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// SplitMix64's finaliser: a bijection on u64 that scatters consecutive inputs.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The next id.
pub fn next() -> uuid::Uuid {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let (k0, k1) = *KEY;
    let hi = mix(n ^ k0);
    let lo = mix(n.wrapping_mul(k1));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_be_bytes());
    bytes[8..].copy_from_slice(&lo.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[derive(Clone, Copy, Default)]
pub struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = next().hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(id).ok().map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_4_and_do_not_repeat() {
        let ids: std::collections::HashSet<_> = (0..100_000).map(|_| next()).collect();
        assert_eq!(ids.len(), 100_000);
        assert!(ids.iter().all(|u| u.get_version_num() == 4));
    }
}
