//! The badge catalog file (`badges.toml`) and its sync into `badge_metadata` with version history.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::badges::BadgeRow;
use super::schema::{badge_metadata, badge_versions};
use crate::domain::badge::{BadgeCategory, Rarity, Translations, MAX_BADGES};
use crate::domain::criteria::UnlockCriteria;
use crate::domain::reports::Lang;
use crate::error::BoxError;

const LAUNCH_CATALOG: &str = include_str!("../../badges.toml");

/// One badge as the catalog file describes it, its words split into the default language's
/// (French: `name`, `description`) and the others' (`translations`).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub translations: Translations,
    pub icon: Option<String>,
    pub rarity: String,
    pub points: i32,
    pub category: String,
    pub display_order: i32,
    pub active: bool,
    pub unlock_criteria: serde_json::Value,
}

/// Words the file gives in the default language only (`name = "Premier Pas"`) or per language
/// (`name.fr = "Premier Pas"` and `name.en = "First Step"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Texts {
    Default(String),
    ByLanguage(BTreeMap<String, String>),
}

impl Texts {
    /// The default language's text and the others', by language; an unknown language, a missing
    /// default or an empty text is refused.
    fn split(self) -> Result<(String, BTreeMap<Lang, String>), String> {
        let by_tag = match self {
            Self::Default(text) => BTreeMap::from([(Lang::default().as_str().to_owned(), text)]),
            Self::ByLanguage(map) => map,
        };
        let mut texts = BTreeMap::new();
        for (tag, text) in by_tag {
            let lang = Lang::parse(&tag).ok_or_else(|| format!("unknown language {tag:?}"))?;
            if text.trim().is_empty() {
                return Err(format!("empty text in {tag:?}"));
            }
            texts.insert(lang, text);
        }
        let default = texts.remove(&Lang::default()).ok_or_else(|| {
            format!(
                "no text in the default language ({})",
                Lang::default().as_str()
            )
        })?;
        Ok((default, texts))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    slug: String,
    name: Texts,
    description: Texts,
    icon: Option<String>,
    rarity: String,
    points: i32,
    category: String,
    display_order: i32,
    #[serde(default = "yes")]
    active: bool,
    unlock_criteria: serde_json::Value,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    badge: Vec<FileEntry>,
}

impl FileEntry {
    /// The entry, checked: known rarity and category, valid criteria (in canonical form, so that
    /// comparing with the stored copy is exact), words in the default language.
    fn check(self) -> Result<CatalogEntry, String> {
        let bad = |what: &str| format!("badge catalog, badge {:?}: {what}", self.slug);
        Rarity::parse(&self.rarity).ok_or_else(|| bad("unknown rarity"))?;
        BadgeCategory::parse(&self.category).ok_or_else(|| bad("unknown category"))?;
        let criteria = UnlockCriteria::from_json(&self.unlock_criteria).map_err(|e| bad(&e))?;
        let bad_text = |field: &str, e: String| bad(&format!("{field}: {e}"));
        let (name, names) = self.name.split().map_err(|e| bad_text("name", e))?;
        let (description, descriptions) = self
            .description
            .split()
            .map_err(|e| bad_text("description", e))?;
        let mut translations = Translations::new();
        for (lang, text) in names {
            translations.entry(lang).or_default().name = Some(text);
        }
        for (lang, text) in descriptions {
            translations.entry(lang).or_default().description = Some(text);
        }
        Ok(CatalogEntry {
            slug: self.slug,
            name,
            description,
            translations,
            icon: self.icon,
            rarity: self.rarity,
            points: self.points,
            category: self.category,
            display_order: self.display_order,
            active: self.active,
            unlock_criteria: criteria.to_json(),
        })
    }
}

/// Parses and validates a catalog: known rarity and category, valid criteria, unique slugs,
/// words in the default language.
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
        .map(|b| {
            if !seen.insert(b.slug.clone()) {
                return Err(format!("badge catalog, badge {:?}: duplicate slug", b.slug).into());
            }
            Ok(b.check()?)
        })
        .collect()
}

/// What the catalog leaves untranslated, as `slug: name in en` lines: those words fall back to
/// the default language, and `migrate` warns of them.
pub fn untranslated(entries: &[CatalogEntry]) -> Vec<String> {
    let mut missing = Vec::new();
    for e in entries.iter().filter(|e| e.active) {
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::default()) {
            let wording = e.translations.get(&lang).cloned().unwrap_or_default();
            for (field, text) in [
                ("name", &wording.name),
                ("description", &wording.description),
            ] {
                if text.is_none() {
                    missing.push(format!("{}: {field} in {}", e.slug, lang.as_str()));
                }
            }
        }
    }
    missing
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
description = "D"
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
        // words per language: the default's required, known languages, no empty text
        let per_language = |name: &str| parse_catalog(&base.replace("name = \"X\"", name));
        let both = per_language("name.fr = \"X\"\nname.en = \"Y\"").unwrap();
        assert_eq!(both[0].name, "X");
        assert_eq!(both[0].translations[&Lang::En].name.as_deref(), Some("Y"));
        assert_eq!(both[0].translations[&Lang::En].description, None);
        assert_eq!(untranslated(&both), ["x: description in en"]);
        assert!(per_language("name.en = \"Y\"").is_err(), "no French");
        assert!(per_language("name.fr = \"X\"\nname.de = \"Z\"").is_err());
        assert!(per_language("name.fr = \" \"").is_err());
        assert_eq!(untranslated(&parse_catalog(base).unwrap()).len(), 2);
        assert!(untranslated(&launch_catalog().unwrap()).is_empty());
    }
}
