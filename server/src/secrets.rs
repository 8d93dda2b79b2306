//! Tokens, their hashes, pseudonyms and join codes.
//!
//! Tokens are 256-bit random values given to their owner once; the server keeps only their
//! BLAKE3 hash. A pseudonym is a keyed hash of a participant id with the session's secret key,
//! so the document can name "the author of this card" without naming the person.

use std::fmt::Write as _;

/// The hash under which a token is stored.
pub type TokenHash = [u8; 32];

/// Who a token lets in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenGrant {
    /// The role the token gives.
    pub role: tafel_protocol::Role,
    /// The participant it belongs to (none for the projector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<String>,
    /// The replay link it opens (replay tokens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Fills a buffer from the operating system's random source.
fn random<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    buf
}

/// A new secret token, 43 characters of URL-safe text (256 random bits).
pub fn new_token() -> String {
    encode_token(&random::<32>())
}

/// A token derived from the session key and `context` (a keyed hash): as unguessable as a
/// random one without the key, and the same each time for the same context, so a resent
/// command can give the same link again without the server storing the token itself.
pub fn derived_token(key: &[u8; 32], context: &str) -> String {
    encode_token(blake3::keyed_hash(key, context.as_bytes()).as_bytes())
}

fn encode_token(bytes: &[u8; 32]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> TokenHash {
    *blake3::hash(token.as_bytes()).as_bytes()
}

/// A new per-session key for pseudonyms.
pub fn new_session_key() -> [u8; 32] {
    random::<32>()
}

/// The pseudonym of participant `id` in the session with `key`: 24 hex characters.
pub fn pseudonym(key: &[u8; 32], id: &str) -> String {
    let hash = blake3::keyed_hash(key, id.as_bytes());
    let mut out = String::with_capacity(25);
    out.push('~');
    for b in &hash.as_bytes()[..12] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Length of a join code: 31^6 ≈ 887 million codes.
pub const CODE_LEN: usize = 6;

/// A new random join code.
pub fn new_code() -> String {
    random::<CODE_LEN>()
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// The canonical form of a code a person typed: upper case, no spaces or dashes; `None` when
/// it cannot be a code.
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// Hex form of a key, for storing in the session's metadata.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Parses the hex form of a 32-byte key.
pub fn from_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_distinct_and_url_safe() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn derived_tokens_are_stable_per_context_and_keyed() {
        let k1 = new_session_key();
        let k2 = new_session_key();
        assert_eq!(derived_token(&k1, "a"), derived_token(&k1, "a"));
        assert_ne!(derived_token(&k1, "a"), derived_token(&k1, "b"));
        assert_ne!(derived_token(&k1, "a"), derived_token(&k2, "a"));
        assert_eq!(derived_token(&k1, "a").len(), 43);
    }

    #[test]
    fn pseudonyms_depend_on_the_key_and_hide_the_id() {
        let k1 = new_session_key();
        let k2 = new_session_key();
        assert_eq!(pseudonym(&k1, "p2"), pseudonym(&k1, "p2"));
        assert_ne!(pseudonym(&k1, "p2"), pseudonym(&k1, "p3"));
        assert_ne!(pseudonym(&k1, "p2"), pseudonym(&k2, "p2"));
        assert!(!pseudonym(&k1, "p2").contains("p2"));
    }

    #[test]
    fn codes_normalize_from_what_people_type() {
        let code = new_code();
        assert_eq!(normalize_code(&code.to_lowercase()), Some(code.clone()));
        assert_eq!(normalize_code("k7q-m2x"), Some("K7QM2X".into()));
        assert_eq!(normalize_code("K7QM2"), None);
        assert_eq!(normalize_code("K7QM2O"), None, "O is not in the alphabet");
    }

    #[test]
    fn hex_round_trips() {
        let k = new_session_key();
        assert_eq!(from_hex32(&to_hex(&k)), Some(k));
        assert_eq!(from_hex32("zz"), None);
    }
}
