//! Domain values that can only be built by parsing, so an invalid one never reaches the database.

use super::text::{self, Kind};
use super::RuleError;

/// An hourly rate in the analysis' currency, 20..=500.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HourlyRate(f64);

impl HourlyRate {
    pub const MIN: f64 = 20.0;
    pub const MAX: f64 = 500.0;

    pub fn parse(value: f64) -> Result<Self, RuleError> {
        if value.is_finite() && (Self::MIN..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(RuleError::InvalidInput(format!(
                "hourlyRate must be between {} and {}, got {value}",
                Self::MIN,
                Self::MAX
            )))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// An opportunity's id within its analysis: non-empty, at most 100 characters, one line, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityKey(String);

impl OpportunityKey {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(value: &str) -> Result<Self, RuleError> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(RuleError::InvalidInput(
                "opportunityId must not be empty".into(),
            ));
        }
        text::check("opportunityId", trimmed, Kind::Line, Self::MAX_CHARS)?;
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A token's subject (`sub`): who made a change, whose sessions are revoked. One line, 1..255
/// characters, kept as it is (an issuer's subjects are compared exactly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(field: &str, value: &str) -> Result<Self, RuleError> {
        if value.is_empty() {
            return Err(RuleError::InvalidInput(format!(
                "{field} must not be empty"
            )));
        }
        text::check(field, value, Kind::Line, Self::MAX_CHARS)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short optional text from outside (a company name, a sentence): trimmed, `None` when empty,
/// checked for `kind` and at most `max_chars` characters.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    kind: Kind,
    max_chars: usize,
) -> Result<Option<String>, RuleError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    text::check(field, v, kind, max_chars)?;
    Ok(Some(v.to_owned()))
}

/// A company website as the de-duplication key: lower case, no scheme, no `www.`, no trailing
/// slash, so `https://www.Example.com/` and `example.com` are the same site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedUrl(String);

impl NormalizedUrl {
    pub const MAX_CHARS: usize = 2048;

    pub fn parse(url: &str) -> Result<Self, RuleError> {
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(RuleError::InvalidInput("url must not be empty".into()));
        }
        text::check("url", trimmed, Kind::Line, Self::MAX_CHARS)?;
        let mut s = trimmed.to_lowercase();
        // lower case can take more bytes than the original (the column holds 2048 characters)
        if s.chars().count() > Self::MAX_CHARS {
            return Err(RuleError::InvalidInput(format!(
                "url must be at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if s.chars().any(char::is_whitespace) {
            return Err(RuleError::InvalidInput(
                "url must not contain spaces".into(),
            ));
        }
        for scheme in ["https://", "http://"] {
            if let Some(rest) = s.strip_prefix(scheme) {
                s = rest.to_owned();
                break;
            }
        }
        if let Some(rest) = s.strip_prefix("www.") {
            s = rest.to_owned();
        }
        while s.ends_with('/') {
            s.pop();
        }
        let host = s.split(['/', '?', '#']).next().unwrap_or("");
        if !is_web_host(host) {
            let shown: String = url.chars().take(80).collect();
            return Err(RuleError::InvalidInput(format!(
                "url must be an http or https website address such as https://example.com, got {shown:?}"
            )));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `example.com` or `example.com:8080`: letters, digits, `-` and `.`, with a dot inside. Any
/// other scheme (`javascript:`, `ftp://`, `data:`) or a user part (`user@host`) fails here.
fn is_web_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port))
            if !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        Some(_) => return false,
        None => host,
    };
    name.contains('.')
        && !name.starts_with(['.', '-'])
        && !name.ends_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hourly_rate_bounds() {
        assert!(HourlyRate::parse(20.0).is_ok());
        assert!(HourlyRate::parse(500.0).is_ok());
        assert!(HourlyRate::parse(19.99).is_err());
        assert!(HourlyRate::parse(500.01).is_err());
        assert!(HourlyRate::parse(f64::NAN).is_err());
    }

    #[test]
    fn opportunity_key_rejects_empty() {
        assert!(OpportunityKey::parse("  ").is_err());
        assert_eq!(OpportunityKey::parse(" a ").unwrap().as_str(), "a");
        for hostile in ["\0", "a\u{0}b", "a\nb", "\u{202E}x", "\u{FFFF}"] {
            assert!(OpportunityKey::parse(hostile).is_err(), "{hostile:?}");
        }
        assert!(OpportunityKey::parse(&"é".repeat(100)).is_ok());
        assert!(OpportunityKey::parse(&"é".repeat(101)).is_err());
    }

    #[test]
    fn subjects_are_one_line() {
        assert!(Subject::parse("sub", "auth0|abc").is_ok());
        assert!(Subject::parse("sub", "").is_err());
        assert!(Subject::parse("sub", "a\0").is_err());
        assert!(Subject::parse("sub", &"x".repeat(256)).is_err());
    }

    #[test]
    fn urls_normalise_to_one_key() {
        let key = |u| NormalizedUrl::parse(u).unwrap().as_str().to_owned();
        assert_eq!(key("https://www.Example.com/"), "example.com");
        assert_eq!(key("http://example.com"), "example.com");
        assert_eq!(key("EXAMPLE.com//"), "example.com");
        assert_eq!(key("https://example.com/About/"), "example.com/about");
        assert!(NormalizedUrl::parse("").is_err());
        assert!(NormalizedUrl::parse("not a url").is_err());
        assert!(NormalizedUrl::parse("localhost").is_err());
        assert_eq!(
            key("https://example.com:8443/a?b=c"),
            "example.com:8443/a?b=c"
        );
        assert_eq!(key("https://bücher.de"), "bücher.de");
        for hostile in [
            "javascript:alert(document.cookie)",
            "ftp://example.com",
            "data:text/html,<script>x.y</script>",
            "https://user@evil.example.com",
            "file:///etc/passwd.txt",
            "http://example.com:99999999",
            "https://.example.com",
            "https://example.com/\u{0}",
            "https://example.com/a\u{85}b",
            "https://example.com/\u{202E}gpj.exe",
        ] {
            assert!(NormalizedUrl::parse(hostile).is_err(), "{hostile}");
        }
    }
}
