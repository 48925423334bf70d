//! The badge catalog file (`badges.toml`) and its sync into `badge_metadata` with version history.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::badges::BadgeRow;
use super::schema::{badge_metadata, badge_versions};
use crate::domain::badge::{BadgeCategory, Rarity, MAX_BADGES};
use crate::domain::criteria::UnlockCriteria;
use crate::error::BoxError;

const LAUNCH_CATALOG: &str = include_str!("../../badges.toml");

/// One badge as the catalog file describes it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub icon: Option<String>,
    pub rarity: String,
    pub points: i32,
    pub category: String,
    pub display_order: i32,
    #[serde(default = "yes")]
    pub active: bool,
    pub unlock_criteria: serde_json::Value,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    badge: Vec<CatalogEntry>,
}

/// Parses and validates a catalog: known rarity and category, valid criteria, unique slugs.
/// Criteria come back in canonical form, so that comparing with the stored copy is exact.
pub fn parse_catalog(text: &str) -> Result<Vec<CatalogEntry>, BoxError> {
    let file: CatalogFile = toml::from_str(text).map_err(|e| format!("badge catalog: {e}"))?;
    if file.badge.len() > MAX_BADGES {
        return Err(format!(
            "badge catalog: {} badges; at most {MAX_BADGES}",
            file.badge.len()
        )
        .into());
    }
    let mut seen = std::collections::HashSet::new();
    file.badge
        .into_iter()
        .map(|mut b| {
            let bad = |what: &str| format!("badge catalog, badge {:?}: {what}", b.slug);
            if !seen.insert(b.slug.clone()) {
                return Err(bad("duplicate slug").into());
            }
            Rarity::parse(&b.rarity).ok_or_else(|| bad("unknown rarity"))?;
            BadgeCategory::parse(&b.category).ok_or_else(|| bad("unknown category"))?;
            let criteria = UnlockCriteria::from_json(&b.unlock_criteria).map_err(|e| bad(&e))?;
            b.unlock_criteria = criteria.to_json();
            Ok(b)
        })
        .collect()
}

/// The launch catalog compiled into the binary.
pub fn launch_catalog() -> Result<Vec<CatalogEntry>, BoxError> {
    parse_catalog(LAUNCH_CATALOG)
}

/// A stored badge as the catalog file would describe it (criteria in canonical form).
fn as_entry(b: &BadgeRow) -> CatalogEntry {
    CatalogEntry {
        slug: b.slug.clone(),
        name: b.name.clone(),
        description: b.description.clone(),
        icon: b.icon.clone(),
        rarity: b.rarity.clone(),
        points: b.points,
        category: b.category.clone(),
        display_order: b.display_order,
        active: b.active,
        unlock_criteria: UnlockCriteria::from_json(&b.unlock_criteria)
            .map(|c| c.to_json())
            .unwrap_or_else(|_| b.unlock_criteria.clone()),
    }
}

/// The columns a catalog entry sets, for both insert and update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = badge_metadata)]
struct BadgeValues<'a> {
    slug: &'a str,
    name: &'a str,
    description: &'a str,
    #[diesel(treat_none_as_null = true)]
    icon: Option<&'a str>,
    rarity: &'a str,
    points: i32,
    category: &'a str,
    unlock_criteria: &'a serde_json::Value,
    display_order: i32,
    active: bool,
    version: i32,
}

impl<'a> BadgeValues<'a> {
    fn new(e: &'a CatalogEntry, version: i32) -> Self {
        Self {
            slug: &e.slug,
            name: &e.name,
            description: &e.description,
            icon: e.icon.as_deref(),
            rarity: &e.rarity,
            points: e.points,
            category: &e.category,
            unlock_criteria: &e.unlock_criteria,
            display_order: e.display_order,
            active: e.active,
            version,
        }
    }
}

/// The whole definition as kept in `badge_versions.definition`.
fn definition(e: &CatalogEntry) -> serde_json::Value {
    json!({
        "slug": e.slug, "name": e.name, "description": e.description, "icon": e.icon,
        "rarity": e.rarity, "points": e.points, "category": e.category,
        "display_order": e.display_order, "active": e.active, "unlock_criteria": e.unlock_criteria,
    })
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub inserted: Vec<String>,
    pub updated: Vec<String>,
    pub deactivated: Vec<String>,
    pub unchanged: usize,
}

async fn write_version(
    conn: &mut AsyncPgConnection,
    badge_id: Uuid,
    version: i32,
    entry: &CatalogEntry,
) -> QueryResult<()> {
    diesel::insert_into(badge_versions::table)
        .values((
            badge_versions::badge_id.eq(badge_id),
            badge_versions::version.eq(version),
            badge_versions::definition.eq(definition(entry)),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

async fn save(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    version: i32,
    e: &CatalogEntry,
) -> QueryResult<()> {
    diesel::update(badge_metadata::table.find(id))
        .set(BadgeValues::new(e, version))
        .execute(conn)
        .await?;
    write_version(conn, id, version, e).await
}

/// Brings `badge_metadata` in line with `entries`, in one transaction.
pub async fn sync(
    conn: &mut AsyncPgConnection,
    entries: &[CatalogEntry],
) -> Result<SyncReport, BoxError> {
    let entries = entries.to_vec();
    let report = conn
        .transaction::<_, diesel::result::Error, _>(async move |conn| {
            let stored: HashMap<String, BadgeRow> = badge_metadata::table
                .select(BadgeRow::as_select())
                .for_update()
                .load(conn)
                .await?
                .into_iter()
                .map(|b| (b.slug.clone(), b))
                .collect();
            let ever = stored.len()
                + entries
                    .iter()
                    .filter(|e| !stored.contains_key(&e.slug))
                    .count();
            if ever > MAX_BADGES {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!(
                        "badge catalog: {ever} badges with the retired ones; at most {MAX_BADGES}"
                    )
                    .into(),
                ));
            }
            let mut report = SyncReport::default();
            for e in &entries {
                match stored.get(&e.slug) {
                    None => {
                        let id: Uuid = diesel::insert_into(badge_metadata::table)
                            .values(BadgeValues::new(e, 1))
                            .returning(badge_metadata::id)
                            .get_result(conn)
                            .await?;
                        write_version(conn, id, 1, e).await?;
                        report.inserted.push(e.slug.clone());
                    }
                    Some(s) if as_entry(s) != *e => {
                        save(conn, s.id, s.version + 1, e).await?;
                        report.updated.push(e.slug.clone());
                    }
                    Some(_) => report.unchanged += 1,
                }
            }
            for s in stored.values() {
                if s.active && !entries.iter().any(|e| e.slug == s.slug) {
                    let retired = CatalogEntry {
                        active: false,
                        ..as_entry(s)
                    };
                    save(conn, s.id, s.version + 1, &retired).await?;
                    report.deactivated.push(s.slug.clone());
                }
            }
            Ok(report)
        })
        .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_catalog_is_valid() {
        let c = launch_catalog().unwrap();
        let slugs: Vec<_> = c.iter().map(|b| b.slug.as_str()).collect();
        assert_eq!(
            slugs,
            [
                "first_step",
                "quick_win",
                "time_saver",
                "efficiency_expert",
                "streak_master"
            ]
        );
        let points: Vec<_> = c.iter().map(|b| b.points).collect();
        assert_eq!(points, [10, 25, 50, 100, 75]);
    }

    #[test]
    fn invalid_catalogs_are_refused() {
        let base = r#"[[badge]]
slug = "x"
name = "X"
description = ""
rarity = "common"
points = 1
category = "progress"
display_order = 1
unlock_criteria = { type = "t", conditions = [{ field = "opportunities_started", operator = ">=", value = 1 }] }
"#;
        assert!(parse_catalog(base).is_ok());
        assert!(parse_catalog(&base.replace("common", "mythic")).is_err());
        assert!(parse_catalog(&base.replace("opportunities_started", "karma")).is_err());
        assert!(parse_catalog(&format!("{base}\n{base}")).is_err());
    }
}
