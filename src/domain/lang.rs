//! The languages readers read in; French is the default.

use serde::{Deserialize, Serialize};

/// Report languages; French is the default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language a reader asks for, by an `Accept-Language` value (`fr-CA,fr;q=0.9,en;q=0.8`)
    /// or a bare tag (`en`, `fr-CA`): the one of ours with the highest weight, the first on a
    /// tie; `None` when none of ours is asked for. At most 16 entries are read.
    pub fn negotiate(value: &str) -> Option<Self> {
        let mut best: Option<(Lang, f32)> = None;
        for entry in value.split(',').take(16) {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag
                .split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let Some(lang) = Self::parse(&primary) else {
                continue;
            };
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite() && (0.0..=1.0).contains(q))
                .unwrap_or(0.0);
            if weight > 0.0 && best.is_none_or(|(_, w)| weight > w) {
                best = Some((lang, weight));
            }
        }
        best.map(|(lang, _)| lang)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_asks_for_a_language() {
        assert_eq!(Lang::negotiate("fr-CA,fr;q=0.9,en;q=0.8"), Some(Lang::Fr));
        assert_eq!(Lang::negotiate("en-US,en;q=0.9,fr;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::negotiate("de-DE,en;q=0.5,fr;q=0.7"), Some(Lang::Fr));
        assert_eq!(Lang::negotiate("EN"), Some(Lang::En));
        for none in ["", "de", "*", "fr;q=0", "en;q=abc", "en;q=2", "\u{0}"] {
            assert_eq!(Lang::negotiate(none), None, "{none:?}");
        }
    }
}
