//! Double opt-in: a new (or re-activated) subscription is pending until its address confirms
//! from a signed link, and reports go only to confirmed addresses. Confirmation emails are
//! limited per address (three a day) and per caller, and say nothing the caller chose.

use std::num::NonZeroU32;

use chrono::{DateTime, Duration, Utc};

use crate::db::subscriptions;
use crate::domain::messages::{self, Message};
use crate::domain::reports::Subscription;
use crate::error::{AppError, AppResult};
use crate::reports::html_escape;
use crate::reports::mailer::Outgoing;
use crate::series;
use crate::service::limiter::{KeyedLimit, MAX_KEYS};
use crate::service::Services;

/// Confirmation emails one address may receive in a day.
pub const PER_ADDRESS_PER_DAY: usize = 3;
/// Confirmation emails one caller (token subject) may cause in an hour.
pub const PER_CALLER_PER_HOUR: u32 = 20;

/// The per-caller limit of one instance.
pub struct ConfirmationLimits(KeyedLimit<String>);

impl Default for ConfirmationLimits {
    fn default() -> Self {
        let per_hour = NonZeroU32::new(PER_CALLER_PER_HOUR).expect("above zero");
        Self(KeyedLimit::per_hour(per_hour, MAX_KEYS))
    }
}

/// Sends the confirmation email of a pending subscription, within the limits.
pub async fn send(
    services: &Services,
    sub: &Subscription,
    requested_by: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(caller) = requested_by {
        services
            .confirmation_limits
            .0
            .check(&caller.to_owned())
            .map_err(|retry_after_secs| {
                series::rate_limited("confirmation_caller");
                AppError::RateLimited { retry_after_secs }
            })?;
    }
    let mut conn = services.state.pool.get().await?;
    let day = Duration::days(1);
    let sent = subscriptions::confirmations_since(&mut conn, &sub.email, now - day).await?;
    if sent.len() >= PER_ADDRESS_PER_DAY {
        let retry = (sent[0] + day - now).num_seconds().max(1) as u64;
        series::rate_limited("confirmation_address");
        return Err(AppError::RateLimited {
            retry_after_secs: retry,
        });
    }
    let reports = &services.state.reports;
    let mail = compose(
        sub,
        reports.confirm_url(sub.id),
        reports.unsubscribe_url(sub.id),
    );
    let sent = reports.mailer.send(&reports.from, &mail).await;
    let outcome = if sent.is_ok() { "sent" } else { "failed" };
    series::email_send("confirmation", outcome);
    sent.map_err(AppError::Internal)?;
    subscriptions::record_confirmation(&mut conn, sub, now).await?;
    tracing::info!(subscription = %sub.id, "confirmation email sent");
    Ok(())
}

/// Confirms the subscription a signed confirmation token names.
pub async fn confirm(services: &Services, token: &str, now: DateTime<Utc>) -> AppResult<()> {
    let id = services
        .state
        .reports
        .verify_confirmation(token)
        .ok_or_else(|| {
            AppError::invalid_input("this confirmation link is invalid or was altered")
        })?;
    let mut conn = services.state.pool.get().await?;
    if !subscriptions::confirm(&mut conn, id, now).await? {
        return Err(AppError::invalid_input(
            "this confirmation link names no active subscription",
        ));
    }
    tracing::info!(subscription = %id, "report subscription confirmed");
    Ok(())
}

/// The email: our words only, in the subscription's language, with the link.
fn compose(sub: &Subscription, confirm_url: String, unsubscribe_url: String) -> Outgoing {
    let lang = sub.language;
    let text = Message::new("confirm-body")
        .text("frequency", sub.frequency.as_str())
        .text("url", confirm_url.clone())
        .render(lang)
        + "\n";
    let subject = messages::text(lang, "confirm-subject");
    let html = format!(
        "<!doctype html><html><body><p>{}</p></body></html>",
        html_escape(&text).replace("\n\n", "</p><p>").replace(
            &html_escape(&confirm_url),
            &format!("<a href=\"{0}\">{0}</a>", html_escape(&confirm_url))
        )
    );
    Outgoing {
        to: sub.email.clone(),
        subject,
        html,
        text,
        unsubscribe_url,
    }
}
