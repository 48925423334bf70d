//! Text from outside, checked before anything keeps it: what PostgreSQL can store (never U+0000)
//! and what makes sense for the kind of field. Every parse-only value that holds client text
//! (ids, names, addresses, sentences) goes through [`check`], so a refusal always names its field
//! and is `INVALID_INPUT`, never a database error.

use super::RuleError;

/// What a field holds, and so which characters it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line people read or a machine matches: an id, a name, an address, a token's subject.
    /// No control characters at all.
    Line,
    /// A sentence or a paragraph: tabs and line breaks allowed, other controls not.
    Prose,
}

/// Checks `value` for `field`: at most `max_chars` characters, and no character that `kind`
/// refuses. Everywhere: U+0000 (PostgreSQL's text cannot hold it), the other C0 and C1 controls
/// (Prose keeps tab, line feed and carriage return), noncharacters (U+FFFE, U+FFFF and the
/// like: never text by definition) and the bidirectional embeddings, overrides and isolates
/// (they make a string display unlike what it is). Combining marks and characters outside the
/// Basic Multilingual Plane are text like any other.
pub fn check(field: &str, value: &str, kind: Kind, max_chars: usize) -> Result<(), RuleError> {
    let mut count = 0usize;
    for (i, c) in value.chars().enumerate() {
        count += 1;
        if count > max_chars {
            return Err(RuleError::InvalidInput(format!(
                "{field} must be at most {max_chars} characters"
            )));
        }
        if let Some(what) = refused(c, kind) {
            return Err(RuleError::InvalidInput(format!(
                "{field} must not contain {what} (U+{:04X} at character {})",
                c as u32,
                i + 1
            )));
        }
    }
    Ok(())
}

/// Why `c` cannot be in a field of `kind`, if it cannot.
fn refused(c: char, kind: Kind) -> Option<&'static str> {
    match c {
        '\0' => Some("the NUL character"),
        '\t' | '\n' | '\r' if kind == Kind::Prose => None,
        c if c.is_control() => Some(match kind {
            Kind::Line => "control characters or line breaks",
            Kind::Prose => "control characters",
        }),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("bidirectional override or isolate characters")
        }
        c if is_noncharacter(c) => Some("noncharacters"),
        _ => None,
    }
}

/// U+FDD0..U+FDEF and the last two code points of every plane (U+FFFE, U+FFFF, U+1FFFE ...).
fn is_noncharacter(c: char) -> bool {
    let n = c as u32;
    (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(value: &str, kind: Kind) -> bool {
        check("f", value, kind, 10).is_ok()
    }

    #[test]
    fn nul_is_refused_everywhere_and_named() {
        let e = check("companyName", "a\0b", Kind::Prose, 10).unwrap_err();
        assert_eq!(
            e.to_string(),
            "companyName must not contain the NUL character (U+0000 at character 2)"
        );
        assert!(!ok("\0", Kind::Line));
    }

    #[test]
    fn controls_depend_on_the_kind() {
        for c in ['\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}'] {
            assert!(!ok(&c.to_string(), Kind::Line), "{c:?}");
            assert!(!ok(&c.to_string(), Kind::Prose), "{c:?}");
        }
        for c in ['\t', '\n', '\r'] {
            assert!(!ok(&c.to_string(), Kind::Line), "{c:?}");
            assert!(ok(&c.to_string(), Kind::Prose), "{c:?}");
        }
    }

    #[test]
    fn noncharacters_and_overrides_are_refused() {
        for c in [
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{FDD0}',
            '\u{1FFFF}',
            '\u{10FFFE}',
            '\u{202E}',
            '\u{2066}',
        ] {
            assert!(!ok(&c.to_string(), Kind::Prose), "{c:?}");
        }
    }

    #[test]
    fn real_text_passes_and_length_is_in_characters() {
        for s in ["Café", "e\u{301}", "😀🇨🇦", "שלום", "\u{200F}x", "中文"] {
            assert!(ok(s, Kind::Line), "{s:?}");
        }
        assert!(ok(&"😀".repeat(10), Kind::Line));
        let e = check("f", &"😀".repeat(11), Kind::Line, 10).unwrap_err();
        assert_eq!(e.to_string(), "f must be at most 10 characters");
    }
}
