//! One search across every record: a regular expression (Rust's `regex`)
//! over each message, in a time window, by container or compose project.
//!
//! Segments are read whole, and hold each message as it came. An
//! expression without anchors runs over each segment at once, so its
//! literal prefilters skip the lines that cannot match, and only a line a
//! match falls in is looked at; an anchored one (`^`, `$`, `\A`) is tried
//! line by line. Either way it is tried on the message
//! alone, never on the time in front of it. Records are searched in
//! parallel, then the matches are put in time order.

use std::path::Path;

use berth_engine::relay::SearchHit;
use regex::bytes::Regex;

use super::store::{Message, Meta, Record};

/// What to search.
pub struct Query {
    pub regex: Regex,
    pub since: i64,
    pub until: i64,
    /// Name or id (prefix).
    pub container: Option<String>,
    pub project: Option<String>,
    pub limit: usize,
}

impl Query {
    fn takes(&self, meta: &Meta) -> bool {
        self.container
            .as_ref()
            .is_none_or(|c| meta.name == *c || meta.id.starts_with(c.as_str()))
            && self.project.as_ref().is_none_or(|p| meta.project == *p)
    }
}

/// The matches in `records`, oldest first, at most `limit`.
pub fn search(root: &Path, records: &[Meta], q: &Query) -> Vec<SearchHit> {
    let chosen: Vec<&Meta> = records.iter().filter(|m| q.takes(m)).collect();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(1);
    let mut hits: Vec<SearchHit> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<&Meta> = chosen.iter().skip(t).step_by(threads).copied().collect();
                scope.spawn(move || {
                    let mut hits = Vec::new();
                    for meta in mine {
                        search_record(&Record::new(root, &meta.id), meta, q, &mut hits);
                    }
                    hits
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    hits.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
    hits.truncate(q.limit);
    hits
}

/// A record's matches, oldest first: its first `limit` at most (no more
/// can be among the first `limit` of all).
fn search_record(record: &Record, meta: &Meta, q: &Query, hits: &mut Vec<SearchHit>) {
    let cap = hits.len() + q.limit;
    let anchored = q.regex.as_str().contains(['^', '$']) || q.regex.as_str().contains("\\A");
    let segs = record.segments();
    for (i, seg) in segs.iter().enumerate() {
        let next_first = segs.get(i + 1).map_or(i64::MAX, |s| s.first);
        if seg.first > q.until || next_first < q.since {
            continue;
        }
        let Ok(buf) = std::fs::read(&seg.path) else {
            continue;
        };
        if hits.len() >= cap {
            return;
        }
        let check = |line: &[u8]| {
            let msg = Message::decode(line)?;
            if msg.time < q.since || msg.time > q.until {
                return None;
            }
            let text = msg.bytes.strip_suffix(b"\n").unwrap_or(&msg.bytes);
            q.regex.is_match(text).then(|| SearchHit {
                container: meta.name.clone(),
                id: meta.id.clone(),
                time: msg.time,
                stream: msg.stream.into(),
                line: msg.text().trim_end_matches('\r').to_owned(),
            })
        };
        if anchored {
            for line in buf.split(|b| *b == b'\n') {
                if hits.len() >= cap {
                    break;
                }
                // The message after `TIME STREAM `, as written.
                let written = line.splitn(3, |b| *b == b' ').nth(2).unwrap_or_default();
                if q.regex.is_match(written) {
                    hits.extend(check(line));
                }
            }
            continue;
        }
        // The line each match falls in, each line once.
        let mut at = 0;
        while at < buf.len() && hits.len() < cap {
            let Some(m) = q.regex.find_at(&buf, at) else {
                break;
            };
            let start = buf[..m.start()]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            let end = buf[m.start()..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(buf.len(), |i| m.start() + i);
            hits.extend(check(&buf[start..end]));
            at = end + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::store::Stream;

    #[test]
    fn matches_come_in_time_order_from_every_record() {
        let dir = tempfile::tempdir().unwrap();
        let mut metas = vec![];
        for (id, name, project, lines) in [
            (
                "aaa",
                "web",
                "shop",
                vec![(1, "GET /cart 200"), (4, "GET /pay 500")],
            ),
            ("bbb", "db", "shop", vec![(2, "ERROR deadlock"), (3, "ok")]),
            (
                "ccc",
                "other",
                "",
                vec![(5, "ERROR disk"), (6, "the 500 was fine")],
            ),
        ] {
            let rec = Record::new(dir.path(), id);
            let mut buf = Vec::new();
            for (t, l) in lines {
                Message {
                    time: t,
                    stream: Stream::Stdout,
                    bytes: format!("{l}\n").into_bytes(),
                }
                .encode(&mut buf);
            }
            rec.append(&buf, crate::recorder::store::SEGMENT).unwrap();
            metas.push(Meta {
                id: id.into(),
                name: name.into(),
                project: project.into(),
                ..Meta::default()
            });
        }
        let q = |re: &str| Query {
            regex: Regex::new(re).unwrap(),
            since: 0,
            until: i64::MAX,
            container: None,
            project: None,
            limit: 100,
        };
        let times = |hits: Vec<SearchHit>| hits.iter().map(|h| h.time).collect::<Vec<_>>();
        assert_eq!(times(search(dir.path(), &metas, &q("ERROR"))), vec![2, 5]);
        assert_eq!(times(search(dir.path(), &metas, &q("500"))), vec![4, 6]);
        // The time and stream in front of a line are not searched.
        assert!(search(dir.path(), &metas, &q("^4 ")).is_empty());
        assert_eq!(times(search(dir.path(), &metas, &q("^GET"))), vec![1, 4]);
        let shop = Query {
            project: Some("shop".into()),
            ..q("ERROR|500")
        };
        assert_eq!(times(search(dir.path(), &metas, &shop)), vec![2, 4]);
        let window = Query {
            since: 3,
            until: 5,
            limit: 1,
            ..q(".")
        };
        let hits = search(dir.path(), &metas, &window);
        assert_eq!((hits[0].time, hits[0].container.as_str()), (3, "db"));
        assert_eq!(hits.len(), 1);
    }
}
