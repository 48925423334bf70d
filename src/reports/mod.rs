//! Reports: the weekly and monthly emails and the downloadable PDF/HTML document, fed by the same
//! content and wording.

pub mod content;
pub mod mailer;
pub mod render;
pub mod token;

use std::time::Duration;

use lettre::message::Mailbox;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::domain::ids::{AnalysisId, SubscriptionId};
use crate::domain::reports::{DocumentFormat, Section};
use crate::error::BoxError;
use mailer::Mailer;
use token::Purpose;

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
}

impl Reports {
    pub fn new(config: &Config) -> Result<Self, BoxError> {
        let secret = match &config.report_token_secret {
            Some(s) => s.expose_secret().as_bytes().to_vec(),
            // Links must survive restarts and work on every instance once mail really goes out.
            None if config.smtp_url.is_some() => {
                return Err("REPORT_TOKEN_SECRET is required when SMTP_URL is set: unsubscribe links must work after a restart and on every instance".into());
            }
            None => {
                tracing::warn!("REPORT_TOKEN_SECRET is unset: unsubscribe links stop working when this process restarts");
                uuid::Uuid::new_v4().as_bytes().to_vec()
            }
        };
        Ok(Self {
            mailer: Mailer::new(
                config.smtp_url.as_ref().map(|u| u.expose_secret()),
                &config.reports_outbox_dir,
            )?,
            from: config.smtp_from.parse()?,
            public_url: config.public_url.trim_end_matches('/').to_owned(),
            dashboard_url: config.dashboard_url.clone(),
            secret,
            previous: config
                .report_token_secret_previous
                .as_ref()
                .map(|s| s.expose_secret().as_bytes().to_vec()),
            retry_base: config.report_retry_base,
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

    /// The link to an analysis' downloadable report; all sections when `sections` is `None`.
    pub fn document_url(
        &self,
        analysis_id: AnalysisId,
        format: DocumentFormat,
        sections: Option<&[Section]>,
    ) -> String {
        let mut url = format!(
            "{}/reports/{analysis_id}?format={}",
            self.public_url,
            format.as_str()
        );
        if let Some(sections) = sections {
            let names: Vec<&str> = sections.iter().map(|s| s.as_str()).collect();
            url.push_str(&format!("&sections={}", names.join(",")));
        }
        url
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

#[cfg(test)]
mod tests {
    use super::*;

    fn reports(
        secret: Option<&str>,
        previous: Option<&str>,
        smtp: bool,
    ) -> Result<Reports, BoxError> {
        let mut config = Config::for_database("postgres://unused");
        config.report_token_secret = secret.map(Into::into);
        config.report_token_secret_previous = previous.map(Into::into);
        config.smtp_url = smtp.then(|| "smtp://127.0.0.1:2525".into());
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

    #[tokio::test]
    async fn smtp_needs_a_stable_secret() {
        let e = reports(None, None, true).err().expect("refused");
        assert!(e.to_string().contains("REPORT_TOKEN_SECRET"), "{e}");
        assert!(reports(Some("s"), None, true).is_ok());
    }
}
