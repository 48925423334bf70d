//! What one request may make the server parse and compute, checked before anything recurses over
//! it. The GraphQL parser recurses once per nesting level of a value (`[[[…]]]`) with no limit of
//! its own, so the document is first read by a flat lexical scan that counts tokens and nesting
//! and stops at the first limit crossed; only a document that passes is parsed. Variables arrive
//! as JSON (serde_json stops at 128 levels) and are measured by a loop, not by recursion.
//!
//! Every limit is named in its refusal, so a client knows which one it met (docs/api.md, "Limits").

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::parser::Positioned;
use async_graphql::{Value, Variables};

/// Most lexical tokens in one document (the playground's largest example has about 200).
pub const MAX_TOKENS: usize = 5_000;
/// Deepest nesting of `{`, `[` and `(` in a document, selection sets and values together.
pub const MAX_NESTING: usize = 40;
/// Deepest nesting of lists and objects in the variables.
pub const MAX_VARIABLE_DEPTH: usize = 16;
/// Most aliased fields in one document.
pub const MAX_ALIASES: usize = 50;
/// Most directives in one document.
pub const MAX_DIRECTIVES: usize = 50;
/// Largest reply, in bytes, over HTTP and per WebSocket message.
pub const MAX_REPLY_BYTES: usize = 4 << 20;
/// Longest excerpt of a client's document quoted back in an error message.
pub const MAX_QUOTED: usize = 160;

/// A request refused by a limit; the message names the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Counts tokens and nesting in one pass over the bytes, without building anything.
pub fn scan_document(text: &str) -> Result<(), Refusal> {
    let bytes = text.as_bytes();
    let (mut i, mut tokens, mut depth) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'"' => i = skip_string(bytes, i),
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Refusal(format!(
                        "the document nests deeper than {MAX_NESTING} levels of {{}}, [] and () (limit MAX_NESTING)"
                    )));
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'+' => {
                // A name or a number: one token up to the next character that cannot continue it.
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'_' | b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'+' | b'-')
                {
                    if bytes[i] == b'.' && bytes[i..].starts_with(b"...") {
                        break;
                    }
                    i += 1;
                }
            }
            // Punctuators and anything the parser will refuse: one token each.
            _ => i += utf8_len(b),
        }
        tokens += 1;
        if tokens > MAX_TOKENS {
            return Err(Refusal(format!(
                "the document has more than {MAX_TOKENS} tokens (limit MAX_TOKENS)"
            )));
        }
    }
    Ok(())
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// The index after the string (plain or block) starting at `start`; the end of the text when it
/// is unterminated (the parser reports that).
fn skip_string(bytes: &[u8], start: usize) -> usize {
    if bytes[start..].starts_with(b"\"\"\"") {
        let mut i = start + 3;
        while i < bytes.len() {
            if bytes[i..].starts_with(b"\\\"\"\"") {
                i += 4;
            } else if bytes[i..].starts_with(b"\"\"\"") {
                return i + 3;
            } else {
                i += 1;
            }
        }
        return bytes.len();
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' | b'\r' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Measures the variables' nesting with an explicit stack.
pub fn check_variables(variables: &Variables) -> Result<(), Refusal> {
    let mut stack: Vec<(&Value, usize)> = variables.values().map(|v| (v, 1)).collect();
    while let Some((value, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::List(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth >= MAX_VARIABLE_DEPTH {
            return Err(Refusal(format!(
                "the variables nest deeper than {MAX_VARIABLE_DEPTH} levels of lists and objects (limit MAX_VARIABLE_DEPTH)"
            )));
        }
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    Ok(())
}

/// Aliases and directives of a parsed document (its nesting is already bounded by the scan).
pub fn check_document(doc: &ExecutableDocument) -> Result<(), Refusal> {
    let mut counts = Counts::default();
    for (_, op) in doc.operations.iter() {
        counts.directives += op.node.directives.len();
        counts.selection_set(&op.node.selection_set);
    }
    for fragment in doc.fragments.values() {
        counts.directives += fragment.node.directives.len();
        counts.selection_set(&fragment.node.selection_set);
    }
    if counts.aliases > MAX_ALIASES {
        return Err(Refusal(format!(
            "the document has {} aliases; the limit is {MAX_ALIASES} (MAX_ALIASES)",
            counts.aliases
        )));
    }
    if counts.directives > MAX_DIRECTIVES {
        return Err(Refusal(format!(
            "the document has {} directives; the limit is {MAX_DIRECTIVES} (MAX_DIRECTIVES)",
            counts.directives
        )));
    }
    Ok(())
}

#[derive(Default)]
struct Counts {
    aliases: usize,
    directives: usize,
}

impl Counts {
    fn selection_set(&mut self, set: &Positioned<SelectionSet>) {
        for item in &set.node.items {
            match &item.node {
                Selection::Field(f) => {
                    self.aliases += usize::from(f.node.alias.is_some());
                    self.directives += f.node.directives.len();
                    self.selection_set(&f.node.selection_set);
                }
                Selection::FragmentSpread(s) => self.directives += s.node.directives.len(),
                Selection::InlineFragment(f) => {
                    self.directives += f.node.directives.len();
                    self.selection_set(&f.node.selection_set);
                }
            }
        }
    }
}

/// A message cut to [`MAX_QUOTED`] characters past its first line, so that an error never echoes
/// a client's whole document back.
pub fn shorten(message: &str) -> Option<String> {
    let head = message.lines().next().unwrap_or("").len();
    let keep = head.max(MAX_QUOTED).min(message.len());
    if message.len() <= keep + MAX_QUOTED {
        return None;
    }
    let mut end = keep + MAX_QUOTED;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!("{}…", &message[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn nesting_is_refused_before_parsing() {
        let deep = format!(
            "{{ dashboards(analysisIds: {}{}) {{ id }} }}",
            "[".repeat(1550),
            "]".repeat(1550)
        );
        let e = scan_document(&deep).unwrap_err();
        assert!(e.0.contains("MAX_NESTING"), "{e}");
        let ok = format!(
            "{{ dashboards(analysisIds: {}{}) {{ id }} }}",
            "[".repeat(30),
            "]".repeat(30)
        );
        scan_document(&ok).unwrap();
        // Brackets inside strings and comments do not count.
        let quoted = format!(
            "{{ a(s: \"{}\") # {}\n }}",
            "[".repeat(500),
            "{".repeat(500)
        );
        scan_document(&quoted).unwrap();
        let block = format!(
            "{{ a(s: \"\"\"{}\\\"\"\"{}\"\"\") }}",
            "[".repeat(500),
            "(".repeat(500)
        );
        scan_document(&block).unwrap();
    }

    #[test]
    fn tokens_are_counted() {
        let many = format!("{{ {} }}", "__typename ".repeat(MAX_TOKENS));
        assert!(scan_document(&many).unwrap_err().0.contains("MAX_TOKENS"));
        let spread = format!("{{ {} }}", "...F ".repeat(MAX_TOKENS / 2 - 2));
        scan_document(&spread).unwrap();
        scan_document("{ a(f: -1.5e+3, g: \"é\") @include(if: true) }").unwrap();
    }

    #[test]
    fn variables_depth_is_measured_without_recursion() {
        let mut deep = serde_json::json!(1);
        for _ in 0..100 {
            deep = serde_json::json!([deep]);
        }
        let vars = Variables::from_json(serde_json::json!({ "x": deep }));
        assert!(check_variables(&vars)
            .unwrap_err()
            .0
            .contains("MAX_VARIABLE_DEPTH"));
        let ok =
            Variables::from_json(serde_json::json!({"input": {"opportunities": [{"a": [1]}]}}));
        check_variables(&ok).unwrap();
    }

    #[test]
    fn aliases_and_directives_are_counted() {
        let aliases: String = (0..=MAX_ALIASES)
            .map(|i| format!("a{i}: __typename "))
            .collect();
        let doc = parse_query(format!("{{ {aliases} }}")).unwrap();
        assert!(check_document(&doc).unwrap_err().0.contains("MAX_ALIASES"));
        let directives = "@include(if: true) ".repeat(MAX_DIRECTIVES + 1);
        let doc = parse_query(format!("{{ __typename {directives} }}")).unwrap();
        assert!(check_document(&doc)
            .unwrap_err()
            .0
            .contains("MAX_DIRECTIVES"));
        let doc =
            parse_query("query Q { ...F } fragment F on Query { x: __typename @skip(if: false) }")
                .unwrap();
        check_document(&doc).unwrap();
    }

    #[test]
    fn long_messages_are_cut() {
        assert_eq!(shorten("short"), None);
        let long = format!(
            " --> 1:3\n  |\n1 | {}\n  = expected name",
            "x".repeat(30_000)
        );
        let cut = shorten(&long).unwrap();
        assert!(cut.len() < 2 * MAX_QUOTED + 10, "{}", cut.len());
        assert!(cut.starts_with(" --> 1:3"));
    }
}
