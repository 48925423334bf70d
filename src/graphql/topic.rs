//! What a subscription follows, as the executor resolves it: before a subscription runs, the
//! request is executed once with a [`Probe`] in its data. The resolvers of the fields one run may
//! serve to many connections (`kpiUpdated`, `badgeAwarded` without `since`) say what they follow,
//! with their arguments coerced, and return at once; any other field says nothing. A request is
//! shared only when the executor resolved exactly one root field and that field said what it
//! follows: no field or argument name is matched as a string, and a resolver that does not know
//! the probe is never shared.

use std::sync::{Arc, Mutex};

use async_graphql::{Context, Name, Pos, Request};
use futures_util::{FutureExt as _, StreamExt as _};

use super::AppSchema;
use crate::domain::ids::AnalysisId;

/// The field a shared subscription follows: a member's own errors point there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    /// The analysis it follows.
    pub analysis: AnalysisId,
    pub pos: Pos,
    /// Its response key.
    pub name: Name,
}

/// A subscription that may be shared: its request, whole (members share a run only when
/// everything they sent is the same), and the field it follows.
#[derive(Debug)]
pub struct Topic {
    pub key: String,
    pub field: Followed,
}

/// The root fields a probed request resolved: each one's [`Followed`] when it may be shared.
#[derive(Default)]
pub struct Probe(Mutex<Vec<Option<Followed>>>);

impl Probe {
    /// The probe of this execution, if it is one: the resolver then reports and returns an empty
    /// stream.
    pub fn of<'a>(ctx: &'a Context<'_>) -> Option<&'a Probe> {
        ctx.data_opt::<Arc<Probe>>().map(|probe| &**probe)
    }

    /// The resolved field follows `analysis` and may be shared (`None`: it is the caller's own).
    pub fn report(&self, ctx: &Context<'_>, analysis: Option<AnalysisId>) {
        let followed = analysis.map(|analysis| Followed {
            analysis,
            pos: ctx.item.pos,
            name: ctx.item.node.response_key().node.clone(),
        });
        self.0.lock().expect("probe lock").push(followed);
    }

    fn into_followed(self) -> Option<Followed> {
        match self.0.into_inner().expect("probe lock").as_slice() {
            [Some(followed)] => Some(followed.clone()),
            _ => None,
        }
    }
}

/// The topic of a subscription request (its document already parsed), when one run may serve
/// it to every connection that sends it.
pub fn of(schema: &AppSchema, request: &mut Request) -> Option<Topic> {
    let document = request.parsed_query().ok()?.clone();
    let mut probed = Request::new(request.query.clone()).variables(request.variables.clone());
    probed.operation_name = request.operation_name.clone();
    probed.set_parsed_query(document);
    let probe = Arc::new(Probe::default());
    let probed = probed.data(probe.clone());
    // The probing resolvers do not wait on anything: a request whose execution would (a field
    // that does not know the probe, starting its real stream) is not shared.
    let drained = schema
        .execute_stream(probed)
        .for_each(|_| async {})
        .now_or_never();
    drained?;
    let probe = Arc::try_unwrap(probe).ok()?;
    Some(Topic {
        key: key(request),
        field: probe.into_followed()?,
    })
}

/// The request, whole, as shared runs are keyed by it.
fn key(request: &Request) -> String {
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    let operation = request.operation_name.as_deref().unwrap_or("");
    format!("{operation}\0{variables}\0{}", request.query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic_of(query: &str, vars: serde_json::Value) -> Option<Topic> {
        let mut request = Request::new(query).variables(async_graphql::Variables::from_json(vars));
        crate::graphql::parsed::admit(&mut request).ok()?;
        of(&crate::graphql::build_schema(None), &mut request)
    }

    #[test]
    fn only_a_lone_field_following_one_analysis_is_shared() {
        let id = uuid::Uuid::new_v4();
        let vars = serde_json::json!({"id": id});
        let kpi = "subscription($id: UUID!) { kpiUpdated(analysisId: $id) { at } }";
        let topic = topic_of(kpi, vars.clone()).expect("shared");
        assert_eq!(topic.field.analysis, AnalysisId::from(id));
        assert_eq!(topic.field.name.as_str(), "kpiUpdated");
        // the executor's reading: an alias, a directive that keeps the field
        let aliased = format!(
            "subscription {{ k: badgeAwarded(analysisId: \"{id}\") @include(if: true) {{ badge {{ badgeType }} }} }}"
        );
        assert_eq!(
            topic_of(&aliased, serde_json::json!({}))
                .unwrap()
                .field
                .name
                .as_str(),
            "k"
        );
        // no instant given: not a replay
        let unset = format!("subscription($s: DateTime) {{ badgeAwarded(analysisId: \"{id}\", since: $s) {{ at: analysisId }} }}");
        assert!(topic_of(&unset, serde_json::json!({})).is_some());
        let named = format!(
            "subscription A {{ platformKpis(period: MINUTE) {{ at }} }} subscription B {{ kpiUpdated(analysisId: \"{id}\") {{ at }} }}"
        );
        let mut request = Request::new(named).operation_name("B");
        crate::graphql::parsed::admit(&mut request).unwrap();
        let b = of(&crate::graphql::build_schema(None), &mut request).expect("B is shared");
        assert_eq!(b.field.analysis, AnalysisId::from(id));
        for unshared in [
            // a replay is the subscriber's own
            format!("subscription {{ badgeAwarded(analysisId: \"{id}\", since: \"2026-01-01T00:00:00Z\") {{ badge {{ badgeType }} }} }}"),
            "subscription { platformKpis(period: MINUTE) { at } }".to_owned(),
            format!("subscription {{ kpiUpdated(analysisId: \"{id}\") @skip(if: true) {{ at }} }}"),
            format!("subscription {{ a: kpiUpdated(analysisId: \"{id}\") {{ at }} b: kpiUpdated(analysisId: \"{id}\") {{ at }} }}"),
            "subscription { kpiUpdated(analysisId: \"not an id\") { at } }".to_owned(),
            format!("query {{ dashboard(analysisId: \"{id}\") {{ analysisId }} }}"),
        ] {
            assert!(topic_of(&unshared, serde_json::json!({})).is_none(), "{unshared}");
        }
        // the same document with other variables is another run
        let other = serde_json::json!({"id": uuid::Uuid::new_v4()});
        assert_ne!(
            topic_of(kpi, vars).unwrap().key,
            topic_of(kpi, other).unwrap().key
        );
    }
}
