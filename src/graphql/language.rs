//! The reader's language: the one the request asks for (`Accept-Language` over HTTP, the
//! `connection_init` payload's `language` over WebSocket), else the analysis' own.

use async_graphql::Context;

use crate::domain::analysis::Analysis;
use crate::domain::reports::Lang;

/// The language a request asks for, when it asks for one of ours (request data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestLanguage(pub Option<Lang>);

/// The language this request asks for, if it asks for one of ours.
pub fn asked(ctx: &Context<'_>) -> Option<Lang> {
    ctx.data_opt::<RequestLanguage>().and_then(|r| r.0)
}

/// The language sentences about `analysis` are written in for this request.
pub fn reader(ctx: &Context<'_>, analysis: &Analysis) -> Lang {
    asked(ctx).unwrap_or(analysis.language)
}

/// The language of a request about no analysis in particular (the catalog, say): the one it
/// asks for, else the default.
pub fn requested(ctx: &Context<'_>) -> Lang {
    asked(ctx).unwrap_or_default()
}
