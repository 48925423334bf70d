//! Domain values that can only be built by parsing, so an invalid one never reaches the database.

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

/// An opportunity's id within its analysis: non-empty, at most 100 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpportunityKey(String);

impl OpportunityKey {
    pub fn parse(value: &str) -> Result<Self, RuleError> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(RuleError::InvalidInput(
                "opportunityId must not be empty".into(),
            ));
        }
        if trimmed.chars().count() > 100 {
            return Err(RuleError::InvalidInput(
                "opportunityId must be at most 100 characters".into(),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A company website as the de-duplication key: lower case, no scheme, no `www.`, no trailing
/// slash, so `https://www.Example.com/` and `example.com` are the same site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedUrl(String);

impl NormalizedUrl {
    pub fn parse(url: &str) -> Result<Self, RuleError> {
        let mut s = url.trim().to_lowercase();
        if s.is_empty() {
            return Err(RuleError::InvalidInput("url must not be empty".into()));
        }
        if s.len() > 2048 {
            return Err(RuleError::InvalidInput(
                "url must be at most 2048 characters".into(),
            ));
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
        ] {
            assert!(NormalizedUrl::parse(hostile).is_err(), "{hostile}");
        }
    }
}
