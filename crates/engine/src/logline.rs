//! Log messages as the engine sends them with `timestamps=1`: an RFC 3339
//! time with up to nine fraction digits (Go trims trailing zeros), a space,
//! then the message.

/// The message's time as a key whose text order is time order
/// (`2026-11-23T02:12:24.2Z` → `2026-11-23 02:12:24.200000000`), and the
/// message after it; `None` when it does not start with a time.
pub fn split_time(raw: &[u8]) -> Option<(String, &[u8])> {
    let space = raw.iter().position(|b| *b == b' ')?;
    let ts = std::str::from_utf8(&raw[..space]).ok()?;
    let ts = ts.strip_suffix('Z').filter(|t| t.len() >= 19)?;
    let (whole, frac) = ts.split_once('.').unwrap_or((ts, ""));
    let plain = whole
        .bytes()
        .all(|b| b.is_ascii_digit() || b"-:T".contains(&b))
        && frac.len() <= 9
        && frac.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| {
        (
            format!("{}.{frac:0<9}", whole.replace('T', " ")),
            &raw[space + 1..],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_order_as_text() {
        let (a, rest) = split_time(b"2026-11-23T02:12:24.2Z hello\n").unwrap();
        assert_eq!(a, "2026-11-23 02:12:24.200000000");
        assert_eq!(rest, b"hello\n");
        let (b, _) = split_time(b"2026-11-23T02:12:24.223456789Z x").unwrap();
        let (c, _) = split_time(b"2026-11-23T02:12:25Z x").unwrap();
        assert!(a < b && b < c);
        assert!(split_time(b"hello world").is_none());
        assert!(split_time(b"2026-11-23T02:12:24.2 no-zone").is_none());
    }
}
