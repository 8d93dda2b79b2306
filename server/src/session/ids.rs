//! Ids on the wire are a letter and a number (`p3`, `k12`, `r2`, `v40`); in memory they are
//! indexes into vectors (`p3` is `participants[2]`), because records are never deleted.

/// Formats an id: `id('p', 0)` is `"p1"`.
pub fn id(prefix: char, index: usize) -> String {
    format!("{prefix}{}", index + 1)
}

/// Parses an id of the given prefix into an index; `None` when it is not one.
pub fn parse_id(prefix: char, id: &str) -> Option<usize> {
    // Exactly as the server writes them: digits only, no sign, no leading zero.
    let digits = id.strip_prefix(prefix)?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: usize = digits.parse().ok()?;
    n.checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        assert_eq!(id('k', 11), "k12");
        assert_eq!(parse_id('k', "k12"), Some(11));
        assert_eq!(parse_id('k', "k0"), None);
        assert_eq!(parse_id('k', "p1"), None);
        assert_eq!(parse_id('k', "k-1"), None);
        assert_eq!(parse_id('k', "k+1"), None, "one spelling per id");
        assert_eq!(parse_id('k', "k01"), None);
        assert_eq!(parse_id('k', "k99999999999999999999999"), None);
    }
}
