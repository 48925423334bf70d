//! Membership in shared runs: an operation joins the run of its request, and each of the run's
//! items is checked again for it, as an unshared run's would be.

use std::sync::Arc;

use async_graphql::{Data, Request, Response};
use futures_util::StreamExt;

use tokio::sync::watch;

use super::connection::{Connection, Item, Out, Step};
use crate::domain::access::Caller;
use crate::error::ErrorCode;
use crate::graphql::errors::complete;
use crate::graphql::loaders::loaders;
use crate::graphql::topic::{Followed, Topic};
use crate::graphql::RequestId;
use crate::http::shared::{self, RunItem};
use crate::series::OperationKind;

impl Connection {
    /// Makes this operation a member of the shared run of its request (started if there is
    /// none); on each of the run's items, the caller is checked again, as an unshared run does.
    pub(super) fn join(
        &mut self,
        id: String,
        mut request: Request,
        topic: Topic,
        caller: watch::Receiver<Caller>,
    ) -> Step {
        let Topic { key, field } = topic;
        // the run writes its words in one language: members asking for another share another run
        let language = self.language;
        let key = format!("{}\0{key}", language.0.map_or("", |l| l.as_str()));
        let (series, kind) = crate::graphql::observe::operation_of(&mut request);
        let span = crate::graphql::observe::operation_span(&series, kind, &self.connection_id);
        let app = self.app.clone();
        let run_span = crate::graphql::observe::operation_span(&series, kind, "shared");
        let (rx, membership) = self.app.shared.join(key, move |audience| {
            let mut session = Data::default();
            session.insert(Caller::Open);
            session.insert(language);
            let request = request
                .data(RequestId("shared".into()))
                .data(loaders(app.services.dashboards.clone()))
                .data(audience);
            let mut run = app
                .pipeline
                .schema
                .execute_stream_with_session_data(request, Arc::new(session));
            // the run has a span of its own, the parent of what it does (its reads)
            futures_util::stream::poll_fn(move |cx| {
                let _running = run_span.enter();
                run.poll_next_unpin(cx)
            })
            .boxed()
        });
        let id: Arc<str> = id.into();
        let member = Member {
            id: id.clone(),
            rx,
            _membership: membership,
            caller,
            field,
            operation: Some((series, kind)),
            _span: span,
            connection_id: self.connection_id.clone(),
            ended: false,
            finished: false,
        };
        self.follow(
            id,
            futures_util::stream::unfold(member, Member::next).boxed(),
        );
        Step::Send(Vec::new())
    }
}

/// A member of a shared run, as one of its connection's operations.
pub(super) struct Member {
    pub(super) id: Arc<str>,
    pub(super) rx: tokio::sync::broadcast::Receiver<Arc<RunItem>>,
    pub(super) _membership: shared::Membership,
    /// The connection's caller, as a ping may replace it.
    pub(super) caller: watch::Receiver<Caller>,
    pub(super) field: Followed,
    /// Counted at its first answer, as an unshared operation is.
    pub(super) operation: Option<(Arc<crate::series::Operation>, OperationKind)>,
    /// Its operation's span, for its whole life, as an unshared subscription has.
    pub(super) _span: tracing::Span,
    pub(super) connection_id: Arc<str>,
    /// Its own error went out: the completion follows.
    pub(super) ended: bool,
    pub(super) finished: bool,
}

impl Member {
    /// The next item: the run's, or this member's own error (it may no longer read the analysis,
    /// or it fell behind), after which it ends.
    pub(super) async fn next(mut self) -> Option<(Item, Self)> {
        if self.finished {
            return None;
        }
        if self.ended {
            self.finished = true;
            return Some(((self.id.clone(), None), self));
        }
        let out = match self.rx.recv().await {
            Ok(shared) => match &*shared {
                RunItem::End => None,
                RunItem::Next { response, .. } => match self.denied() {
                    Some(error) => Some(self.own(error)),
                    None => {
                        self.count(|| crate::graphql::observe::first_code(response));
                        Some(Out::Shared(shared))
                    }
                },
            },
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                crate::series::event_lagged();
                Some(self.own(crate::error::AppError::SubscriberLagged(n)))
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        };
        match out {
            Some(Out::Shared(_)) => {}
            Some(Out::Own(..)) => self.ended = true,
            None => self.finished = true,
        }
        Some(((self.id.clone(), out), self))
    }

    pub(super) fn denied(&self) -> Option<crate::error::AppError> {
        let analysis = self.field.analysis;
        let denied = self.caller.borrow().read(analysis).err()?;
        Some(crate::error::AppError::denied(denied, Some(analysis)))
    }

    pub(super) fn own(&mut self, error: crate::error::AppError) -> Out {
        let mut response = shared::field_error(&self.field, error);
        complete(&mut response, &self.connection_id);
        self.count(|| crate::graphql::observe::first_code(&response));
        Out::Own(Box::new(response), false)
    }

    pub(super) fn count(&mut self, code: impl FnOnce() -> Option<ErrorCode>) {
        if let Some((series, kind)) = self.operation.take() {
            series.record(kind, code(), None);
        }
    }
}

/// A response's content (a shared one is completed per member).
pub(super) fn copy(response: &Response) -> Response {
    let mut copy = Response::new(response.data.clone());
    copy.extensions = response.extensions.clone();
    copy.errors = response.errors.clone();
    copy
}

pub(super) fn set_code(response: &mut Response, code: ErrorCode) {
    for e in &mut response.errors {
        e.extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
    }
}
