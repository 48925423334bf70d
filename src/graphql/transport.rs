//! What carried a GraphQL request.

/// What carried a request: it decides the GET rule and whether the document cache is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Post,
    /// Reads only: a link or an image tag must never change anything.
    Get,
    WebSocket,
}

impl Transport {
    pub fn label(self) -> &'static str {
        match self {
            Transport::Post => "POST",
            Transport::Get => "GET",
            Transport::WebSocket => "WS",
        }
    }
}
