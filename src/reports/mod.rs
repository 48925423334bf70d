//! Reports: the weekly and monthly emails and the downloadable PDF/HTML document, fed by the same
//! content and wording.

pub mod change;
pub mod content;
pub mod mailer;
pub mod numbers;
pub mod render;
pub mod token;

use std::time::Duration;

use lettre::message::Mailbox;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::domain::ids::{AnalysisId, SubscriptionId};
use crate::domain::reports::{DocumentFormat, Section};
use crate::error::BoxError;
use chrono::{DateTime, Utc};
use mailer::Mailer;
use token::{DocumentGrant, Purpose};

pub struct Reports {
    pub mailer: Mailer,
    pub from: Mailbox,
    public_url: String,
    dashboard_url: String,
    secret: Vec<u8>,
    /// `REPORT_TOKEN_SECRET_PREVIOUS`: links signed with it still verify during a rotation.
    previous: Option<Vec<u8>>,
    /// First retry waits this long, then twice as long.
    pub retry_base: Duration,
    /// `REPORT_LINK_TTL_SECONDS`: the least a document link lives.
    link_ttl: Duration,
}

/// Which route a document link opens: the server's own, or the specification's under `/api/v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentRoute {
    Reports,
    Api,
}

/// A signed document link, and until when it may be handed out again as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentLink {
    pub url: String,
    pub fresh_until: DateTime<Utc>,
}

/// Why a document link opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    /// Not signed by this deployment's secret for this document: altered, or for another one.
    Altered,
    /// Genuine, but past its expiry.
    Expired,
}

/// Sections as they are signed: document order, comma-separated.
fn canonical(sections: &[Section]) -> String {
    let mut sorted = sections.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl Reports {
    pub fn new(config: &Config) -> Result<Self, BoxError> {
        let secret = match &config.reports.token_secret {
            Some(s) => s.expose_secret().as_bytes().to_vec(),
            // Links must survive restarts and work on every instance once mail really goes out.
            None if config.reports.smtp_url.is_some() => {
                return Err("REPORT_TOKEN_SECRET is required when SMTP_URL is set: unsubscribe links must work after a restart and on every instance".into());
            }
            None => {
                tracing::warn!("REPORT_TOKEN_SECRET is unset: unsubscribe links stop working when this process restarts");
                uuid::Uuid::new_v4().as_bytes().to_vec()
            }
        };
        Ok(Self {
            mailer: Mailer::new(
                config.reports.smtp_url.as_ref().map(|u| u.expose_secret()),
                &config.reports.outbox_dir,
            )?,
            from: config.reports.smtp_from.parse()?,
            public_url: config.server.public_url.trim_end_matches('/').to_owned(),
            dashboard_url: config.reports.dashboard_url.clone(),
            secret,
            previous: config
                .reports
                .token_secret_previous
                .as_ref()
                .map(|s| s.expose_secret().as_bytes().to_vec()),
            retry_base: config.reports.retry_base,
            link_ttl: config.reports.link_ttl,
        })
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn unsubscribe_url(&self, subscription_id: SubscriptionId) -> String {
        format!(
            "{}/unsubscribe/{}",
            self.public_url,
            token::sign(&self.secret, Purpose::Unsubscribe, subscription_id.get())
        )
    }

    pub fn dashboard_url(&self, analysis_id: AnalysisId) -> String {
        self.dashboard_url
            .replace("{publicUrl}", &self.public_url)
            .replace("{analysisId}", &analysis_id.to_string())
    }

    /// A link to an analysis' downloadable report that opens it without a token: signed over
    /// the analysis, format, sections and an expiry. Links are made per window of at most five
    /// minutes (the same link all through it, so answers and browsers can keep it), and each
    /// expires a whole `REPORT_LINK_TTL_SECONDS` after its window ends.
    pub fn document_link(
        &self,
        route: DocumentRoute,
        analysis_id: AnalysisId,
        format: DocumentFormat,
        sections: &[Section],
        now: DateTime<Utc>,
    ) -> DocumentLink {
        let window = self.link_window();
        let start = now.timestamp().div_euclid(window) * window;
        let expires = start + window + self.link_ttl.as_secs() as i64;
        let sections = canonical(sections);
        let signature = token::sign_document(
            &self.secret,
            &DocumentGrant {
                analysis_id: analysis_id.get(),
                format: format.as_str(),
                sections: &sections,
                expires,
            },
        );
        let path = match route {
            DocumentRoute::Reports => format!("/reports/{analysis_id}"),
            DocumentRoute::Api => format!("/api/v1/dashboard/{analysis_id}/report/generate"),
        };
        let mut url = format!("{}{path}?format={}", self.public_url, format.as_str());
        if sections != canonical(&Section::ALL) {
            url.push_str(&format!("&sections={sections}"));
        }
        url.push_str(&format!("&expires={expires}&signature={signature}"));
        DocumentLink {
            url,
            fresh_until: DateTime::from_timestamp(start + window, 0).unwrap_or(now),
        }
    }

    /// Whether a link's `expires` and `signature` grant this document now (the current secret or
    /// the previous one).
    pub fn check_document_link(
        &self,
        analysis_id: AnalysisId,
        format: DocumentFormat,
        sections: &[Section],
        expires: &str,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LinkRefusal> {
        let expires: i64 = expires.trim().parse().map_err(|_| LinkRefusal::Altered)?;
        let sections = canonical(sections);
        let grant = DocumentGrant {
            analysis_id: analysis_id.get(),
            format: format.as_str(),
            sections: &sections,
            expires,
        };
        let genuine = token::verify_document(&self.secret, &grant, signature)
            || self
                .previous
                .as_deref()
                .is_some_and(|previous| token::verify_document(previous, &grant, signature));
        if !genuine {
            return Err(LinkRefusal::Altered);
        }
        if now.timestamp() >= expires {
            return Err(LinkRefusal::Expired);
        }
        Ok(())
    }

    /// Seconds of one link window: five minutes, or the whole lifetime when that is shorter.
    fn link_window(&self) -> i64 {
        (self.link_ttl.as_secs() as i64).clamp(1, 300)
    }

    /// The link that confirms a pending subscription.
    pub fn confirm_url(&self, subscription_id: SubscriptionId) -> String {
        format!(
            "{}/confirm/{}",
            self.public_url,
            token::sign(&self.secret, Purpose::Confirm, subscription_id.get())
        )
    }

    /// The subscription an unsubscribe token names, if the token is genuine.
    pub fn verify(&self, token: &str) -> Option<SubscriptionId> {
        self.verify_for(Purpose::Unsubscribe, token)
    }

    /// The subscription a confirmation token names, if the token is genuine.
    pub fn verify_confirmation(&self, token: &str) -> Option<SubscriptionId> {
        self.verify_for(Purpose::Confirm, token)
    }

    fn verify_for(&self, purpose: Purpose, token: &str) -> Option<SubscriptionId> {
        token::verify(&self.secret, purpose, token)
            .or_else(|| token::verify(self.previous.as_deref()?, purpose, token))
            .map(SubscriptionId::from)
    }
}

/// Text put into HTML as text (pages and emails written by hand, outside the templates).
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reports(
        secret: Option<&str>,
        previous: Option<&str>,
        smtp: bool,
    ) -> Result<Reports, BoxError> {
        let mut config = Config::for_database("postgres://unused");
        config.reports.token_secret = secret.map(Into::into);
        config.reports.token_secret_previous = previous.map(Into::into);
        config.reports.smtp_url = smtp.then(|| "smtp://127.0.0.1:2525".into());
        Reports::new(&config)
    }

    #[test]
    fn links_survive_a_secret_rotation() {
        let id = SubscriptionId::random();
        let link = reports(Some("old"), None, false)
            .unwrap()
            .unsubscribe_url(id);
        let token = link.rsplit('/').next().unwrap();
        let rotated = reports(Some("new"), Some("old"), false).unwrap();
        assert_eq!(rotated.verify(token), Some(id));
        let forgotten = reports(Some("new"), None, false).unwrap();
        assert_eq!(forgotten.verify(token), None);
    }

    #[test]
    fn document_links_are_signed_per_window_and_expire() {
        let at = |s: i64| DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let r = reports(Some("old"), None, false).unwrap();
        let id = AnalysisId::random();
        let sections = [Section::Badges, Section::Summary];
        let link = r.document_link(
            DocumentRoute::Reports,
            id,
            DocumentFormat::Pdf,
            &sections,
            at(10),
        );
        // the same link all through its window, a new one after
        let again = r.document_link(
            DocumentRoute::Reports,
            id,
            DocumentFormat::Pdf,
            &sections,
            at(250),
        );
        assert_eq!(link, again);
        assert!(link.url.contains("sections=summary,badges"), "{}", link.url);
        assert_eq!(link.fresh_until, at(300));
        let query: std::collections::HashMap<&str, &str> = link
            .url
            .split_once('?')
            .unwrap()
            .1
            .split('&')
            .map(|p| p.split_once('=').unwrap())
            .collect();
        let check = |r: &Reports, id, sections: &[Section], now| {
            r.check_document_link(
                id,
                DocumentFormat::Pdf,
                sections,
                query["expires"],
                query["signature"],
                now,
            )
        };
        // alive for the whole lifetime after its window, in any order of sections
        assert_eq!(
            check(&r, id, &[Section::Summary, Section::Badges], at(300 + 899)),
            Ok(())
        );
        assert_eq!(
            check(&r, id, &sections, at(300 + 900)),
            Err(LinkRefusal::Expired)
        );
        assert_eq!(
            check(&r, AnalysisId::random(), &sections, at(20)),
            Err(LinkRefusal::Altered)
        );
        assert_eq!(
            check(&r, id, &Section::ALL, at(20)),
            Err(LinkRefusal::Altered)
        );
        // a rotation keeps it; forgetting the old secret ends it
        let rotated = reports(Some("new"), Some("old"), false).unwrap();
        assert_eq!(check(&rotated, id, &sections, at(20)), Ok(()));
        let forgotten = reports(Some("new"), None, false).unwrap();
        assert_eq!(
            check(&forgotten, id, &sections, at(20)),
            Err(LinkRefusal::Altered)
        );
        // every section is the default: no sections parameter at all
        let all = r.document_link(
            DocumentRoute::Api,
            id,
            DocumentFormat::Html,
            &Section::ALL,
            at(0),
        );
        assert!(!all.url.contains("sections="), "{}", all.url);
        assert!(all.url.contains(&format!(
            "/api/v1/dashboard/{id}/report/generate?format=html"
        )));
    }

    #[tokio::test]
    async fn smtp_needs_a_stable_secret() {
        let e = reports(None, None, true).err().expect("refused");
        assert!(e.to_string().contains("REPORT_TOKEN_SECRET"), "{e}");
        assert!(reports(Some("s"), None, true).is_ok());
    }
}
