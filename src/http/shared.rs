//! Shared live operations: the subscriptions that many connections make with the same request
//! (document, operation name and variables) run once per instance, and every member gets the
//! same bytes. A toast for an analysis watched by 10,000 sockets is then resolved and serialized
//! once, not 10,000 times, and a member holds a channel receiver instead of a whole execution
//! (its parsed document, variables and futures: about 10 KiB each).
//!
//! Only the subscriptions whose resolvers say what they follow when probed (`graphql::topic`:
//! `kpiUpdated`, and `badgeAwarded` without `since`, whose replay is the subscriber's own), alone
//! in their operation, are shared. What depends on the caller stays per member: whether it
//! may read the analysis is checked when it joins (a caller who may not takes the unshared path,
//! which answers as before) and again on every event, against its connection's current caller.
//! The shared run itself reads as a caller who may read everything, and its errors are completed
//! per member (each with its own request id).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::{ErrorExtensions as _, Response};
use futures_util::stream::{AbortHandle, Abortable, BoxStream};
use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::error::AppError;
use crate::events::hub::CHANNEL_CAPACITY;
use crate::graphql::errors::is_request_error;
use crate::graphql::topic::Followed;
use crate::service::live::{Audience, Members};

/// What a shared run hands its members.
pub enum RunItem {
    /// A response, as the run made it (errors not completed yet), whether GraphQL refused the
    /// request, and when it holds no error, its JSON, which every member sends as it is.
    Next {
        response: Box<Response>,
        request_error: bool,
        json: Option<Box<str>>,
    },
    /// The run ended: members complete.
    End,
}

struct Group {
    key: String,
    tx: broadcast::Sender<Arc<RunItem>>,
    members: Arc<Members>,
    run: AbortHandle,
}

/// The shared runs of this instance, by request.
#[derive(Default)]
pub struct SharedRuns {
    groups: Mutex<HashMap<String, Arc<Group>>>,
}

/// A member's place in a shared run; leaving as the last member stops the run.
pub struct Membership {
    ops: Arc<SharedRuns>,
    group: Arc<Group>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        // under the registry's lock, so that no one joins a run as it stops
        let mut groups = self.ops.groups.lock().expect("shared ops lock");
        if self.group.members.leave() == 0 {
            self.group.run.abort();
            unregister(&mut groups, &self.group);
        }
    }
}

impl SharedRuns {
    /// Joins the run of `key`'s request (a [`Topic`]'s), started with `start` (given the
    /// audience its stream serves) when there is none.
    pub fn join(
        self: &Arc<Self>,
        key: String,
        start: impl FnOnce(Audience) -> BoxStream<'static, Response>,
    ) -> (broadcast::Receiver<Arc<RunItem>>, Membership) {
        let mut groups = self.groups.lock().expect("shared ops lock");
        let group = match groups.get(&key) {
            Some(group) => group.clone(),
            None => {
                let members = Arc::new(Members::default());
                let stream = start(Audience::shared(members.clone()));
                let (run, registration) = AbortHandle::new_pair();
                let group = Arc::new(Group {
                    key,
                    tx: broadcast::channel(CHANNEL_CAPACITY).0,
                    members,
                    run,
                });
                groups.insert(group.key.clone(), group.clone());
                crate::series::shared_runs(groups.len());
                let drive = drive(self.clone(), group.clone(), stream);
                tokio::spawn(Abortable::new(drive, registration));
                group
            }
        };
        group.members.join();
        let rx = group.tx.subscribe();
        let membership = Membership {
            ops: self.clone(),
            group,
        };
        (rx, membership)
    }

    /// Runs going on.
    pub fn runs(&self) -> usize {
        self.groups.lock().expect("shared ops lock").len()
    }
}

/// Polls a run and hands each response to the members; at its end, later joiners start anew.
async fn drive(ops: Arc<SharedRuns>, group: Arc<Group>, mut stream: BoxStream<'static, Response>) {
    while let Some(response) = stream.next().await {
        // A response with errors is a run's last (a refused request, an unknown analysis): no
        // one may join after it, or a late joiner would see only the end and not why.
        if !response.errors.is_empty() {
            unregister(&mut ops.groups.lock().expect("shared ops lock"), &group);
        }
        let request_error = is_request_error(&response);
        let json = response
            .errors
            .is_empty()
            .then(|| serde_json::to_string(&response).unwrap_or_default().into());
        let _ = group.tx.send(Arc::new(RunItem::Next {
            response: Box::new(response),
            request_error,
            json,
        }));
    }
    unregister(&mut ops.groups.lock().expect("shared ops lock"), &group);
    let _ = group.tx.send(Arc::new(RunItem::End));
}

/// Takes a run out of the registry (if it is still the one there): later joiners start anew.
fn unregister(groups: &mut HashMap<String, Arc<Group>>, group: &Arc<Group>) {
    if groups
        .get(&group.key)
        .is_some_and(|g| Arc::ptr_eq(g, group))
    {
        groups.remove(&group.key);
        crate::series::shared_runs(groups.len());
    }
}

/// A member's own error on its field, as the unshared run would have put it (the caller may no
/// longer read the analysis, or the member fell behind).
pub fn field_error(field: &Followed, error: AppError) -> Response {
    let mut error = error.extend().into_server_error(field.pos);
    error.path = vec![async_graphql::PathSegment::Field(field.name.to_string())];
    Response::from_errors(vec![error])
}
