//! The caller of a connection through its life: `connection_init`, a re-authenticating ping,
//! revocation, expiry.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::Data;

use tokio::sync::watch;

use super::connection::{Connection, Step};
use super::messages::{invalid, text, ServerMessage};
use super::MAX_INIT_PAYLOAD;
use crate::domain::access::Caller;
use crate::domain::reports::Lang;
use crate::events::Event;
use crate::graphql::access::LiveCaller;
use crate::graphql::language::RequestLanguage;

impl Connection {
    pub(super) async fn init(&mut self, payload: Option<serde_json::Value>) -> Step {
        if self.init_seen {
            return Step::Close(4429, "Too many initialisation requests".into());
        }
        self.init_seen = true;
        let payload = payload.unwrap_or(serde_json::Value::Null);
        if !(payload.is_object() || payload.is_null()) {
            return Step::Close(
                4400,
                invalid("the connection_init payload must be an object"),
            );
        }
        // Refused at init: the connection may not keep this much.
        if payload.to_string().len() > MAX_INIT_PAYLOAD {
            return Step::Close(
                4403,
                format!("Forbidden: connection_init payload over {MAX_INIT_PAYLOAD} bytes"),
            );
        }
        // The caller, from Apollo's `connectionParams` convention: {"authorization": "Bearer …"}.
        let authorization = payload.get("authorization").and_then(|a| a.as_str());
        let caller =
            match self.app.services.auth.caller(authorization).await {
                Ok(Caller::Anonymous) => return Step::Close(
                    4403,
                    "Forbidden: send {\"authorization\": \"Bearer <token>\"} in connection_init"
                        .into(),
                ),
                Ok(caller) => caller,
                Err(e) => return Step::Close(4403, format!("Forbidden: {e}")),
            };
        // the reader's language, as Accept-Language would say it; one not ours is none
        let language = payload.get("language").and_then(|l| l.as_str());
        self.language = RequestLanguage(language.and_then(Lang::negotiate));
        // the connection's error messages too
        let _ = crate::error::READER.try_with(|reader| reader.set(self.language.0));
        let (tx, _) = watch::channel(caller.clone());
        self.live = Some(tx);
        self.set_caller(caller);
        Step::Send(vec![text(&ServerMessage::ConnectionAck)])
    }

    /// A fresh token in a ping: the caller is replaced for new operations and for the live ones
    /// (which recheck it on their next event); a bad one closes the connection.
    pub(super) async fn reauthenticate(&mut self, authorization: Option<&str>) -> Step {
        match self.app.services.auth.caller(authorization).await {
            Ok(Caller::Anonymous) => Step::Close(
                4403,
                "Forbidden: the ping's authorization holds no token".into(),
            ),
            Ok(caller) => {
                self.set_caller(caller);
                Step::Send(vec![text(&ServerMessage::Pong)])
            }
            Err(e) => Step::Close(4403, format!("Forbidden: {e}")),
        }
    }

    /// Whether a revocation is of this connection's session.
    pub(super) fn revoked(&self, event: &Event) -> bool {
        let (Some(live), Event::SessionsRevoked { sub, before }) = (&self.live, event) else {
            return false;
        };
        matches!(&*live.borrow(), Caller::Token(c) if c.sub == *sub && c.iat.unwrap_or(i64::MIN) < *before)
    }

    /// The session of operations started from now on, and its expiry.
    pub(super) fn set_caller(&mut self, caller: Caller) {
        let Some(live) = &self.live else { return };
        live.send_replace(caller.clone());
        self.expires = match &caller {
            Caller::Token(claims) => {
                let left = claims.exp - chrono::Utc::now().timestamp();
                Some(tokio::time::Instant::now() + Duration::from_secs(left.max(0) as u64))
            }
            _ => None,
        };
        let mut data = Data::default();
        data.insert(caller);
        data.insert(LiveCaller(live.subscribe()));
        data.insert(self.language);
        self.session = Some(Arc::new(data));
    }
}
