//! The badge catalog file (`badges.toml`) and its sync into `badge_metadata` with version history.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::badges::BadgeRow;
use super::schema::{badge_metadata, badge_versions};
use crate::domain::badge::MAX_BADGES;
use crate::domain::criteria::UnlockCriteria;
use crate::error::BoxError;

pub use super::catalog_file::{launch_catalog, parse_catalog, untranslated, CatalogEntry};

/// A stored badge as the catalog file would describe it (criteria in canonical form).
fn as_entry(b: &BadgeRow) -> CatalogEntry {
    CatalogEntry {
        slug: b.slug.clone(),
        name: b.name.clone(),
        description: b.description.clone(),
        // unreadable stored words are a difference: the file's replace them
        translations: serde_json::from_value(b.translations.clone()).unwrap_or_default(),
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
    translations: serde_json::Value,
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
            translations: serde_json::to_value(&e.translations).unwrap_or_default(),
        }
    }
}

/// The whole definition as kept in `badge_versions.definition`.
fn definition(e: &CatalogEntry) -> serde_json::Value {
    json!({
        "slug": e.slug, "name": e.name, "description": e.description,
        "translations": e.translations, "icon": e.icon,
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
    /// Rows brought back to what their version records, with no new version: a column that
    /// `migrate --to` dropped and a later migration added back.
    pub restored: Vec<String>,
    /// What the catalog leaves untranslated ([`untranslated`]).
    pub untranslated: Vec<String>,
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

/// The definition `badge_versions` records for a badge's version.
async fn recorded(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    version: i32,
) -> QueryResult<Option<serde_json::Value>> {
    badge_versions::table
        .filter(badge_versions::badge_id.eq(id))
        .filter(badge_versions::version.eq(version))
        .select(badge_versions::definition)
        .first(conn)
        .await
        .optional()
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
            let mut report = SyncReport {
                untranslated: untranslated(&entries),
                ..SyncReport::default()
            };
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
                        if recorded(conn, s.id, s.version).await? == Some(definition(e)) {
                            // the file is what this version was: only the row lost part of it
                            diesel::update(badge_metadata::table.find(s.id))
                                .set(BadgeValues::new(e, s.version))
                                .execute(conn)
                                .await?;
                            report.restored.push(e.slug.clone());
                        } else {
                            save(conn, s.id, s.version + 1, e).await?;
                            report.updated.push(e.slug.clone());
                        }
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
