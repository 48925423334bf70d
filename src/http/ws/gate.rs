//! How many WebSocket connections may open, and from which origins.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{header, HeaderMap};

/// Counts WebSocket connections, per instance and per client (`client_key`: an address, or an
/// IPv6 /64); the map only holds clients with a connection open.
pub struct WsGate {
    total: AtomicUsize,
    per_client: Mutex<HashMap<IpAddr, usize>>,
    max_total: usize,
    max_per_client: usize,
}

/// One connection counted; dropping it gives the place back.
pub struct WsTicket {
    gate: Arc<WsGate>,
    client: IpAddr,
}

impl Drop for WsTicket {
    fn drop(&mut self) {
        self.gate.total.fetch_sub(1, Ordering::Relaxed);
        let mut map = self.gate.per_client.lock().expect("ws gate lock");
        if let Some(n) = map.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.client);
            }
        }
    }
}

/// Why a connection was not let in.
#[derive(Debug, PartialEq, Eq)]
pub enum GateFull {
    Instance,
    Client,
}

impl WsGate {
    pub fn new(max_total: usize, max_per_client: usize) -> Self {
        Self {
            total: AtomicUsize::new(0),
            per_client: Mutex::default(),
            max_total,
            max_per_client,
        }
    }

    pub fn enter(self: &Arc<Self>, client: IpAddr) -> Result<WsTicket, GateFull> {
        let mut map = self.per_client.lock().expect("ws gate lock");
        if self.total.load(Ordering::Relaxed) >= self.max_total {
            return Err(GateFull::Instance);
        }
        let n = map.entry(client).or_insert(0);
        if *n >= self.max_per_client {
            return Err(GateFull::Client);
        }
        *n += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(WsTicket {
            gate: self.clone(),
            client,
        })
    }

    /// Connections open on this instance.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }
}

/// Browsers send `Origin`; other clients do not, and are let in. A browser page is let in from
/// the server's own origin or an allowed one.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return headers.get(header::ORIGIN).is_none();
    };
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let own = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((own, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_counts_per_instance_and_per_client() {
        let gate = Arc::new(WsGate::new(3, 2));
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let t1 = gate.enter(a).unwrap();
        let _t2 = gate.enter(a).unwrap();
        assert_eq!(gate.enter(a).err(), Some(GateFull::Client));
        let _t3 = gate.enter(b).unwrap();
        assert_eq!(gate.enter(b).err(), Some(GateFull::Instance));
        drop(t1);
        assert_eq!(gate.open(), 2);
        gate.enter(b).unwrap();
        assert!(gate.per_client.lock().unwrap().len() <= 2);
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "api.example.com".parse().unwrap());
        assert!(origin_allowed(&h, &[]), "no Origin: not a browser");
        h.insert(header::ORIGIN, "https://api.example.com".parse().unwrap());
        assert!(origin_allowed(&h, &[]), "same origin");
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!origin_allowed(&h, &[]));
        assert!(origin_allowed(&h, &["https://evil.example".into()]));
        assert!(origin_allowed(&h, &["*".into()]));
    }
}
