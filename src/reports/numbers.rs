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

/// 45 → "45 %" (fr, no-break space) or "45%" (en).
pub fn percent(value: i32, lang: Lang) -> String {
    match lang {
        Lang::Fr => format!("{value}\u{a0}%"),
        Lang::En => format!("{value}%"),
    }
}

/// A sum of money as a reader of `lang` writes it: 13000 CAD → "13 000 $" (fr, Québec) or
/// "$13,000" (en, Canada); a currency without a symbol here keeps its code ("13 000 CHF").
pub fn money(value: i64, currency: &str, lang: Lang) -> String {
    let digits = amount(value.saturating_abs(), lang);
    let sign = if value < 0 { "-" } else { "" };
    let symbol = match (currency, lang) {
        ("CAD", _) => Some("$"),
        ("USD", Lang::Fr) => Some("$\u{a0}US"),
        ("USD", Lang::En) => Some("US$"),
        ("EUR", _) => Some("€"),
        ("GBP", _) => Some("£"),
        _ => None,
    };
    match (symbol, lang) {
        (Some(symbol), Lang::En) => format!("{sign}{symbol}{digits}"),
        (Some(symbol), Lang::Fr) => format!("{sign}{digits}\u{a0}{symbol}"),
        (None, _) => format!("{sign}{digits}\u{a0}{currency}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_as_its_reader_writes_it() {
        assert_eq!(money(13000, "CAD", Lang::Fr), "13\u{202f}000\u{a0}$");
        assert_eq!(money(13000, "CAD", Lang::En), "$13,000");
        assert_eq!(money(1500, "USD", Lang::Fr), "1\u{202f}500\u{a0}$\u{a0}US");
        assert_eq!(money(1500, "EUR", Lang::En), "€1,500");
        assert_eq!(money(-20, "CHF", Lang::En), "-20\u{a0}CHF");
        assert_eq!(
            money(i64::MIN, "CAD", Lang::En).len(),
            "-$9,223,372,036,854,775,807".len()
        );
    }
}
