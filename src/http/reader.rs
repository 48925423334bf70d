//! The reader's language around each request: `Accept-Language`, read once, is where error
//! messages and pages built anywhere below find it (`error::READER`).

use std::cell::Cell;
use std::task::{Context, Poll};

use axum::http::Request;
use tokio::task::futures::TaskLocalFuture;
use tower::{Layer, Service};

use crate::domain::reports::Lang;

/// Runs every request inside its reader's language. A plain layer rather than
/// `middleware::from_fn`: no boxed future or cloned service per request on the hot path.
#[derive(Clone, Copy, Default)]
pub struct ReaderLayer;

impl<S> Layer<S> for ReaderLayer {
    type Service = InReaderLanguage<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InReaderLanguage(inner)
    }
}

#[derive(Clone)]
pub struct InReaderLanguage<S>(S);

impl<S, B> Service<Request<B>> for InReaderLanguage<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<Cell<Option<Lang>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let lang = super::negotiate::reader(request.headers());
        // the handler's work happens in the future, inside the scope
        crate::error::READER.scope(Cell::new(lang), self.0.call(request))
    }
}
