//! The shipped binary: `serve` migrates, prints the playground URL, logs JSON lines with the
//! request id, and stops gracefully on SIGTERM.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn serve_logs_request_ids_and_stops_on_sigterm() {
    let db = TestDb::empty().await;
    let (mut child, base) = spawn_binary(&db, &[]).await;

    // which release answers: the version and the commit it was built from
    let client = reqwest::Client::new();
    let health: Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    if head.status.success() {
        assert_eq!(
            health["commit"],
            String::from_utf8_lossy(&head.stdout).trim(),
            "{health}"
        );
    }
    // the image's HEALTHCHECK: the binary asks /health, and fails where nothing answers
    let check = |url: String| {
        std::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
            .args(["healthcheck", "--url", &url])
            .output()
            .unwrap()
    };
    let ok = check(format!("{base}/health"));
    assert!(ok.status.success(), "{ok:?}");
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ok, version"));
    assert!(!check("http://127.0.0.1:1/health".into()).status.success());

    // migrated at start-up: the catalog is there
    let r = post_with_id(&client, &base, "req-42", "{ badgeCatalog { slug } }").await;
    assert_eq!(r["data"]["badgeCatalog"].as_array().unwrap().len(), 5);

    // an internal error is logged in full, with the request id, and not returned
    sql(&db, "ALTER TABLE analyses RENAME TO analyses_gone").await;
    let query = r#"{ dashboard(analysisId: "550e8400-e29b-41d4-a716-446655440000") { id } }"#;
    let r = post_with_id(&client, &base, "req-43", query).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], "INTERNAL");

    let pid = child.id().unwrap() as i32;
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .expect("stops")
        .unwrap();
    assert!(status.success(), "{status}");

    let logs = stderr_of(&mut child).await;
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of = |id: &str| {
        lines
            .iter()
            .filter(|l| l["span"]["request_id"] == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(of("req-42").iter().any(|l| l["status"] == 200), "{logs}");
    let failed = of("req-43");
    assert!(
        failed.iter().any(|l| l["level"] == "ERROR"
            && l["error"].as_str().is_some_and(|e| e.contains("analyses"))),
        "{logs}"
    );
    assert!(lines.iter().any(|l| l["message"] == "stopped"), "{logs}");
}

/// `export-operations` writes the playground's examples as a manifest that `TRUSTED_DOCUMENTS`
/// takes: a server started with it runs the examples as the playground sends them, and nothing
/// else.
#[tokio::test]
async fn exported_operations_are_the_trusted_documents() {
    let path = std::env::temp_dir().join(format!("operations-{}.json", std::process::id()));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
        .args(["export-operations", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(manifest["format"], "apollo-persisted-query-manifest");
    let catalog = manifest["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "BadgeCatalog")
        .expect("the BadgeCatalog example")
        .clone();

    let db = TestDb::empty().await;
    let (_child, base) = spawn_binary(&db, &[("TRUSTED_DOCUMENTS", path.to_str().unwrap())]).await;
    let client = reqwest::Client::new();
    let body = catalog["body"].as_str().unwrap();
    let r = post_with_id(&client, &base, "listed", body).await;
    assert_eq!(
        r["data"]["badgeCatalog"].as_array().map(Vec::len),
        Some(5),
        "{r}"
    );
    let r = post_with_id(&client, &base, "unlisted", "{ badgeCatalog { slug } }").await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_ONLY",
        "{r}"
    );
}

/// Every command answers `--help` from the arguments alone (no configuration, no database, no
/// file written); a bad argument is refused with exit 2 and names the value; an unreachable
/// database is named as PostgreSQL with its address.
#[test]
fn every_command_has_help_and_bad_arguments_are_named() {
    let dir = std::env::temp_dir().join(format!("pd-help-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
            .args(args)
            .current_dir(&dir)
            // nothing listens there: a command that tried to connect would fail
            .env("DATABASE_URL", "postgres://user:hidden@127.0.0.1:1/nowhere")
            .env("AUTH_MODE", "not-a-mode")
            .output()
            .unwrap()
    };
    let commands = [
        "serve",
        "migrate",
        "export-schema",
        "export-operations",
        "seed-demo",
        "send-reports",
        "mint-token",
        "healthcheck",
    ];
    let top = run(&["--help"]);
    assert!(top.status.success());
    let text = String::from_utf8_lossy(&top.stdout).into_owned();
    for c in commands {
        assert!(text.contains(c), "{c} missing from --help:\n{text}");
        let out = run(&[c, "--help"]);
        assert!(out.status.success(), "{c} --help failed");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains(&format!("Usage: progress-dashboard {c}")),
            "{help}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "--help wrote a file"
    );
    for (args, named) in [
        (&["seed-demo", "--count", "many"][..], "'many'"),
        (&["mint-token", "--role", "god"][..], "'god'"),
        (
            &["mint-token", "--role", "admin", "--ttl", "soon"][..],
            "'soon'",
        ),
        (&["send-reports"][..], "--due"),
        (&["migrate", "--to", "yesterday"][..], "14 digits"),
        (&["migrate", "--allow-data-loss"][..], "--to"),
        (&["nonsense"][..], "'nonsense'"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
    let unreachable = std::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
        .arg("migrate")
        .env("DATABASE_URL", "postgres://user:hidden@127.0.0.1:1/nowhere")
        .output()
        .unwrap();
    assert!(!unreachable.status.success());
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(
        stderr.contains("PostgreSQL at 127.0.0.1:1/nowhere") && !stderr.contains("hidden"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The cluster's and the replica's settings are checked before anything starts (no secret in the
/// message); a replica that does not answer is skipped, and says so in `/ready` and `/metrics`.
#[tokio::test]
async fn cluster_and_replica_settings() {
    for (env, named) in [
        (
            &[("REDIS_CLUSTER_NODES", "redis://:hidden@a:1, http://b:2")][..],
            "node 2",
        ),
        (&[("REDIS_CLUSTER_NODES", " , ")][..], "node 1"),
        (
            &[
                ("REDIS_URL", "redis://a"),
                ("REDIS_CLUSTER_NODES", "redis://b:1"),
            ][..],
            "both set",
        ),
        (
            &[("DATABASE_REPLICA_URL", "mysql://u:hidden@h/d")][..],
            "DATABASE_REPLICA_URL",
        ),
        (
            &[("DATABASE_REPLICA_MAX_LAG_MS", "soon")][..],
            "DATABASE_REPLICA_MAX_LAG_MS",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
            .arg("serve")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {stderr}");
        assert!(
            stderr.contains(named) && !stderr.contains("hidden"),
            "{env:?}: {stderr}"
        );
    }
    let db = TestDb::new().await;
    let nowhere = "postgres://postgres@127.0.0.1:1/nowhere";
    let (_child, base) = spawn_binary(&db, &[("DATABASE_REPLICA_URL", nowhere)]).await;
    eventually_async("the replica reported unreachable", || async {
        let r = get_json(&format!("{base}/ready")).await;
        r["status"] == "ready" && r["replica"] == "unreachable"
    })
    .await;
    let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap();
    let metrics = metrics.text().await.unwrap();
    for line in [
        "database_replica_in_use 0",
        "database_replica_lag_seconds -1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
}
