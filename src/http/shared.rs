//! Shared live operations: the subscriptions that many connections make with the same request
//! (document, operation name and variables) run once per instance, and every member gets the
//! same bytes. A toast for an analysis watched by 10,000 sockets is then resolved and serialized
//! once, not 10,000 times, and a member holds a channel receiver instead of a whole execution
//! (its parsed document, variables and futures: about 10 KiB each).
//!
//! Only the subscriptions `graphql::subscription::SHAREABLE` names (`kpiUpdated`, and
//! `badgeAwarded` without `since`, whose replay is the subscriber's own), alone in their
//! operation, are shared. What depends on the caller stays per member: whether it
//! may read the analysis is checked when it joins (a caller who may not takes the unshared path,
//! which answers as before) and again on every event, against its connection's current caller.
//! The shared run itself reads as a caller who may read everything, and its errors are completed
//! per member (each with its own request id).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{OperationType, Selection};
use async_graphql::{ErrorExtensions as _, Name, Pos, Request, Response, Value};
use futures_util::stream::{AbortHandle, Abortable, BoxStream};
use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::domain::ids::AnalysisId;
use crate::error::AppError;
use crate::events::hub::CHANNEL_CAPACITY;
use crate::graphql::errors::is_request_error;
use crate::graphql::subscription::SHAREABLE;
use crate::service::live::{Audience, Members};

/// A subscription that may be shared, as its request names it.
pub struct Topic {
    /// The request, whole: members share a run only when everything they sent is the same.
    key: String,
    pub field: Followed,
}

/// The field a shared subscription follows: a member's own errors point there.
pub struct Followed {
    /// The analysis it follows.
    pub analysis: AnalysisId,
    pub pos: Pos,
    /// Its response key.
    pub name: Name,
}

impl Topic {
    /// The request it was read from, whole, and the field.
    pub fn into_parts(self) -> (String, Followed) {
        (self.key, self.field)
    }
}

/// Whether a request is a subscription that may be shared (its document already parsed).
pub fn shareable(request: &mut Request) -> Option<Topic> {
    let wanted = request.operation_name.clone();
    let (shareable, arguments, pos, name) = {
        let doc = request.parsed_query().ok()?;
        let (_, operation) = doc
            .operations
            .iter()
            .find(|(name, _)| wanted.is_none() || name.map(|n| n.as_str()) == wanted.as_deref())?;
        let operation = &operation.node;
        if operation.ty != OperationType::Subscription || !operation.directives.is_empty() {
            return None;
        }
        let [selection] = operation.selection_set.node.items.as_slice() else {
            return None;
        };
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let f = &field.node;
        let shareable = SHAREABLE.iter().find(|s| s.field == f.name.node.as_str())?;
        if !f.directives.is_empty() {
            return None;
        }
        (
            shareable,
            f.arguments.clone(),
            field.pos,
            f.response_key().node.clone(),
        )
    };
    let mut analysis: Option<uuid::Uuid> = None;
    for (argument, value) in arguments {
        let value = value
            .node
            .into_const_with(|v| request.variables.get(&v).cloned().ok_or(()));
        let argument = argument.node.as_str();
        match value {
            Ok(Value::String(id)) if argument == shareable.analysis_argument => {
                analysis = id.parse().ok()
            }
            Ok(Value::Null) if Some(argument) == shareable.own_when_given => {}
            _ => return None,
        }
    }
    Some(Topic {
        key: key(request),
        field: Followed {
            analysis: AnalysisId::from(analysis?),
            pos,
            name,
        },
    })
}

/// The request, whole, as the registry keys runs by it.
fn key(request: &Request) -> String {
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    let operation = request.operation_name.as_deref().unwrap_or("");
    format!("{operation}\0{variables}\0{}", request.query)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, vars: serde_json::Value) -> Request {
        let mut r = Request::new(query).variables(async_graphql::Variables::from_json(vars));
        crate::graphql::parsed::admit(&mut r).ok().unwrap();
        r
    }

    #[test]
    fn only_single_field_followers_of_one_analysis_are_shared() {
        let id = uuid::Uuid::new_v4();
        let vars = serde_json::json!({"id": id});
        let kpi = "subscription($id: UUID!) { kpiUpdated(analysisId: $id) { at } }";
        let topic = shareable(&mut request(kpi, vars.clone())).expect("shared");
        assert_eq!(topic.field.analysis, AnalysisId::from(id));
        assert_eq!(topic.field.name.as_str(), "kpiUpdated");
        let aliased = format!(
            "subscription {{ k: badgeAwarded(analysisId: \"{id}\") {{ badge {{ badgeType }} }} }}"
        );
        assert_eq!(
            shareable(&mut request(&aliased, serde_json::json!({})))
                .unwrap()
                .field
                .name
                .as_str(),
            "k"
        );
        for unshared in [
            // a replay is the subscriber's own
            format!("subscription {{ badgeAwarded(analysisId: \"{id}\", since: \"2026-01-01T00:00:00Z\") {{ badge {{ badgeType }} }} }}"),
            "subscription { platformKpis(period: MINUTE) { at } }".to_owned(),
            format!("subscription {{ kpiUpdated(analysisId: \"{id}\") @skip(if: false) {{ at }} }}"),
            format!("subscription {{ ... on Subscription {{ kpiUpdated(analysisId: \"{id}\") {{ at }} }} }}"),
            "subscription { kpiUpdated(analysisId: \"not an id\") { at } }".to_owned(),
            format!("query {{ dashboard(analysisId: \"{id}\") {{ analysisId }} }}"),
        ] {
            assert!(shareable(&mut request(&unshared, serde_json::json!({}))).is_none(), "{unshared}");
        }
        // the same document with other variables is another run
        let other = serde_json::json!({"id": uuid::Uuid::new_v4()});
        assert_ne!(
            shareable(&mut request(kpi, vars)).unwrap().key,
            shareable(&mut request(kpi, other)).unwrap().key
        );
    }
}
