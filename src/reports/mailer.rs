//! Sending: SMTP through lettre when `SMTP_URL` is set, otherwise `.eml` files in a folder.

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use tracing::Instrument;

use crate::error::BoxError;

/// Longest one send may take, connecting included (each SMTP command has 10 s).
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, std::path::PathBuf),
}

/// One email, ready to send.
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Also the one-click (RFC 8058) target.
    pub unsubscribe_url: String,
}

impl Mailer {
    pub fn new(smtp_url: Option<&str>, outbox_dir: &std::path::Path) -> Result<Self, BoxError> {
        Ok(match smtp_url {
            Some(url) => Mailer::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build(),
            ),
            // made at the first email, not at start: a service starts on a read-only file
            // system, and only writes where it was told it may (a send that cannot write fails
            // and is retried, saying where)
            None => Mailer::Files(AsyncFileTransport::new(outbox_dir), outbox_dir.to_owned()),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) => "smtp".into(),
            Mailer::Files(_, dir) => format!(".eml files in {}", dir.display()),
        }
    }

    pub async fn send(&self, from: &Mailbox, mail: &Outgoing) -> Result<(), BoxError> {
        let mut message = Message::builder()
            .from(from.clone())
            // an address alone, never "Name <address>" syntax: the stored address is the whole
            // recipient
            .to(Mailbox::new(None, mail.to.parse::<lettre::Address>()?))
            .subject(&mail.subject)
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))?;
        let headers = message.headers_mut();
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{}>", mail.unsubscribe_url),
        ));
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ));
        let span = tracing::debug_span!(
            "email",
            otel.name = "email send",
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
        );
        let sending = async {
            match self {
                Mailer::Smtp(t) => t.send(message).await.map(drop).map_err(BoxError::from),
                Mailer::Files(t, dir) => {
                    tokio::fs::create_dir_all(dir).await.map_err(|e| {
                        format!("REPORTS_OUTBOX_DIR {} cannot be made: {e}", dir.display())
                    })?;
                    t.send(message).await.map(drop).map_err(BoxError::from)
                }
            }
        };
        // lettre bounds each command, not the whole send: a connection that stalls between
        // them (seen under a bench with the server away and back) would hold the run forever
        let sent = match tokio::time::timeout(SEND_TIMEOUT, sending.instrument(span.clone())).await
        {
            Ok(sent) => sent,
            Err(_) => Err(format!(
                "the mail server did not take the message within {} s",
                SEND_TIMEOUT.as_secs()
            )
            .into()),
        };
        if sent.is_err() {
            crate::traces::failed(&span);
        }
        sent
    }
}
