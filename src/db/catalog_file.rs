//! The badge catalog file (`badges.toml`): parsed, checked, its words split per language.

use std::collections::BTreeMap;

use serde::Deserialize;

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
