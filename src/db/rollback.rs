//! Going back: `migrate --to VERSION` runs the down migrations newer than VERSION, newest first,
//! under the migration lock. A step whose `down.sql` drops a table or a column that holds data
//! is refused unless the operator allows data loss, and the refusal names each one, so nothing
//! is dropped by surprise. Versions are diesel's: the folder's date and number without dashes
//! (`2026-12-07-000002_language` is `20261207000002`), as `migrate` prints them.

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::MigrationHarness;

use super::migrate::{advisory_lock, advisory_unlock, applied, MIGRATIONS};
use super::pool::establish;
use crate::error::BoxError;

/// Every migration's folder name and `down.sql`, in order (written by build.rs).
const DOWN_SQL: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/down_migrations.rs"));

/// One migration to revert, and what of the data it would drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `20261207000002`.
    pub version: String,
    /// `2026-12-07-000002_language`.
    pub name: String,
    /// `analyses.language`, `revoked_sessions`: what it drops that holds data now.
    pub drops: Vec<String>,
}

/// Why `migrate --to` did nothing.
#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error("no migration has version {given}; the versions are: {known}")]
    UnknownVersion { given: String, known: String },
    #[error("migration {0} is not applied: the database is older than that already")]
    NotApplied(String),
    #[error("the database has migration {0}, which this binary does not know: run `migrate --to` with the release that applied it")]
    Foreign(String),
    #[error("going back to {to} drops data:\n{}\ntake a backup (pg_dump), then run again with --allow-data-loss", lines(.steps))]
    DataLoss { to: String, steps: Vec<Step> },
}

fn lines(steps: &[Step]) -> String {
    steps
        .iter()
        .filter(|s| !s.drops.is_empty())
        .map(|s| format!("  {} ({}): {}", s.version, s.name, s.drops.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `2026-12-07-000002_language` → `20261207000002`.
pub fn version_of(name: &str) -> String {
    name.split('_').next().unwrap_or_default().replace('-', "")
}

/// What the statements of one `down.sql` drop: `table` for `DROP TABLE`, `table.column` for
/// `ALTER TABLE … DROP COLUMN` (unless the same step adds the column again: a derived column
/// rebuilt). Statements are read plainly: our migrations name tables and columns bare.
pub fn dropped(down_sql: &str) -> Vec<(String, Option<String>)> {
    let uncommented: String = down_sql
        .lines()
        .map(|l| l.split_once("--").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    let statements: Vec<Vec<String>> = uncommented
        .split(';')
        .map(|s| {
            s.split_whitespace()
                .map(|w| w.trim_matches(',').to_ascii_lowercase())
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect();
    let skip = |words: &[String], i: &mut usize, optional: &[&str]| {
        while words
            .get(*i)
            .is_some_and(|w| optional.contains(&w.as_str()))
        {
            *i += 1;
        }
    };
    let mut out = Vec::new();
    for (n, words) in statements.iter().enumerate() {
        let w = |i: usize| words.get(i).map(String::as_str);
        if w(0) == Some("drop") && w(1) == Some("table") {
            let mut i = 2;
            skip(words, &mut i, &["if", "exists"]);
            for table in &words[i..] {
                if matches!(table.as_str(), "cascade" | "restrict") {
                    break;
                }
                out.push((table.clone(), None));
            }
        } else if w(0) == Some("alter") && w(1) == Some("table") {
            let mut i = 2;
            skip(words, &mut i, &["if", "exists", "only"]);
            let Some(table) = w(i) else { continue };
            i += 1;
            if w(i) != Some("drop") {
                continue;
            }
            i += 1;
            skip(words, &mut i, &["column", "if", "exists"]);
            let Some(column) = w(i) else { continue };
            let added_again = statements[n + 1..].iter().any(|later| {
                later.get(2).map(String::as_str) == Some(table)
                    && later
                        .windows(3)
                        .any(|x| x[0] == "add" && x[1] == "column" && x[2] == column)
            });
            if !added_again {
                out.push((table.to_owned(), Some(column.to_owned())));
            }
        }
    }
    out
}

/// Whether `table` (or its `column`) holds anything now. A name that is not a plain identifier
/// is not looked up: it counts as holding data.
async fn holds_data(
    conn: &mut AsyncPgConnection,
    table: &str,
    column: Option<&str>,
) -> Result<bool, BoxError> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !plain(table) || !column.is_none_or(plain) {
        return Ok(true);
    }
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Bool)]
        held: bool,
    }
    let exists: Row = diesel::sql_query("SELECT to_regclass($1) IS NOT NULL AS held")
        .bind::<Text, _>(format!("public.{table}"))
        .get_result(conn)
        .await?;
    if !exists.held {
        return Ok(false);
    }
    let filter = column.map_or(String::new(), |c| format!(" WHERE {c} IS NOT NULL"));
    let row: Row = diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM {table}{filter}) AS held"
    ))
    .get_result(conn)
    .await?;
    Ok(row.held)
}

/// The steps from the database's state back to `to`, newest first, with what each drops.
async fn plan(conn: &mut AsyncPgConnection, to: &str) -> Result<Vec<Step>, BoxError> {
    let known: Vec<(String, &str, &str)> = DOWN_SQL
        .iter()
        .map(|(name, sql)| (version_of(name), *name, *sql))
        .collect();
    if !known.iter().any(|(v, _, _)| v == to) {
        return Err(RollbackError::UnknownVersion {
            given: to.to_owned(),
            known: known
                .iter()
                .map(|(v, _, _)| v.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into());
    }
    let applied = applied(conn).await?;
    if !applied.iter().any(|v| v == to) {
        return Err(RollbackError::NotApplied(to.to_owned()).into());
    }
    let mut steps = Vec::new();
    for version in applied.iter().rev().filter(|v| v.as_str() > to) {
        let Some((_, name, sql)) = known.iter().find(|(v, _, _)| v == version) else {
            return Err(RollbackError::Foreign(version.clone()).into());
        };
        let mut drops = Vec::new();
        for (table, column) in dropped(sql) {
            if holds_data(conn, &table, column.as_deref()).await? {
                drops.push(match column {
                    Some(c) => format!("{table}.{c}"),
                    None => table,
                });
            }
        }
        steps.push(Step {
            version: version.clone(),
            name: (*name).to_owned(),
            drops,
        });
    }
    Ok(steps)
}

/// Reverts the migrations newer than `to`, newest first, under the migration lock; refuses
/// before reverting anything when a step drops data and `allow_data_loss` is not given.
/// Needs a multi-threaded tokio runtime (the harness blocks in place).
pub async fn revert_to(
    database_url: &str,
    to: &str,
    allow_data_loss: bool,
) -> Result<Vec<Step>, BoxError> {
    let mut conn = establish(database_url, 0)
        .await
        .map_err(|e| super::pool::unreachable(database_url, e))?;
    advisory_lock(&mut conn).await?;
    let result = async {
        let steps = plan(&mut conn, to).await?;
        if !allow_data_loss && steps.iter().any(|s| !s.drops.is_empty()) {
            return Err(RollbackError::DataLoss {
                to: to.to_owned(),
                steps,
            }
            .into());
        }
        let migrations = MigrationSource::<Pg>::migrations(&MIGRATIONS)
            .map_err(|e| format!("reading the migrations: {e}"))?;
        let mut harness = AsyncMigrationHarness::new(conn);
        for step in &steps {
            let migration = migrations
                .iter()
                .find(|m| m.name().version().to_string() == step.version)
                .ok_or_else(|| RollbackError::Foreign(step.version.clone()))?;
            harness
                .revert_migration(migration.as_ref())
                .map_err(|e| format!("reverting {}: {e}", step.name))?;
        }
        Ok::<_, BoxError>((harness.into_inner(), steps))
    }
    .await;
    // A failed run drops the connection, and the session's lock with it.
    let (mut conn, steps) = result?;
    advisory_unlock(&mut conn).await?;
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_the_folder_dates() {
        assert_eq!(version_of("2026-12-07-000002_language"), "20261207000002");
        let all = MigrationSource::<Pg>::migrations(&MIGRATIONS).unwrap();
        assert_eq!(DOWN_SQL.len(), all.len());
    }

    #[test]
    fn what_a_down_migration_drops() {
        let sql = "DROP TABLE IF EXISTS a, b CASCADE;\n-- a comment; DROP TABLE c\n\
                   ALTER TABLE ONLY t DROP COLUMN IF EXISTS x;\n\
                   ALTER TABLE u DROP COLUMN day;\nALTER TABLE u ADD COLUMN day date;\n\
                   DROP FUNCTION f();\nCREATE INDEX i ON t (y)";
        assert_eq!(
            dropped(sql),
            [
                ("a".into(), None),
                ("b".into(), None),
                ("t".into(), Some("x".into())),
            ]
        );
        // every shipped down.sql is read: the newest drops the translations column
        let last = DOWN_SQL.last().unwrap();
        assert_eq!(
            dropped(last.1),
            [("badge_metadata".into(), Some("translations".into()))]
        );
    }
}
