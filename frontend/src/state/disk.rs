//! What the engine's disk-usage figures (`/system/df`) say: usage by kind,
//! the volumes with their size, and what a prune would remove (read off
//! the same figures the engine's prunes go by).

use std::collections::{BTreeMap, HashMap};

use berth_engine::endpoints::Prune;
use berth_engine::models::ContainerSummary;
use berth_engine::ApiVersion;
use serde_json::Value;

use super::containers::container_name;
use super::json::{json_items, json_number, json_strings, json_text, label_matches};

/// Kinds, sizes and counts: `(label, how many, bytes)`, then the total.
/// Images count their layers once (`LayersSize`), as `docker system df`.
pub fn usage(df: &Value) -> (Vec<(&'static str, usize, i64)>, i64) {
    let layers = json_number(df, "/LayersSize");
    let rows: Vec<(&'static str, usize, i64)> = [
        ("Images", "/Images"),
        ("Containers", "/Containers"),
        ("Volumes", "/Volumes"),
        ("Build cache", "/BuildCache"),
    ]
    .into_iter()
    .map(|(label, key)| {
        let items = json_items(df, key);
        let size: i64 = match label {
            "Images" => layers,
            "Containers" => items.iter().map(|i| json_number(i, "/SizeRw")).sum(),
            "Volumes" => items
                .iter()
                .map(|i| json_number(i, "/UsageData/Size").max(0))
                .sum(),
            _ => items.iter().map(|i| json_number(i, "/Size")).sum(),
        };
        (label, items.len(), size)
    })
    .collect();
    let total = rows.iter().map(|r| r.2).sum();
    (rows, total)
}

/// One volume, with who mounts it.
#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
    /// Bytes; -1 when the engine did not measure.
    pub size: i64,
    /// Containers that reference it, running or not.
    pub refs: i64,
    pub used_by: Vec<String>,
}

/// The volumes `df` lists, by name, with the containers (of `containers`)
/// that mount each.
pub fn volumes(df: &Value, containers: &[ContainerSummary]) -> Vec<Volume> {
    let mut users: HashMap<String, Vec<String>> = HashMap::new();
    for c in containers {
        for m in c.mounts.iter().flatten() {
            if let Some(n) = &m.name {
                users
                    .entry(n.clone())
                    .or_default()
                    .push(container_name(c.names.as_deref()));
            }
        }
    }
    let mut out: Vec<Volume> = json_items(df, "/Volumes")
        .iter()
        .map(|v| {
            let name = json_text(v, "/Name");
            Volume {
                driver: json_text(v, "/Driver"),
                mountpoint: json_text(v, "/Mountpoint"),
                size: v
                    .pointer("/UsageData/Size")
                    .and_then(Value::as_i64)
                    .unwrap_or(-1),
                refs: json_number(v, "/UsageData/RefCount"),
                used_by: users.remove(&name).unwrap_or_default(),
                name,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// What a system prune takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub containers: bool,
    pub images: bool,
    pub all_images: bool,
    pub networks: bool,
    pub volumes: bool,
    pub build_cache: bool,
    /// Only what carries this label (`key` or `key=value`).
    pub label: String,
}

impl Default for Choice {
    fn default() -> Self {
        Choice {
            containers: true,
            images: true,
            all_images: false,
            networks: true,
            volumes: false,
            build_cache: true,
            label: String::new(),
        }
    }
}

/// One thing a prune would remove.
#[derive(Clone, Debug, PartialEq)]
pub struct Doomed {
    pub kind: &'static str,
    pub name: String,
    pub size: i64,
}

fn labelled(item: &Value, label: &str) -> bool {
    label_matches(item.get("Labels").and_then(Value::as_object), label)
}

/// What the chosen prune would remove: from `df`, and `unused_networks`
/// (the engine's list of networks no container uses, label filter applied).
pub fn preview(df: &Value, unused_networks: &Value, c: &Choice) -> Vec<Doomed> {
    let label = c.label.trim();
    let mut out = vec![];
    if c.containers {
        for ct in json_items(df, "/Containers") {
            let state = json_text(ct, "/State");
            if !matches!(state.as_str(), "running" | "paused" | "restarting") && labelled(ct, label)
            {
                out.push(Doomed {
                    kind: "container",
                    name: json_text(ct, "/Names/0").trim_start_matches('/').to_owned(),
                    size: json_number(ct, "/SizeRw"),
                });
            }
        }
    }
    if c.images {
        for im in json_items(df, "/Images") {
            let tags: Vec<String> = json_strings(im, "/RepoTags")
                .into_iter()
                .filter(|t| t != "<none>:<none>")
                .collect();
            let unused = json_number(im, "/Containers") == 0;
            if unused && (c.all_images || tags.is_empty()) && labelled(im, label) {
                let name = tags
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| json_text(im, "/Id").chars().take(19).collect());
                out.push(Doomed {
                    kind: "image",
                    name,
                    size: json_number(im, "/Size") - json_number(im, "/SharedSize").max(0),
                });
            }
        }
    }
    if c.networks {
        for n in unused_networks.as_array().map_or(&[][..], Vec::as_slice) {
            out.push(Doomed {
                kind: "network",
                name: json_text(n, "/Name"),
                size: 0,
            });
        }
    }
    if c.volumes {
        for v in json_items(df, "/Volumes") {
            if json_number(v, "/UsageData/RefCount") == 0 && labelled(v, label) {
                out.push(Doomed {
                    kind: "volume",
                    name: json_text(v, "/Name"),
                    size: json_number(v, "/UsageData/Size").max(0),
                });
            }
        }
    }
    // Build cache has no labels to filter by.
    if c.build_cache && label.is_empty() {
        for b in json_items(df, "/BuildCache") {
            if b.get("InUse") != Some(&Value::Bool(true)) {
                out.push(Doomed {
                    kind: "build cache",
                    name: json_text(b, "/ID"),
                    size: json_number(b, "/Size"),
                });
            }
        }
    }
    out
}

/// One prune of a system prune.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub what: Prune,
    pub filters: BTreeMap<String, Vec<String>>,
    /// Where its answer lists what went.
    pub key: &'static str,
    /// What to call what went.
    pub label: &'static str,
}

/// The prunes a choice makes, with the engine's filters for each, on an
/// engine of API version `api`.
pub fn prunes(c: &Choice, api: ApiVersion) -> Vec<Step> {
    let mut filters = BTreeMap::new();
    if !c.label.trim().is_empty() {
        filters.insert("label".to_owned(), vec![c.label.trim().to_owned()]);
    }
    let step = |what, filters: &BTreeMap<String, Vec<String>>, key, label| Step {
        what,
        filters: filters.clone(),
        key,
        label,
    };
    let mut out = vec![];
    if c.containers {
        out.push(step(
            Prune::Containers,
            &filters,
            "/ContainersDeleted",
            "containers",
        ));
    }
    if c.images {
        let p = if c.all_images {
            Prune::AllUnusedImages
        } else {
            Prune::DanglingImages
        };
        out.push(step(p, &filters, "/ImagesDeleted", "images"));
    }
    if c.networks {
        out.push(step(
            Prune::Networks,
            &filters,
            "/NetworksDeleted",
            "networks",
        ));
    }
    if c.volumes {
        // From API 1.42 a volume prune keeps named volumes unless told
        // otherwise; the preview counts every unused one.
        let mut f = filters.clone();
        if api >= ApiVersion::new(1, 42) {
            f.insert("all".to_owned(), vec!["true".to_owned()]);
        }
        out.push(step(Prune::Volumes, &f, "/VolumesDeleted", "volumes"));
    }
    // Build cache has no labels to filter by.
    if c.build_cache && filters.is_empty() {
        out.push(step(
            Prune::BuildCache,
            &filters,
            "/CachesDeleted",
            "build cache entries",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_engine::models::MountPoint;
    use serde_json::json;

    fn df() -> Value {
        json!({
            "LayersSize": 1000,
            "Images": [
                {"Id": "sha256:aaaaaaaaaaaaaaaaaaaaaaaa", "RepoTags": ["<none>:<none>"], "Containers": 0, "Size": 300, "SharedSize": 100},
                {"Id": "sha256:bb", "RepoTags": ["busybox:latest"], "Containers": 2, "Size": 500, "SharedSize": -1}
            ],
            "Containers": [
                {"Names": ["/web"], "State": "running", "SizeRw": 10},
                {"Names": ["/old"], "State": "exited", "SizeRw": 20, "Labels": {"team": "ops"}}
            ],
            "Volumes": [
                {"Name": "data", "Driver": "local", "Mountpoint": "/v/data", "UsageData": {"Size": 50, "RefCount": 1}},
                {"Name": "spare", "Driver": "local", "Mountpoint": "/v/spare", "UsageData": {"Size": -1, "RefCount": 0}}
            ],
            "BuildCache": [{"ID": "c1", "Size": 7, "InUse": false}, {"ID": "c2", "Size": 9, "InUse": true}]
        })
    }

    #[test]
    fn usage_by_kind_counts_layers_once() {
        let (rows, total) = usage(&df());
        assert_eq!(
            rows,
            [
                ("Images", 2, 1000),
                ("Containers", 2, 30),
                ("Volumes", 2, 50),
                ("Build cache", 2, 16)
            ]
        );
        assert_eq!(total, 1096);
        assert_eq!(
            usage(&Value::Null),
            (
                vec![
                    ("Images", 0, 0),
                    ("Containers", 0, 0),
                    ("Volumes", 0, 0),
                    ("Build cache", 0, 0)
                ],
                0
            )
        );
    }

    #[test]
    fn volumes_with_who_mounts_them() {
        let user = ContainerSummary {
            names: Some(vec!["/web".into()]),
            mounts: Some(vec![MountPoint {
                name: Some("data".into()),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let vols = volumes(&df(), &[user]);
        assert_eq!(vols[0].used_by, ["web"]);
        assert_eq!((vols[0].size, vols[0].refs), (50, 1));
        assert_eq!((vols[1].name.as_str(), vols[1].size), ("spare", -1));
    }

    #[test]
    fn a_system_prune_is_a_prune_per_kind() {
        let what = |c: &Choice, v| {
            prunes(c, v)
                .into_iter()
                .map(|s| s.label)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            what(&Choice::default(), ApiVersion::MIN),
            ["containers", "images", "networks", "build cache entries"]
        );
        let labelled = Choice {
            label: "team".into(),
            volumes: true,
            ..Choice::default()
        };
        assert_eq!(
            what(&labelled, ApiVersion::MIN),
            ["containers", "images", "networks", "volumes"]
        );
        let volumes = |v| {
            prunes(&labelled, v)
                .into_iter()
                .find(|s| s.what == Prune::Volumes)
                .unwrap()
                .filters
        };
        assert!(!volumes(ApiVersion::new(1, 41)).contains_key("all"));
        assert_eq!(volumes(ApiVersion::new(1, 44))["all"], ["true"]);
        assert_eq!(volumes(ApiVersion::new(1, 44))["label"], ["team"]);
    }

    #[test]
    fn the_preview_is_what_the_engine_would_prune() {
        let nets = json!([{"Name": "lonely"}]);
        let names = |d: Vec<Doomed>| {
            d.into_iter()
                .map(|d| format!("{} {} {}", d.kind, d.name, d.size))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(preview(&df(), &nets, &Choice::default())),
            [
                "container old 20",
                "image sha256:aaaaaaaaaaaa 200",
                "network lonely 0",
                "build cache c1 7"
            ]
        );
        let everything = Choice {
            all_images: true,
            volumes: true,
            ..Choice::default()
        };
        let got = names(preview(&df(), &json!([]), &everything));
        assert!(got.contains(&"volume spare 0".to_owned()), "{got:?}");
        assert!(
            !got.iter().any(|d| d.contains("busybox")),
            "used images stay: {got:?}"
        );
        let labelled = Choice {
            label: "team=ops".into(),
            volumes: true,
            ..Choice::default()
        };
        assert_eq!(
            names(preview(&df(), &json!([]), &labelled)),
            ["container old 20"]
        );
    }
}
