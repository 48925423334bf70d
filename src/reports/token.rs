//! Link tokens: the subscription id signed with HMAC-SHA256 under a configured secret and a
//! purpose, so knowing an id is not enough to unsubscribe or confirm someone, and an unsubscribe
//! link cannot confirm.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the MAC kept in the token (128 bits).
const MAC_BYTES: usize = 16;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Unsubscribe,
    Confirm,
}

impl Purpose {
    fn prefix(self) -> &'static [u8] {
        match self {
            Purpose::Unsubscribe => b"unsubscribe:",
            Purpose::Confirm => b"confirm:",
        }
    }
}

fn mac(secret: &[u8], purpose: Purpose, id: Uuid) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(purpose.prefix());
    m.update(id.as_bytes());
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `<subscription id, 32 hex>.<mac, 32 hex>`
pub fn sign(secret: &[u8], purpose: Purpose, id: Uuid) -> String {
    let tag = mac(secret, purpose, id).finalize().into_bytes();
    format!("{}.{}", id.simple(), hex(&tag[..MAC_BYTES]))
}

/// The subscription id of a genuine token; `None` for a malformed or tampered one.
pub fn verify(secret: &[u8], purpose: Purpose, token: &str) -> Option<Uuid> {
    let (id, tag) = token.trim().split_once('.')?;
    let id = Uuid::parse_str(id).ok()?;
    let tag = unhex(tag)?;
    if tag.len() != MAC_BYTES {
        return None;
    }
    // constant-time comparison of the truncated tag
    mac(secret, purpose, id).verify_truncated_left(&tag).ok()?;
    Some(id)
}

/// What a document link grants: one analysis' document in one format with these sections,
/// until `expires` (seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentGrant<'a> {
    pub analysis_id: Uuid,
    pub format: &'a str,
    /// The sections in document order, comma-separated: the same list however the link spelt it.
    pub sections: &'a str,
    pub expires: i64,
}

fn document_mac(secret: &[u8], grant: &DocumentGrant<'_>) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(b"document:");
    m.update(grant.analysis_id.as_bytes());
    // the separators keep `pdf` + `a,b` apart from `pdfa` + `,b`
    for part in [grant.format, grant.sections, &grant.expires.to_string()] {
        m.update(b"\n");
        m.update(part.as_bytes());
    }
    m
}

/// The signature of a document link (32 hex).
pub fn sign_document(secret: &[u8], grant: &DocumentGrant<'_>) -> String {
    let tag = document_mac(secret, grant).finalize().into_bytes();
    hex(&tag[..MAC_BYTES])
}

/// Whether `signature` is this grant's under `secret` (compared in constant time).
pub fn verify_document(secret: &[u8], grant: &DocumentGrant<'_>, signature: &str) -> bool {
    match unhex(signature.trim()) {
        Some(tag) if tag.len() == MAC_BYTES => document_mac(secret, grant)
            .verify_truncated_left(&tag)
            .is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_signature_covers_every_part() {
        let grant = DocumentGrant {
            analysis_id: Uuid::new_v4(),
            format: "pdf",
            sections: "summary,badges",
            expires: 1_800_000_000,
        };
        let sig = sign_document(b"s", &grant);
        assert!(verify_document(b"s", &grant, &sig));
        assert!(!verify_document(b"t", &grant, &sig));
        for other in [
            DocumentGrant {
                analysis_id: Uuid::new_v4(),
                ..grant
            },
            DocumentGrant {
                format: "html",
                ..grant
            },
            DocumentGrant {
                sections: "summary",
                ..grant
            },
            DocumentGrant {
                expires: grant.expires + 1,
                ..grant
            },
        ] {
            assert!(!verify_document(b"s", &other, &sig), "{other:?}");
        }
        for bad in ["", "zz", &sig[..30], "\0"] {
            assert!(!verify_document(b"s", &grant, bad), "{bad:?}");
        }
    }

    #[test]
    fn round_trip_and_tampering() {
        let id = Uuid::new_v4();
        let token = sign(b"secret", Purpose::Unsubscribe, id);
        assert_eq!(verify(b"secret", Purpose::Unsubscribe, &token), Some(id));
        // an unsubscribe link confirms nothing
        assert_eq!(verify(b"secret", Purpose::Confirm, &token), None);
        assert_eq!(verify(b"other secret", Purpose::Unsubscribe, &token), None);
        let other = Uuid::new_v4();
        let swapped = format!("{}.{}", other.simple(), token.split_once('.').unwrap().1);
        assert_eq!(verify(b"secret", Purpose::Unsubscribe, &swapped), None);
        let mut flipped = token.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(verify(b"secret", Purpose::Unsubscribe, &flipped), None);
        for bad in ["", "abc", "x.y", &id.simple().to_string()] {
            assert_eq!(verify(b"secret", Purpose::Unsubscribe, bad), None, "{bad}");
        }
    }
}
