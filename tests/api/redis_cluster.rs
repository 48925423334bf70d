//! A real Redis Cluster of our own for a test: six `redis-server --cluster-enabled yes` on free
//! ports, joined by `redis-cli --cluster create --cluster-replicas 1` (three masters, each with a
//! replica); stopped and its files removed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::free_ports;

pub struct RedisCluster {
    pub ports: Vec<u16>,
    /// Each node's cluster bus port (port + 10000 may be past 65535, so it is chosen too).
    bus_ports: Vec<u16>,
    children: Vec<Option<Child>>,
    dir: PathBuf,
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli must be installed (scripts/test.sh installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl RedisCluster {
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "pd-cluster-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ports = free_ports(12);
        let bus_ports = ports.split_off(6);
        let mut cluster = Self {
            children: Vec::new(),
            ports: ports.clone(),
            bus_ports,
            dir,
        };
        for &port in &ports {
            let child = cluster.spawn(port);
            cluster.children.push(Some(child));
        }
        for &port in &ports {
            wait_until(&format!("redis-server on {port}"), || {
                cli(port, &["PING"]).trim() == "PONG"
            });
        }
        let addresses: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(created.success(), "redis-cli --cluster create failed");
        cluster.wait_ok();
        cluster
    }

    fn spawn(&self, port: u16) -> Child {
        let i = self.ports.iter().position(|p| *p == port).unwrap();
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-port", &self.bus_ports[i].to_string()])
            .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "1000"])
            .arg("--cluster-config-file")
            .arg(self.dir.join(format!("nodes-{port}.conf")))
            .args(["--save", "", "--appendonly", "no"])
            // a replica is in sync at once (not after the default five seconds' wait for others)
            .args(["--repl-diskless-sync-delay", "0"])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test.sh installs it)")
    }

    /// `REDIS_CLUSTER_NODES`: two seeds are enough to find the rest.
    pub fn nodes(&self) -> String {
        format!(
            "redis://127.0.0.1:{},redis://127.0.0.1:{}",
            self.ports[0], self.ports[3]
        )
    }

    /// Every live node says `cluster_state:ok` and agrees on three masters, each serving, and
    /// every replica is in sync with its master (one that is not could not take over).
    pub fn wait_ok(&self) {
        wait_until("the cluster to be ok", || {
            self.live_ports().iter().all(|&p| {
                let replication = cli(p, &["INFO", "replication"]);
                cli(p, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
                    && self.masters_seen_by(p).len() == 3
                    && (replication.contains("role:master")
                        || replication.contains("master_link_status:up"))
            })
        });
    }

    fn live_ports(&self) -> Vec<u16> {
        self.ports
            .iter()
            .zip(&self.children)
            .filter(|(_, c)| c.is_some())
            .map(|(p, _)| *p)
            .collect()
    }

    /// The ports of the connected masters holding slots, as node `port` sees them.
    fn masters_seen_by(&self, port: u16) -> Vec<u16> {
        cli(port, &["CLUSTER", "NODES"])
            .lines()
            .filter(|l| l.contains("master") && !l.contains("fail") && l.split(' ').count() > 8)
            .filter_map(|l| l.split(' ').nth(1)?.split(['@', ':']).nth(1)?.parse().ok())
            .collect()
    }

    /// The port of the master that owns `key`'s slot now.
    pub fn master_of(&self, key: &str) -> u16 {
        self.master_of_seen_by(self.live_ports()[0], key)
    }

    /// The port of the master that owns `key`'s slot, as node `port` sees it.
    fn master_of_seen_by(&self, port: u16, key: &str) -> u16 {
        let slot: u16 = cli(port, &["CLUSTER", "KEYSLOT", key])
            .trim()
            .parse()
            .unwrap();
        cli(port, &["CLUSTER", "NODES"])
            .lines()
            .filter(|l| l.contains("master") && !l.contains("fail"))
            .find(|l| {
                l.split(' ').skip(8).any(|range| {
                    let mut ends = range.split('-').map(|n| n.parse::<u16>());
                    match (ends.next(), ends.next()) {
                        (Some(Ok(a)), Some(Ok(b))) => (a..=b).contains(&slot),
                        (Some(Ok(a)), None) => a == slot,
                        _ => false,
                    }
                })
            })
            .and_then(|l| l.split(' ').nth(1)?.split(['@', ':']).nth(1)?.parse().ok())
            .expect("a master owns every slot")
    }

    /// How many subscribers the sharded `channel` has, on the master that owns it.
    pub fn shard_subscribers(&self, channel: &str) -> String {
        let out = cli(self.master_of(channel), &["PUBSUB", "SHARDNUMSUB", channel]);
        out.lines().nth(1).unwrap_or_default().to_owned()
    }

    /// Moves the slot of `key` to another master, as resharding does (IMPORTING, MIGRATING, its
    /// keys migrated, then the new owner told to every master); the new owner's port.
    pub fn move_slot_of(&self, key: &str) -> u16 {
        let from = self.master_of(key);
        let to = *self
            .masters_seen_by(from)
            .iter()
            .find(|p| **p != from)
            .expect("another master");
        let slot = cli(from, &["CLUSTER", "KEYSLOT", key]).trim().to_owned();
        let id = |port| cli(port, &["CLUSTER", "MYID"]).trim().to_owned();
        let (from_id, to_id) = (id(from), id(to));
        cli(to, &["CLUSTER", "SETSLOT", &slot, "IMPORTING", &from_id]);
        cli(from, &["CLUSTER", "SETSLOT", &slot, "MIGRATING", &to_id]);
        loop {
            let keys = cli(from, &["CLUSTER", "GETKEYSINSLOT", &slot, "100"]);
            let keys: Vec<&str> = keys.lines().filter(|k| !k.is_empty()).collect();
            if keys.is_empty() {
                break;
            }
            let to_port = to.to_string();
            let mut args = vec!["MIGRATE", "127.0.0.1", &to_port, "", "0", "5000", "KEYS"];
            args.extend(keys);
            cli(from, &args);
        }
        for port in self.masters_seen_by(from) {
            cli(port, &["CLUSTER", "SETSLOT", &slot, "NODE", &to_id]);
        }
        wait_until("the slot's new owner known to all", || {
            self.live_ports()
                .iter()
                .all(|p| self.master_of_seen_by(*p, key) == to)
        });
        to
    }

    /// Kills the node on `port` (SIGKILL: no goodbye to the cluster); its replica takes over
    /// once the others agree it has failed.
    pub fn kill(&mut self, port: u16) {
        let i = self.ports.iter().position(|p| *p == port).unwrap();
        if let Some(mut c) = self.children[i].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the killed node on `port` again: it rejoins as a replica of its old slots' master.
    pub fn revive(&mut self, port: u16) {
        let i = self.ports.iter().position(|p| *p == port).unwrap();
        if self.children[i].is_none() {
            self.children[i] = Some(self.spawn(port));
        }
    }
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
