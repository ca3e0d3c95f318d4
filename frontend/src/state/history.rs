//! The flight recorder's records as the console shows them: the History
//! page's rows (a compose service's containers together, so a recreate's
//! earlier containers sit with the current one), how each one ended and
//! how long it ran, what the dashboard says needs attention, and the time
//! windows of a search and of a match opened in its record.

use berth_engine::models::ContainerSummaryStateEnum as State;
use berth_engine::relay::{HistoryEntry, SearchQuery};
use berth_engine::ContainerBrief;

use super::containers::container_name;

/// A day, in seconds: how far back the dashboard looks for exits.
pub const DAY: i64 = 86_400;

/// Seconds of log shown on each side of a search match opened in its
/// record.
pub const AROUND: i64 = 60;

/// When a record last changed: its death, else its start, else its making.
pub fn recent(e: &HistoryEntry) -> i64 {
    e.died.max(e.started).unwrap_or(e.created)
}

/// A row of the History page: one container, or every container of a
/// compose service (recreated ones included), the newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// `project/service` for a compose service, else the container's id.
    pub key: String,
    pub project: String,
    pub service: String,
    pub members: Vec<HistoryEntry>,
}

impl Group {
    /// What the row is called: the service (`shop/web`) or the container.
    pub fn title(&self) -> String {
        if self.service.is_empty() {
            self.members
                .first()
                .map(|m| m.name.clone())
                .unwrap_or_default()
        } else {
            format!("{}/{}", self.project, self.service)
        }
    }
}

/// The History page's rows, the most recent first: each container that
/// died or is gone, and with it the other containers of its compose
/// service (the earlier ones of a recreate, and the one running now).
pub fn groups(entries: &[HistoryEntry]) -> Vec<Group> {
    // Times are to the second: at a tie, the one running (a recreate's
    // new container) is the newer.
    let mut sorted: Vec<&HistoryEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse((recent(e), e.running, e.created)));
    let mut groups: Vec<Group> = Vec::new();
    for e in sorted {
        let compose = !e.project.is_empty() && !e.service.is_empty();
        let key = if compose {
            format!("{}/{}", e.project, e.service)
        } else {
            e.id.clone()
        };
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.members.push(e.clone()),
            None => groups.push(Group {
                key,
                project: e.project.clone(),
                service: if compose {
                    e.service.clone()
                } else {
                    String::new()
                },
                members: vec![e.clone()],
            }),
        }
    }
    groups.retain(|g| g.members.iter().any(|m| !m.running));
    groups
}

/// How long it ran, in seconds: from its last start to its death.
pub fn ran_for(e: &HistoryEntry) -> Option<i64> {
    match (e.started, e.died) {
        (Some(s), Some(d)) if d >= s => Some(d - s),
        _ => None,
    }
}

/// `75` → `1 min 15 s`: the two largest units.
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    let units = [(DAY, "d"), (3600, "h"), (60, "min"), (1, "s")];
    let Some(i) = units.iter().position(|(n, _)| secs >= *n) else {
        return "0 s".into();
    };
    let (big, big_unit) = units[i];
    let mut out = format!("{} {big_unit}", secs / big);
    if let Some((small, small_unit)) = units.get(i + 1) {
        let rest = secs % big / small;
        if rest > 0 {
            out += &format!(" {rest} {small_unit}");
        }
    }
    out
}

/// How it ended, in words: `exited with 3`, `killed for memory (OOM, exit
/// 137)`, `running`; `, removed` when the engine removed it.
pub fn outcome(e: &HistoryEntry) -> String {
    let mut out = if e.running {
        "running".to_owned()
    } else if e.oom {
        match e.exit_code {
            Some(c) => format!("killed for memory (OOM, exit {c})"),
            None => "killed for memory (OOM)".to_owned(),
        }
    } else {
        match (e.exit_code, e.started) {
            (Some(c), _) => format!("exited with {c}"),
            (None, None) => "never started".to_owned(),
            (None, Some(_)) => "stopped".to_owned(),
        }
    };
    if e.destroyed {
        out += ", removed";
    }
    out
}

/// Why a container needs attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Unhealthy,
    Restarting,
    /// Killed for memory, with its exit code if known.
    Oom(Option<i64>),
    /// Exited with a code other than 0.
    Exited(i64),
}

impl Reason {
    pub fn text(&self) -> String {
        match self {
            Reason::Unhealthy => "unhealthy".into(),
            Reason::Restarting => "restarting".into(),
            Reason::Oom(Some(c)) => format!("killed for memory (OOM, exit {c})"),
            Reason::Oom(None) => "killed for memory (OOM)".into(),
            Reason::Exited(c) => format!("exited with {c}"),
        }
    }
}

/// A container the dashboard points out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    pub id: String,
    pub name: String,
    pub reason: Reason,
    /// When it died (seconds since the epoch); `None` for a state it is in
    /// now.
    pub at: Option<i64>,
    /// The recorder has its record (else the link is to its page).
    pub recorded: bool,
}

/// What needs attention: containers unhealthy or restarting now (the
/// engine's list), then those OOM-killed or exited non-zero since `now -
/// DAY` (the recorder's history, when there is one), the latest first. One
/// line a container: what it is now wins over how it last died.
pub fn attention(
    live: &[ContainerBrief],
    history: Option<&[HistoryEntry]>,
    now: i64,
) -> Vec<Attention> {
    let recorded = |id: &str| history.is_some_and(|h| h.iter().any(|e| e.id == id));
    let mut now_wrong: Vec<Attention> = live
        .iter()
        .filter_map(|c| {
            let reason = if c.state == Some(State::RESTARTING) {
                Reason::Restarting
            } else if c
                .status
                .as_deref()
                .is_some_and(|s| s.contains("(unhealthy)"))
            {
                Reason::Unhealthy
            } else {
                return None;
            };
            let id = c.id.clone().unwrap_or_default();
            Some(Attention {
                recorded: recorded(&id),
                id,
                name: container_name(c.names.as_deref()),
                reason,
                at: None,
            })
        })
        .collect();
    now_wrong.sort_by(|a, b| a.name.cmp(&b.name));
    let mut died: Vec<Attention> = history
        .unwrap_or_default()
        .iter()
        .filter(|e| e.died.is_some_and(|d| d > now - DAY))
        .filter(|e| !now_wrong.iter().any(|a| a.id == e.id))
        .filter_map(|e| {
            let reason = match e.exit_code {
                _ if e.oom => Reason::Oom(e.exit_code),
                Some(c) if c != 0 => Reason::Exited(c),
                _ => return None,
            };
            Some(Attention {
                id: e.id.clone(),
                name: e.name.clone(),
                reason,
                at: e.died,
                recorded: true,
            })
        })
        .collect();
    died.sort_by_key(|a| std::cmp::Reverse(a.at));
    now_wrong.extend(died);
    now_wrong
}

/// The search page's time windows: the value it keeps in its address,
/// what it says, and how far back it reaches (`None`: no bound, or the
/// custom since/until).
pub const WINDOWS: [(&str, &str, Option<i64>); 5] = [
    ("", "Any time", None),
    ("1h", "Last hour", Some(3600)),
    ("24h", "Last 24 hours", Some(DAY)),
    ("7d", "Last 7 days", Some(7 * DAY)),
    ("custom", "Between…", None),
];

/// A search as the Search page's address holds it, so that a search can
/// be linked to, reloaded and gone back to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchForm {
    pub q: String,
    /// One of [`WINDOWS`].
    pub window: String,
    /// Seconds since the epoch, for the custom window.
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub container: String,
    pub project: String,
}

impl SearchForm {
    /// From the address's query (`get` gives a parameter's value).
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> SearchForm {
        let number = |k: &str| get(k).and_then(|v| v.trim().parse().ok());
        SearchForm {
            q: get("q").unwrap_or_default(),
            window: get("window").unwrap_or_default(),
            since: number("since"),
            until: number("until"),
            container: get("container").unwrap_or_default(),
            project: get("project").unwrap_or_default(),
        }
    }

    /// The address's query (`?q=…&…`), each value escaped by `escape`.
    pub fn to_query(&self, escape: impl Fn(&str) -> String) -> String {
        let custom = self.window == "custom";
        let pairs = [
            ("q", Some(self.q.clone())),
            ("window", Some(self.window.clone())),
            (
                "since",
                self.since.filter(|_| custom).map(|s| s.to_string()),
            ),
            (
                "until",
                self.until.filter(|_| custom).map(|s| s.to_string()),
            ),
            ("container", Some(self.container.clone())),
            ("project", Some(self.project.clone())),
        ];
        let query: Vec<String> = pairs
            .into_iter()
            .filter_map(|(k, v)| {
                v.filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", escape(&v)))
            })
            .collect();
        if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        }
    }

    /// The recorder's search it asks for, at `now` (seconds since the
    /// epoch); `None` until there is something to search for.
    pub fn query(&self, now: i64) -> Option<SearchQuery> {
        if self.q.trim().is_empty() {
            return None;
        }
        let (since, until) = match WINDOWS.iter().find(|(v, _, _)| *v == self.window) {
            Some(("custom", _, _)) => (self.since, self.until),
            Some((_, _, Some(back))) => (Some(now - back), None),
            _ => (None, None),
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Some(SearchQuery {
            q: self.q.clone(),
            since,
            until,
            container: text(&self.container),
            project: text(&self.project),
            limit: None,
        })
    }
}

/// `text` as a regular expression that matches it as it is (Rust's
/// `regex::escape`): what the palette searches for.
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The window of a record's log around a moment (nanoseconds since the
/// epoch), as the logs endpoint's since/until (seconds): [`AROUND`] each
/// side.
pub fn around(ns: i64) -> (i64, i64) {
    let secs = ns.div_euclid(1_000_000_000);
    (secs - AROUND, secs + AROUND + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        id: &str,
        project: &str,
        service: &str,
        started: i64,
        died: Option<i64>,
    ) -> HistoryEntry {
        HistoryEntry {
            id: id.into(),
            name: format!("{id}-name"),
            project: project.into(),
            service: service.into(),
            created: started - 1,
            started: Some(started),
            died,
            exit_code: died.map(|_| 0),
            running: died.is_none(),
            ..HistoryEntry::default()
        }
    }

    #[test]
    fn a_recreated_service_is_one_group_with_its_running_container() {
        let old = HistoryEntry {
            destroyed: true,
            ..entry("old", "shop", "web", 100, Some(200))
        };
        // Started in the second the old one died.
        let new = entry("new", "shop", "web", 200, None);
        let alone = entry("alone", "", "", 300, Some(400));
        let up = entry("up", "", "", 50, None);
        let steady = entry("db", "shop", "db", 90, None);
        let groups = groups(&[old, new, alone, up, steady]);
        let shown: Vec<(String, Vec<&str>)> = groups
            .iter()
            .map(|g| (g.title(), g.members.iter().map(|m| m.id.as_str()).collect()))
            .collect();
        // Newest first; what never died (`up`, the db service) is not listed;
        // the service's current container sits with the one it replaced.
        assert_eq!(
            shown,
            [
                ("alone-name".to_owned(), vec!["alone"]),
                ("shop/web".to_owned(), vec!["new", "old"]),
            ]
        );
        assert_eq!(groups[1].key, "shop/web");
    }

    #[test]
    fn how_it_ended_and_how_long_it_ran() {
        let mut e = entry("a", "", "", 1000, Some(1075));
        assert_eq!(ran_for(&e), Some(75));
        assert_eq!(duration(75), "1 min 15 s");
        assert_eq!(duration(7200), "2 h");
        assert_eq!(duration(90_061), "1 d 1 h");
        assert_eq!(duration(0), "0 s");
        assert_eq!(outcome(&e), "exited with 0");
        e.exit_code = Some(137);
        e.oom = true;
        e.destroyed = true;
        assert_eq!(outcome(&e), "killed for memory (OOM, exit 137), removed");
        let never = HistoryEntry {
            destroyed: true,
            ..HistoryEntry::default()
        };
        assert_eq!(outcome(&never), "never started, removed");
        assert_eq!(ran_for(&never), None);
        assert_eq!(outcome(&entry("b", "", "", 5, None)), "running");
    }

    fn row(id: &str, state: State, status: &str) -> ContainerBrief {
        ContainerBrief {
            id: Some(id.into()),
            names: Some(vec![format!("/{id}")]),
            state: Some(state),
            status: Some(status.into()),
            ..ContainerBrief::default()
        }
    }

    #[test]
    fn attention_now_then_the_last_days_exits_and_ooms() {
        let now = 10 * DAY;
        let live = [
            row("ok", State::RUNNING, "Up 5 minutes (healthy)"),
            row("sick", State::RUNNING, "Up 5 minutes (unhealthy)"),
            row("loop", State::RESTARTING, "Restarting (1) 3 seconds ago"),
        ];
        let died = |id: &str, at: i64, code: i64| HistoryEntry {
            exit_code: Some(code),
            ..entry(id, "", "", at - 10, Some(at))
        };
        let history = vec![
            died("crashed", now - 60, 3),
            died("clean", now - 30, 0),
            died("old-crash", now - DAY - 1, 1),
            HistoryEntry {
                oom: true,
                ..died("hog", now - 10, 137)
            },
            // Its last exit is old news: it is restarting now.
            died("loop", now - 5, 1),
        ];
        let seen: Vec<(String, Reason, bool)> = attention(&live, Some(&history), now)
            .into_iter()
            .map(|a| (a.id, a.reason, a.recorded))
            .collect();
        assert_eq!(
            seen,
            [
                ("loop".to_owned(), Reason::Restarting, true),
                ("sick".to_owned(), Reason::Unhealthy, false),
                ("hog".to_owned(), Reason::Oom(Some(137)), true),
                ("crashed".to_owned(), Reason::Exited(3), true),
            ]
        );
        // Without the recorder, what the engine says now is still told.
        let live_only = attention(&live, None, now);
        assert_eq!(live_only.len(), 2);
        assert!(live_only.iter().all(|a| !a.recorded));
        assert_eq!(Reason::Exited(3).text(), "exited with 3");
    }

    #[test]
    fn search_windows_and_the_address_they_live_in() {
        let now = 1_000_000;
        let form = SearchForm::from_query(|k| {
            match k {
                "q" => Some("err|fail"),
                "window" => Some("1h"),
                "since" => Some("5"),
                "container" => Some("web-1"),
                _ => None,
            }
            .map(str::to_owned)
        });
        let q = form.query(now).unwrap();
        assert_eq!((q.since, q.until), (Some(now - 3600), None));
        assert_eq!(q.container.as_deref(), Some("web-1"));
        assert_eq!(q.project, None);
        // The custom bounds only count in the custom window.
        let escape = |s: &str| s.replace('|', "%7C");
        assert_eq!(
            form.to_query(escape),
            "?q=err%7Cfail&window=1h&container=web-1"
        );
        let custom = SearchForm {
            window: "custom".into(),
            until: Some(9),
            ..form.clone()
        };
        assert_eq!(
            custom.query(now).map(|q| (q.since, q.until)),
            Some((Some(5), Some(9)))
        );
        assert_eq!(
            custom.to_query(|s| s.to_owned()),
            "?q=err|fail&window=custom&since=5&until=9&container=web-1"
        );
        let any = SearchForm {
            window: String::new(),
            ..form.clone()
        };
        assert_eq!(
            any.query(now).map(|q| (q.since, q.until)),
            Some((None, None))
        );
        assert_eq!(SearchForm::default().query(now), None);
        assert_eq!(SearchForm::default().to_query(|s| s.to_owned()), "");
        assert_eq!(
            around(1_700_000_030_500_000_000),
            (1_699_999_970, 1_700_000_091)
        );
        assert_eq!(literal("GET /a.b?x=(1)"), r"GET /a\.b\?x=\(1\)");
        assert_eq!(literal(r"C:\tmp [x]"), r"C:\\tmp \[x\]");
    }
}
