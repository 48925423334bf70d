use diesel_async::RunQueryDsl;
use progress_dashboard::db::migrate;

use crate::helpers::*;

#[derive(diesel::QueryableByName, PartialEq, Debug)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// The shape of the public schema: columns, constraints, indexes, triggers, functions.
async fn shape(db: &TestDb) -> Vec<String> {
    let sql = "
        SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS line
          FROM information_schema.columns WHERE table_schema = 'public'
        UNION ALL SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
        UNION ALL SELECT tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
        UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
        ORDER BY 1";
    diesel::sql_query(sql)
        .load::<Column>(&mut db.conn().await)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.line)
        .collect()
}

/// Analyses whose activity days or first implementation differ from what the log says.
const SUMMARIES_DISAGREE: &str = "
    SELECT count(*) FROM analyses a
     WHERE a.first_implemented_at IS DISTINCT FROM (SELECT min(occurred_at) FROM progress_activity
                                                     WHERE analysis_id = a.id AND to_status = 'IMPLEMENTED')
        OR ARRAY(SELECT day FROM activity_days WHERE analysis_id = a.id ORDER BY day)
           <> ARRAY(SELECT DISTINCT activity_day FROM progress_activity
                     WHERE analysis_id = a.id AND activity_day IS NOT NULL ORDER BY 1)";

/// Log entries whose day is not the local day in their analysis' zone.
const NOT_LOCAL_DAYS: &str = "
    SELECT count(*) FROM progress_activity p JOIN analyses a ON a.id = p.analysis_id
     WHERE p.activity_day <> (p.occurred_at AT TIME ZONE a.time_zone)::date";

/// Every migration up, data in, every migration down, and up again: the schema comes back the
/// same, and the catalog is synced again.
#[test]
fn migrations_go_up_down_and_up_again_with_data() {
    run_multi(async {
        let db = TestDb::empty().await;
        let report = migrate::run(&db.url).await.unwrap();
        assert_eq!(
            report.applied.len(),
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
                .unwrap()
                .count()
        );
        assert_eq!(report.catalog.inserted.len(), 5);
        let first = shape(&db).await;
        assert!(first
            .iter()
            .any(|l| l.contains("user_badges_analysis_badge_key")));

        // data in every table, through the real services
        {
            let mut conn = db.conn().await;
            progress_dashboard::service::seed::seed_demo(&mut conn, 5, t0())
                .await
                .unwrap();
            exec_on(&mut conn, "INSERT INTO email_subscriptions (id, analysis_id, email, frequency) VALUES (gen_random_uuid(), '550e8400-e29b-41d4-a716-446655440000', 'a@example.com', 'weekly')").await;
        }
        assert!(db.count("SELECT count(*) FROM user_badges").await > 0);
        assert!(db.count("SELECT count(*) FROM achievement_progress").await > 0);
        // the activity summaries agree with the log: kept by the trigger, then rebuilt by the
        // newest migration's backfill
        assert!(db.count("SELECT count(*) FROM activity_days").await > 0);
        assert_eq!(db.count(SUMMARIES_DISAGREE).await, 0);
        // the log's day is the local day of each analysis' zone (the demo has several)
        assert!(
            db.count("SELECT count(DISTINCT time_zone) FROM analyses")
                .await
                > 1
        );
        assert_eq!(db.count(NOT_LOCAL_DAYS).await, 0);
        // the badges' translations, the analyses' language, then local days, down
        assert_eq!(
            db.count("SELECT count(*) FROM badge_metadata WHERE translations ? 'en'")
                .await,
            5
        );
        assert!(
            db.count("SELECT count(*) FROM analyses WHERE language = 'en'")
                .await
                > 0
        );
        migrate::revert_last(&db.url).await.unwrap();
        migrate::revert_last(&db.url).await.unwrap();
        migrate::revert_last(&db.url).await.unwrap();
        // down: UTC days again, kept by the generated column
        assert_eq!(
            db.count("SELECT count(*) FROM progress_activity WHERE activity_day <> (occurred_at AT TIME ZONE 'UTC')::date").await,
            0
        );
        assert_eq!(db.count(SUMMARIES_DISAGREE).await, 0);
        migrate::run(&db.url).await.unwrap();
        assert_eq!(db.count(SUMMARIES_DISAGREE).await, 0);
        // up again: every existing analysis in Toronto, its days recomputed there
        assert_eq!(
            db.count("SELECT count(*) FROM analyses WHERE time_zone <> 'America/Toronto'")
                .await,
            0
        );
        assert_eq!(db.count(NOT_LOCAL_DAYS).await, 0);
        assert!(
            db.count("SELECT count(*) FROM progress_activity WHERE activity_day <> (occurred_at AT TIME ZONE 'UTC')::date").await > 0,
            "some evening moves are on another day in Toronto than in UTC"
        );
        assert!(db.count("SELECT count(*) FROM activity_days").await > 0);

        let reverted = migrate::revert_all(&db.url).await.unwrap();
        assert_eq!(reverted.len(), report.applied.len());
        assert_eq!(db.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'").await, 0);
        assert_eq!(
            db.count("SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
                .await,
            0
        );

        let again = migrate::run(&db.url).await.unwrap();
        assert_eq!(again.applied, report.applied);
        assert_eq!(again.catalog.inserted.len(), 5);
        assert_eq!(shape(&db).await, first);

        // and a second run is a no-op
        let noop = migrate::run(&db.url).await.unwrap();
        assert!(noop.applied.is_empty());
        assert_eq!(noop.catalog.unchanged, 5);
    });
}

/// Two instances starting at once: the advisory lock makes them take turns.
#[test]
fn concurrent_migrations_are_safe() {
    run_multi(async {
        let db = TestDb::empty().await;
        let (a, b) = tokio::join!(
            tokio::spawn(migrate::run_owned(db.url.clone())),
            tokio::spawn(migrate::run_owned(db.url.clone()))
        );
        let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
        let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .count();
        assert_eq!(a.applied.len() + b.applied.len(), migrations);
        assert_eq!(a.catalog.inserted.len() + b.catalog.inserted.len(), 5);
        assert_eq!(db.count("SELECT count(*) FROM badge_metadata").await, 5);
    });
}

/// `progress-dashboard migrate` and `migrate --to`, the shipped binary, with DATABASE_URL.
fn migrate_cli(db: &TestDb, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_progress-dashboard"))
        .arg("migrate")
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("LOG_LEVEL", "warn")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The versions of the embedded migrations, oldest first (`20261207000002`).
fn versions() -> Vec<String> {
    use diesel::migration::MigrationSource;
    MigrationSource::<diesel::pg::Pg>::migrations(&migrate::MIGRATIONS)
        .unwrap()
        .iter()
        .map(|m| m.name().version().to_string())
        .collect()
}

/// A database with the migrations up to `to` alone applied: what that release produced.
async fn migrated_to(to: &str) -> TestDb {
    use diesel::migration::MigrationSource;
    use diesel_migrations::MigrationHarness;
    let db = TestDb::empty().await;
    let conn = progress_dashboard::db::pool::establish(&db.url, 0)
        .await
        .unwrap();
    let mut harness = diesel_async::AsyncMigrationHarness::new(conn);
    // asking what is applied makes diesel's own table, as `migrate` does
    assert!(harness.applied_migrations().unwrap().is_empty());
    for m in MigrationSource::<diesel::pg::Pg>::migrations(&migrate::MIGRATIONS).unwrap() {
        if m.name().version().to_string().as_str() <= to {
            harness.run_migration(m.as_ref()).unwrap();
        }
    }
    db
}

/// The rollback runbook (docs/operations.md), walked with the shipped binary: migrate up, data
/// in, `migrate --to` the version before the newest migration (refused until data loss is
/// allowed, naming what it drops), the schema then equal to what that version's migrations alone
/// make, the data read back, then up again: nothing acknowledged is lost.
#[test]
fn the_rollback_runbook_loses_nothing_acknowledged() {
    run_multi(async {
        let db = TestDb::empty().await;
        let (ok, out) = migrate_cli(&db, &[]);
        assert!(ok, "{out}");
        let all = versions();
        let (newest, before) = (&all[all.len() - 1], &all[all.len() - 2]);
        assert!(out.contains(&format!("schema version: {newest}")), "{out}");
        let full = shape(&db).await;
        {
            let mut conn = db.conn().await;
            progress_dashboard::service::seed::seed_demo(&mut conn, 5, t0())
                .await
                .unwrap();
        }
        let acknowledged = [
            "SELECT count(*) FROM analyses",
            "SELECT count(*) FROM user_progress WHERE status <> 'NOT_STARTED'",
            "SELECT count(*) FROM progress_activity",
            "SELECT count(*) FROM user_badges",
            "SELECT count(*) FROM badge_versions",
        ];
        let mut counts = Vec::new();
        for q in acknowledged {
            counts.push(db.count(q).await);
        }
        assert!(counts.iter().all(|&n| n > 0), "{counts:?}");

        // bad versions are refused with the list of good ones, and nothing moves
        for bad in ["20990101000001", "2026-99", "latest"] {
            let (ok, out) = migrate_cli(&db, &["--to", bad]);
            assert!(!ok, "{bad}: {out}");
            assert!(
                out.contains("20261122000001") || out.contains("14 digits"),
                "{bad}: {out}"
            );
        }
        // a step that drops data: refused, saying which, until allowed
        let (ok, out) = migrate_cli(&db, &["--to", before]);
        assert!(!ok, "{out}");
        assert!(
            out.contains("badge_metadata.translations") && out.contains("--allow-data-loss"),
            "{out}"
        );
        assert_eq!(shape(&db).await, full, "a refusal changes nothing");
        let (ok, out) = migrate_cli(&db, &["--to", before, "--allow-data-loss"]);
        assert!(ok, "{out}");
        assert!(out.contains(&format!("reverted {newest}")), "{out}");
        assert!(out.contains(&format!("schema version: {before}")), "{out}");

        // the schema is the previous release's, and the data is all there
        let previous = migrated_to(before).await;
        assert_eq!(shape(&db).await, shape(&previous).await);
        for (q, n) in acknowledged.iter().zip(&counts) {
            assert_eq!(db.count(q).await, *n, "{q}");
        }
        // going to where it is already is a no-op
        let (ok, out) = migrate_cli(&db, &["--to", before]);
        assert!(ok && out.contains("nothing to revert"), "{out}");

        // forward again: the newest schema, the same data, the catalog's words back (as their
        // version recorded them: restored, not five new versions)
        let (ok, out) = migrate_cli(&db, &[]);
        assert!(ok, "{out}");
        assert!(out.contains("restored [\"first_step\""), "{out}");
        assert_eq!(shape(&db).await, full);
        for (q, n) in acknowledged.iter().zip(&counts) {
            assert_eq!(db.count(q).await, *n, "{q}");
        }
        assert_eq!(
            db.count("SELECT count(*) FROM badge_metadata WHERE translations ? 'en'")
                .await,
            5
        );
    });
}
