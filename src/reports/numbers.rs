//! Numbers as a reader of each language writes them.

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

/// 8.0 → "8", 2.5 → "2,5" (fr) or "2.5" (en); never "-0".
pub fn hours(value: f64, lang: Lang) -> String {
    let rounded = crate::domain::metrics::hundredths(value);
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
