//! Sentences the server composes (recommendation reasons, next milestones), kept as a message id
//! and its arguments until a reader's language is known, then written out from that language's
//! Fluent file (`messages/*.ftl`): the wording and the plurals are there, not in code.

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use super::reports::Lang;

/// A sentence to be written in a reader's language.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

/// An argument: a number (it chooses plurals), or text (a number already written for the
/// language, say).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Number(f64),
    Text(String),
    /// A number written with so many decimals, as the language writes them.
    Decimal(f64, usize),
    /// Hours, as few decimals as they need (at most two).
    Hours(f64),
}

impl Message {
    pub fn new(id: &'static str) -> Self {
        Self {
            id,
            args: Vec::new(),
        }
    }

    pub fn number(mut self, name: &'static str, value: f64) -> Self {
        self.args.push((name, Arg::Number(value)));
        self
    }

    /// Text written as it is (a figure already written for the language, say).
    pub fn text(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, Arg::Text(value.into())));
        self
    }

    /// Hours as a reader writes them: "2", "2,5" or "2.5" (at most two decimals, no "-0").
    pub fn hours(mut self, name: &'static str, value: f64) -> Self {
        self.args.push((name, Arg::Hours(value)));
        self
    }

    /// A decimal number written as `lang` writes it ("2,5" or "2.5"), as `name`.
    pub fn decimal(mut self, name: &'static str, value: f64, decimals: usize) -> Self {
        self.args.push((name, Arg::Decimal(value, decimals)));
        self
    }

    /// The sentence in `lang`; the message id itself when the language has no such message (a
    /// test checks that every id is in every language).
    pub fn render(&self, lang: Lang) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in &self.args {
            let value = match value {
                Arg::Number(n) => FluentValue::from(*n),
                Arg::Text(t) => FluentValue::from(t.as_str()),
                Arg::Decimal(n, decimals) => FluentValue::from(decimal(*n, *decimals, lang)),
                Arg::Hours(n) => FluentValue::from(hours(*n, lang)),
            };
            args.set(*name, value);
        }
        format(lang, self.id, Some(&args)).unwrap_or_else(|| self.id.to_owned())
    }
}

/// The message `id` of `lang` with `args`, if the language has it.
fn format(lang: Lang, id: &str, args: Option<&FluentArgs>) -> Option<String> {
    format_checked(lang, id, args).map(|(text, _)| text)
}

/// [`format`], and whether every argument the message uses was given.
fn format_checked(lang: Lang, id: &str, args: Option<&FluentArgs>) -> Option<(String, bool)> {
    let bundle = &BUNDLES[&lang];
    let pattern = bundle.get_message(id)?.value()?;
    let mut errors = Vec::new();
    let text = bundle
        .format_pattern(pattern, args, &mut errors)
        .into_owned();
    Some((text, errors.is_empty()))
}

/// A message without arguments, by its id (`page-confirm-title`); the id itself when `lang` has
/// no such message.
pub fn text(lang: Lang, id: &str) -> String {
    format(lang, id, None).unwrap_or_else(|| id.to_owned())
}

/// What an error of `code` says to a reader of `lang`: `None` for English, the language the
/// server's own (technical) messages are written in.
pub fn error_text(code: &str, lang: Lang) -> Option<String> {
    match lang {
        Lang::En => None,
        _ => format(lang, &format!("error-{code}"), None),
    }
}

/// 8.0 → "8", 2.5 → "2,5" (fr) or "2.5" (en); never "-0".
pub fn hours(value: f64, lang: Lang) -> String {
    let rounded = super::metrics::hundredths(value);
    let s = if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    };
    match lang {
        Lang::Fr => s.replace('.', ","),
        Lang::En => s,
    }
}

/// `value` with `decimals` digits after the separator the language uses.
fn decimal(value: f64, decimals: usize, lang: Lang) -> String {
    let s = format!("{value:.decimals$}");
    match lang {
        Lang::Fr => s.replace('.', ","),
        Lang::En => s,
    }
}

const SOURCES: [(Lang, &str, &str); 2] = [
    (Lang::Fr, "fr", include_str!("../../messages/fr.ftl")),
    (Lang::En, "en", include_str!("../../messages/en.ftl")),
];

static BUNDLES: LazyLock<HashMap<Lang, FluentBundle<FluentResource>>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(lang, tag, source)| {
            let resource = FluentResource::try_new(source.to_string())
                .unwrap_or_else(|(_, e)| panic!("messages/{tag}.ftl: {e:?}"));
            let id = tag.parse().expect("a language tag");
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            // no Unicode isolation marks around arguments: the text goes into plain strings
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .unwrap_or_else(|e| panic!("messages/{tag}.ftl: {e:?}"));
            (*lang, bundle)
        })
        .collect()
});

/// The messages of `lang` named `prefix`… that take no argument, by the rest of their name with
/// dashes as underscores (`report-per-week` → `per_week`): the labels templates read.
pub fn labels(lang: Lang, prefix: &str) -> HashMap<String, String> {
    ids(lang)
        .into_iter()
        .filter_map(|id| {
            let name = id.strip_prefix(prefix)?.replace('-', "_");
            let (text, complete) = format_checked(lang, &id, None)?;
            // a message with arguments is a sentence, not a label
            complete.then_some((name, text))
        })
        .collect()
}

/// The ids of one language's messages (for the test that every language has every message).
pub fn ids(lang: Lang) -> Vec<String> {
    let source = SOURCES
        .iter()
        .find(|(l, _, _)| *l == lang)
        .map_or("", |(_, _, s)| s);
    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
    resource
        .entries()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_message() {
        assert_eq!(ids(Lang::Fr), ids(Lang::En));
        assert!(ids(Lang::Fr).len() > 10);
    }

    #[test]
    fn labels_are_the_messages_without_arguments() {
        let fr = labels(Lang::Fr, "report-");
        assert_eq!(fr["per_week"], "h/semaine");
        assert_eq!(fr["status_IN_PROGRESS"], "En cours");
        assert!(!fr.contains_key("implemented"), "a sentence with arguments");
        let fr: std::collections::BTreeSet<_> = fr.into_keys().collect();
        let en: std::collections::BTreeSet<_> = labels(Lang::En, "report-").into_keys().collect();
        assert_eq!(fr, en);
    }

    #[test]
    fn a_confirmation_reads_as_one_email() {
        let body = |frequency, lang| {
            Message::new("confirm-body")
                .text("frequency", frequency)
                .text("url", "https://x.test/confirm/t")
                .render(lang)
        };
        assert_eq!(
            body("weekly", Lang::Fr),
            "Quelqu'un a demandé que des rapports de progression hebdomadaires soient envoyés à cette adresse.\n\n\
             Pour les recevoir, confirmez ici : https://x.test/confirm/t\n\n\
             Si ce n'était pas vous, ignorez ce message : rien d'autre ne sera envoyé."
        );
        assert!(body("monthly", Lang::En).starts_with("Someone asked for monthly progress"));
    }

    /// English has no space before a colon or a percent sign; French has one before its
    /// colons (the templates' labels, the pages, the errors and the emails read these files).
    #[test]
    fn each_language_is_punctuated_as_it_is_written() {
        for (lang, _, source) in SOURCES {
            for line in source.lines().filter(|l| !l.trim_start().starts_with('#')) {
                let value = line.split_once(" = ").map_or(line, |(_, v)| v);
                match lang {
                    Lang::En => assert!(
                        !value.contains(" :") && !value.contains(" %") && !value.contains(" ;"),
                        "French spacing in English: {line}"
                    ),
                    Lang::Fr => assert!(
                        !value.contains(|c: char| c.is_alphabetic())
                            || value
                                .match_indices(": ")
                                .all(|(i, _)| value[..i].ends_with([' ', '\u{a0}', '"'])),
                        "no space before a French colon: {line}"
                    ),
                }
            }
        }
    }

    #[test]
    fn plurals_follow_the_language() {
        let days = |n: f64, lang| {
            Message::new("milestone-days")
                .number("count", n)
                .render(lang)
        };
        assert_eq!(days(1.0, Lang::En), "Make progress on 1 more day in a row");
        assert_eq!(days(2.0, Lang::En), "Make progress on 2 more days in a row");
        assert_eq!(days(1.0, Lang::Fr), "Progressez encore 1 jour d'affilée");
        assert_eq!(days(6.0, Lang::Fr), "Progressez encore 6 jours d'affilée");
        // French counts 0 as one
        let implemented = |n: f64| {
            Message::new("report-implemented")
                .number("implemented", n)
                .number("total", 3.0)
                .render(Lang::Fr)
        };
        assert_eq!(implemented(0.0), "0 opportunité implémentée sur 3");
        assert_eq!(implemented(2.0), "2 opportunités implémentées sur 3");
        let hours = |n: f64, lang| {
            Message::new("milestone-hours-weekly")
                .decimal("hours", n, 1)
                .render(lang)
        };
        assert_eq!(hours(8.0, Lang::En), "Save 8.0 more hours per week");
        assert_eq!(
            hours(2.5, Lang::Fr),
            "Économisez encore 2,5 heures par semaine"
        );
    }
}
