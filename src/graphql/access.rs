//! The access rules at the resolvers: every request carries its [`Caller`] (HTTP from the
//! `Authorization` header, WebSocket from `connection_init`); one without is anonymous.

use async_graphql::{Context, ErrorExtensions, Result};
use futures_util::{Stream, StreamExt};
use tokio::sync::watch;

use super::reads::{self, Check};
use crate::domain::access::Caller;
use crate::domain::ids::AnalysisId;
use crate::error::AppError;

static ANONYMOUS: Caller = Caller::Anonymous;

/// The request's caller.
pub fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    ctx.data_opt::<Caller>().unwrap_or(&ANONYMOUS)
}

/// May read and watch the analysis; a hidden one is `ANALYSIS_NOT_FOUND`.
pub fn read(ctx: &Context<'_>, analysis: AnalysisId) -> Result<()> {
    let decided = caller(ctx).read(analysis);
    reads::check(ctx, Check::Read(analysis), decided.is_ok());
    decided.map_err(|d| AppError::denied(d, Some(analysis)).extend())
}

/// Whether the caller may see the analysis (lists skip the others).
pub fn sees(ctx: &Context<'_>, analysis: AnalysisId) -> bool {
    let seen = caller(ctx).sees(analysis);
    reads::check(ctx, Check::Read(analysis), seen);
    seen
}

/// May change the analysis (owner and up).
pub fn write(ctx: &Context<'_>, analysis: AnalysisId) -> Result<()> {
    caller(ctx)
        .write(analysis)
        .map_err(|d| AppError::denied(d, Some(analysis)).extend())
}

/// An admin's operation.
pub fn admin(ctx: &Context<'_>) -> Result<()> {
    let decided = caller(ctx).admin();
    reads::check(ctx, Check::Admin, decided.is_ok());
    decided.map_err(|d| AppError::denied(d, None).extend())
}

/// Any known caller (a token of any role, or open mode).
pub fn known(ctx: &Context<'_>) -> Result<()> {
    let caller = caller(ctx);
    reads::check(ctx, Check::Known, Check::Known.allows(caller));
    match caller {
        Caller::Anonymous => {
            Err(AppError::denied(crate::domain::access::Denied::Unauthenticated, None).extend())
        }
        _ => Ok(()),
    }
}

/// A WebSocket connection's caller as it is now (a re-authenticating ping replaces it): live
/// operations recheck it on every event.
#[derive(Clone)]
pub struct LiveCaller(pub watch::Receiver<Caller>);

/// `events` for as long as the connection's caller may still read `analysis`: the first event
/// after that is an error (as the access rules word it), and the end.
pub fn while_readable<T: Send + 'static>(
    ctx: &Context<'_>,
    analysis: AnalysisId,
    events: impl Stream<Item = Result<T>> + Send + 'static,
) -> impl Stream<Item = Result<T>> + Send + 'static {
    let live = ctx.data_opt::<LiveCaller>().cloned();
    events
        .map(move |event| match &live {
            Some(LiveCaller(caller)) => match caller.borrow().read(analysis) {
                Ok(()) => event,
                Err(d) => Err(AppError::denied(d, Some(analysis)).extend()),
            },
            None => event,
        })
        .scan(false, |ended, event| {
            let item = (!*ended).then(|| {
                *ended = event.is_err();
                event
            });
            std::future::ready(item)
        })
}
