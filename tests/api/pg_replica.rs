//! A PostgreSQL primary and a streaming replica of our own for a test: `initdb` and
//! `pg_basebackup -R` into a scratch folder, each on a free port (as the `postgres` user when
//! the tests run as root, which PostgreSQL refuses to run as); stopped and removed on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::free_ports;

use progress_dashboard::db::migrate;

pub struct PgPair {
    pub primary_port: u16,
    pub replica_port: u16,
    dir: PathBuf,
    bin: PathBuf,
    as_root: bool,
}

const DB: &str = "pd";

/// The newest server's programs (`/usr/lib/postgresql/N/bin`, as Debian installs them).
fn server_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server programs (scripts/test.sh installs them)")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("pg_basebackup").exists())
        .collect();
    versions.sort_by_key(|p| {
        let n = p.parent().and_then(|v| v.file_name()).unwrap_or_default();
        n.to_string_lossy().parse::<u32>().unwrap_or(0)
    });
    versions
        .pop()
        .expect("a PostgreSQL server under /usr/lib/postgresql")
}

impl PgPair {
    /// Both servers up, the project's schema on the primary and replayed on the replica.
    pub async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "pd-replica-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let uid = Command::new("id").arg("-u").output().unwrap().stdout;
        let as_root = String::from_utf8_lossy(&uid).trim() == "0";
        let ports = free_ports(2);
        let pair = Self {
            primary_port: ports[0],
            replica_port: ports[1],
            dir,
            bin: server_bin(),
            as_root,
        };
        if as_root {
            pair.run(
                "chown",
                &["-R".as_ref(), "postgres:".as_ref(), pair.dir.as_os_str()],
                false,
            );
        }
        let primary = pair.dir.join("primary");
        pair.pg(
            "initdb",
            &[
                "-D",
                path(&primary),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
        );
        pair.start_server(&primary, pair.primary_port);
        let created = Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", &pair.primary_port.to_string()])
            .args(["-U", "postgres", "-qc", &format!("CREATE DATABASE {DB}")])
            .status()
            .unwrap();
        assert!(created.success());
        migrate::run(&pair.primary_url())
            .await
            .expect("migrations apply");
        let replica = pair.dir.join("replica");
        pair.pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &pair.primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                path(&replica),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
        );
        pair.start_server(&replica, pair.replica_port);
        pair
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr], as_postgres: bool) {
        let mut cmd = if as_postgres && self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        };
        let out = cmd.args(args).current_dir(&self.dir).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// One of the server's programs, as the user that owns the data.
    fn pg(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        self.run(program.to_str().unwrap(), &args, true);
    }

    fn start_server(&self, data: &Path, port: u16) {
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off -c full_page_writes=off",
            self.dir.display()
        );
        let log = self.dir.join(format!("{port}.log"));
        self.pg(
            "pg_ctl",
            &[
                "-D",
                path(data),
                "-l",
                path(&log),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    pub fn primary_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DB}", self.primary_port)
    }

    pub fn replica_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{DB}", self.replica_port)
    }

    /// One statement on the replica, by psql; its one value.
    pub fn on_replica(&self, sql: &str) -> String {
        self.psql(self.replica_port, sql)
    }

    /// Waits until the replica has replayed everything the primary has written so far.
    pub fn wait_replayed(&self) {
        let lsn = self.psql(self.primary_port, "SELECT pg_current_wal_lsn()");
        let sql = format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn");
        for _ in 0..200 {
            if self.on_replica(&sql) == "t" {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        panic!("the replica did not replay up to {lsn}");
    }

    fn psql(&self, port: u16, sql: &str) -> String {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-U", "postgres", "-d", DB, "-Atc", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Stops the replica at once (as a crash would).
    pub fn stop_replica(&self) {
        self.pg(
            "pg_ctl",
            &[
                "-D",
                path(&self.dir.join("replica")),
                "-m",
                "immediate",
                "stop",
            ],
        );
    }

    pub fn start_replica(&self) {
        self.start_server(&self.dir.join("replica"), self.replica_port);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

impl Drop for PgPair {
    fn drop(&mut self) {
        for data in ["replica", "primary"] {
            let data = self.dir.join(data);
            if data.join("postmaster.pid").exists() {
                let ctl = self.bin.join("pg_ctl");
                let mut cmd = if self.as_root {
                    let mut c = Command::new("runuser");
                    c.args(["-u", "postgres", "--"]).arg(&ctl);
                    c
                } else {
                    Command::new(&ctl)
                };
                let _ = cmd
                    .arg("-D")
                    .arg(&data)
                    .args(["-m", "immediate", "stop"])
                    .output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
