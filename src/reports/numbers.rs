//! Numbers as a reader of each language writes them.

pub use crate::domain::messages::hours;
use crate::domain::reports::Lang;

/// 13000 → "13 000" (fr, narrow no-break space) or "13,000" (en).
pub fn amount(value: i64, lang: Lang) -> String {
    let digits = value.unsigned_abs().to_string();
    let sep = match lang {
        Lang::Fr => "\u{202f}",
        Lang::En => ",",
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(c);
    }
    if value < 0 {
        format!("-{out}")
    } else {
        out
    }
}
