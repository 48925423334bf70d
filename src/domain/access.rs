//! Who may do what: the caller a request carries, and the rules of the product's access model.
//! Viewers read and watch their analyses; owners also move progress and manage report emails;
//! admins record analyses, see service-wide figures and every analysis. An analysis a caller may
//! not see is, to that caller, one that does not exist.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ids::AnalysisId;

/// A token's role; each includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Owner,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Owner => "owner",
            Role::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "viewer" => Some(Role::Viewer),
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Who the caller is.
    pub sub: String,
    /// When the token stops being valid (seconds since the epoch).
    pub exp: i64,
    /// When it was issued (seconds since the epoch), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    pub role: Role,
    /// The analyses it may touch (an admin's reach every analysis).
    #[serde(default)]
    pub analyses: Vec<AnalysisId>,
}

/// The caller of one request or WebSocket connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// `AUTH_MODE=open`: everything is allowed.
    Open,
    /// No token.
    Anonymous,
    Token(Arc<Claims>),
}

/// Why a caller may not do something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No token (or none that holds).
    Unauthenticated,
    /// Known, but the role is too low.
    Forbidden,
    /// The analysis is not the caller's to see: it answers as an unknown one.
    Hidden,
}

impl Caller {
    /// May read and watch this analysis (viewer and up).
    pub fn read(&self, analysis: AnalysisId) -> Result<(), Denied> {
        self.on(analysis, Role::Viewer)
    }

    /// May move its progress and manage its report emails (owner and up).
    pub fn write(&self, analysis: AnalysisId) -> Result<(), Denied> {
        self.on(analysis, Role::Owner)
    }

    /// May do what only admins do (record analyses, service-wide figures).
    pub fn admin(&self) -> Result<(), Denied> {
        match self {
            Caller::Open => Ok(()),
            Caller::Anonymous => Err(Denied::Unauthenticated),
            Caller::Token(c) if c.role == Role::Admin => Ok(()),
            Caller::Token(_) => Err(Denied::Forbidden),
        }
    }

    /// Whether this analysis is one the caller may see at all.
    pub fn sees(&self, analysis: AnalysisId) -> bool {
        self.read(analysis).is_ok()
    }

    fn on(&self, analysis: AnalysisId, need: Role) -> Result<(), Denied> {
        let claims = match self {
            Caller::Open => return Ok(()),
            Caller::Anonymous => return Err(Denied::Unauthenticated),
            Caller::Token(c) => c,
        };
        if claims.role == Role::Admin {
            return Ok(());
        }
        if !claims.analyses.contains(&analysis) {
            return Err(Denied::Hidden);
        }
        if claims.role < need {
            return Err(Denied::Forbidden);
        }
        Ok(())
    }

    /// The subject, for logs (never the token) and as the activity log's actor.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Caller::Token(c) => Some(&c.sub),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(role: Role, analyses: &[AnalysisId]) -> Caller {
        Caller::Token(Arc::new(Claims {
            sub: "s".into(),
            exp: 0,
            iat: None,
            role,
            analyses: analyses.to_vec(),
        }))
    }

    #[test]
    fn roles_reach_their_own_analyses_and_admins_all() {
        let (mine, other) = (AnalysisId::random(), AnalysisId::random());
        let viewer = token(Role::Viewer, &[mine]);
        assert_eq!(viewer.read(mine), Ok(()));
        assert_eq!(viewer.write(mine), Err(Denied::Forbidden));
        assert_eq!(viewer.read(other), Err(Denied::Hidden));
        assert_eq!(viewer.write(other), Err(Denied::Hidden));
        assert_eq!(viewer.admin(), Err(Denied::Forbidden));
        let owner = token(Role::Owner, &[mine]);
        assert_eq!(owner.write(mine), Ok(()));
        assert_eq!(owner.write(other), Err(Denied::Hidden));
        let admin = token(Role::Admin, &[]);
        assert_eq!((admin.write(other), admin.admin()), (Ok(()), Ok(())));
        assert_eq!(Caller::Anonymous.read(mine), Err(Denied::Unauthenticated));
        assert_eq!(Caller::Anonymous.admin(), Err(Denied::Unauthenticated));
        assert_eq!(
            (Caller::Open.write(other), Caller::Open.admin()),
            (Ok(()), Ok(()))
        );
    }
}
