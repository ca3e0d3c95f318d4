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

/// A time key of [`split_time`] as nanoseconds since the epoch; `None`
/// outside what that holds (1677 to 2262), such as the engine's zero time
/// (`0001-01-01T00:00:00Z`, a container's start before it started).
pub fn nanos(key: &str) -> Option<i64> {
    let (date, rest) = key.split_once(' ')?;
    let (clock, frac) = rest.split_once('.')?;
    let num = |s: &str| s.parse::<i64>().ok();
    let mut d = date.splitn(3, '-').map(num);
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut c = clock.splitn(3, ':').map(num);
    let (h, min, s) = (c.next()??, c.next()??, c.next()??);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400 + h * 3600 + min * 60 + s)
        .checked_mul(1_000_000_000)?
        .checked_add(num(frac)?)
}

/// Nanoseconds since the epoch as the engine's `since`/`until` take them.
pub fn engine_time(ns: i64) -> String {
    format!(
        "{}.{:09}",
        ns.div_euclid(1_000_000_000),
        ns.rem_euclid(1_000_000_000)
    )
}

/// Nanoseconds since the epoch as the engine writes a log message's time
/// (RFC 3339 with nine fraction digits, moby's `RFC3339NanoFixed`).
pub fn rfc3339(ns: i64) -> String {
    let (secs, frac) = (ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // The civil date of a day number (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
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
        assert_eq!(nanos("1970-01-01 00:00:01.000000002"), Some(1_000_000_002));
        assert_eq!(nanos(&a), Some(1_795_399_944_200_000_000));
        assert_eq!(
            engine_time(1_795_400_344_200_000_000),
            "1795400344.200000000"
        );
        assert!(split_time(b"2026-11-23T02:12:24.2 no-zone").is_none());
        // The engine's zero time is no time (it overflowed, and a debug
        // relay panicked holding the recorder's lock).
        let (zero, _) = split_time(b"0001-01-01T00:00:00Z x").unwrap();
        assert_eq!(nanos(&zero), None);
        for raw in [
            "2026-11-23T02:12:24.200000000Z",
            "2024-02-29T23:59:59.000000000Z",
            "1970-01-01T00:00:00.000000001Z",
        ] {
            let (key, _) = split_time(format!("{raw} x").as_bytes()).unwrap();
            assert_eq!(rfc3339(nanos(&key).unwrap()), raw);
        }
    }
}
