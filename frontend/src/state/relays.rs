//! The relays one console drives: the one that served it, and others added
//! by URL (each a Berth relay in front of its own engine); which of them is
//! in use; and what each says about its engine, searched across all.

use berth_engine::models::ContainerSummaryStateEnum as State;
use berth_engine::ContainerBrief;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::containers::container_name;
use super::json::json_text;

/// One relay. `url` is empty for the relay that served the console.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Relay {
    pub name: String,
    pub url: String,
}

impl Relay {
    /// The relay that served the console.
    pub fn this() -> Relay {
        Relay {
            name: "This relay".into(),
            url: String::new(),
        }
    }
}

/// Every relay: this one first, then those in `stored` (the list as
/// [`stored`] wrote it; anything unreadable counts as none).
pub fn list(stored: Option<&str>) -> Vec<Relay> {
    let added: Vec<Relay> = stored
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    std::iter::once(Relay::this()).chain(added).collect()
}

/// The list as kept: the relays added (this one is always there).
pub fn stored(all: &[Relay]) -> String {
    let added: Vec<&Relay> = all.iter().filter(|r| !r.url.is_empty()).collect();
    serde_json::to_string(&added).expect("relays serialize")
}

/// The relay at `url`, or this one when it is not in the list (any more).
pub fn current(all: Vec<Relay>, url: &str) -> Relay {
    all.into_iter()
        .find(|r| r.url == url)
        .unwrap_or_else(Relay::this)
}

/// `http(s)://host[:port][/path]` without a trailing slash.
pub fn normalize(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{url:?}: a relay's URL starts with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!("{url:?} is not a relay's URL"));
    }
    Ok(url.to_owned())
}

/// Adds the relay at `url` (named `name`, or by its URL); returns its
/// normalized URL, or why it can't be added.
pub fn add(all: &mut Vec<Relay>, name: &str, url: &str) -> Result<String, String> {
    let url = normalize(url)?;
    if all.iter().any(|r| r.url == url) {
        return Err(format!("{url} is in the list already"));
    }
    let name = name.trim();
    all.push(Relay {
        name: if name.is_empty() {
            url.clone()
        } else {
            name.to_owned()
        },
        url: url.clone(),
    });
    Ok(url)
}

/// What one relay says about its engine.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    pub api: String,
    pub version: String,
    pub running: usize,
    pub stopped: usize,
    /// Id, name and state of each container.
    pub containers: Vec<(String, String, State)>,
}

impl Probe {
    /// From the negotiated API version, `/version` and every container.
    pub fn new(api: String, version: &Value, list: Vec<ContainerBrief>) -> Probe {
        let containers: Vec<(String, String, State)> = list
            .into_iter()
            .map(|c| {
                let name = container_name(c.names.as_deref());
                (
                    c.id.unwrap_or_default(),
                    name,
                    c.state.unwrap_or(State::EMPTY),
                )
            })
            .collect();
        let running = containers.iter().filter(|c| c.2 == State::RUNNING).count();
        Probe {
            api,
            version: json_text(version, "/Version"),
            running,
            stopped: containers.len() - running,
            containers,
        }
    }
}

/// A container found on some relay.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub url: String,
    pub relay: String,
    pub name: String,
    pub state: State,
}

/// The containers whose name holds `needle` (case aside) or whose id
/// starts with it, on every relay that answered, in the list's order.
pub fn find(
    relays: &[Relay],
    probes: &[(String, Option<Result<Probe, String>>)],
    needle: &str,
) -> Vec<Found> {
    let needle = needle.trim().to_lowercase();
    if needle.is_empty() {
        return vec![];
    }
    let mut out = vec![];
    for (url, got) in probes {
        let Some(Ok(probe)) = got else { continue };
        let relay = relays
            .iter()
            .find(|r| r.url == *url)
            .map(|r| r.name.clone())
            .unwrap_or_default();
        for (id, name, state) in &probe.containers {
            if name.to_lowercase().contains(&needle) || id.starts_with(&needle) {
                out.push(Found {
                    url: url.clone(),
                    relay: relay.clone(),
                    name: name.clone(),
                    state: *state,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn this_relay_comes_first_and_is_never_stored() {
        assert_eq!(list(None), [Relay::this()]);
        assert_eq!(list(Some("not json")), [Relay::this()]);
        let mut all = list(None);
        assert_eq!(
            add(&mut all, " ", "http://b:2375/").unwrap(),
            "http://b:2375"
        );
        assert_eq!(
            add(&mut all, "c", "https://c/berth").unwrap(),
            "https://c/berth"
        );
        let kept = stored(&all);
        assert!(!kept.contains("This relay"), "{kept}");
        assert_eq!(list(Some(&kept)), all);
        assert_eq!(all[1].name, "http://b:2375", "named by its URL");
    }

    #[test]
    fn relay_urls_are_checked() {
        let mut all = list(None);
        add(&mut all, "b", "http://b:2375").unwrap();
        assert_eq!(
            add(&mut all, "again", "http://b:2375/").unwrap_err(),
            "http://b:2375 is in the list already"
        );
        for bad in ["b:2375", "ftp://b", "http://", "http://b?x=1", "http://a b"] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_relay_that_is_gone_falls_back_to_this_one() {
        let mut all = list(None);
        add(&mut all, "b", "http://b").unwrap();
        assert_eq!(current(all.clone(), "http://b").name, "b");
        assert_eq!(current(all, "http://gone"), Relay::this());
    }

    #[test]
    fn a_search_finds_containers_on_every_relay_that_answered() {
        let mut all = list(None);
        add(&mut all, "b", "http://b").unwrap();
        let list = serde_json::from_value(json!([
            {"Id": "abc1", "Names": ["/web-1"], "State": "running"},
            {"Id": "def2", "Names": ["/db"], "State": "exited"}
        ]))
        .unwrap();
        let probe = Probe::new("1.41".into(), &json!({"Version": "20.10.24"}), list);
        assert_eq!((probe.running, probe.stopped), (1, 1));
        assert_eq!(probe.version, "20.10.24");
        let probes = vec![
            (String::new(), Some(Ok(probe.clone()))),
            ("http://b".to_owned(), Some(Ok(probe))),
            ("http://c".to_owned(), Some(Err("down".to_owned()))),
        ];
        let found = find(&all, &probes, "WEB");
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[1].relay.as_str(), found[1].name.as_str()),
            ("b", "web-1")
        );
        assert_eq!(find(&all, &probes, "def")[0].state, State::EXITED);
        assert!(find(&all, &probes, " ").is_empty());
    }
}
