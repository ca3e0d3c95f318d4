//! The engine as a whole: its info and version in full, disk usage by kind
//! with totals, and a system-wide prune that previews what would go (from
//! the same figures) and sums up what went.

use std::collections::BTreeMap;

use berth_engine::endpoints::Prune;
use berth_engine::ApiVersion;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, ApiError};
use crate::app::Engine;
use crate::ui::{bytes, Problem};

/// What the engine reports, loaded together.
#[derive(Clone, PartialEq)]
struct Facts {
    info: Value,
    version: Value,
    df: Value,
    networks: Value,
    api: ApiVersion,
}

/// One thing a prune would remove.
#[derive(Clone, PartialEq)]
struct Doomed {
    kind: &'static str,
    name: String,
    size: i64,
}

fn labels_match(item: &Value, label: &str) -> bool {
    crate::ui::label_matches(item.get("Labels").and_then(Value::as_object), label)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn num(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The choices of the prune form.
#[derive(Clone, PartialEq)]
struct Choice {
    containers: bool,
    images: bool,
    all_images: bool,
    networks: bool,
    volumes: bool,
    build_cache: bool,
    label: String,
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

/// What the chosen prune would remove, read off the disk-usage figures the
/// engine's prune goes by.
fn preview(f: &Facts, c: &Choice) -> Vec<Doomed> {
    let label = c.label.trim();
    let mut out = vec![];
    if c.containers {
        for ct in list(&f.df, "Containers") {
            let state = text(ct, "State");
            if !matches!(state.as_str(), "running" | "paused" | "restarting")
                && labels_match(ct, label)
            {
                let name = list(ct, "Names")
                    .first()
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                out.push(Doomed {
                    kind: "container",
                    name: name.trim_start_matches('/').to_owned(),
                    size: num(ct, "SizeRw"),
                });
            }
        }
    }
    if c.images {
        for im in list(&f.df, "Images") {
            let tags: Vec<&str> = list(im, "RepoTags")
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "<none>:<none>")
                .collect();
            let unused = num(im, "Containers") == 0;
            if unused && (c.all_images || tags.is_empty()) && labels_match(im, label) {
                let name = tags.first().map_or_else(
                    || text(im, "Id").chars().take(19).collect(),
                    |t| (*t).to_owned(),
                );
                out.push(Doomed {
                    kind: "image",
                    name,
                    size: num(im, "Size") - num(im, "SharedSize").max(0),
                });
            }
        }
    }
    if c.networks {
        for n in f.networks.as_array().map_or(&[][..], Vec::as_slice) {
            out.push(Doomed {
                kind: "network",
                name: text(n, "Name"),
                size: 0,
            });
        }
    }
    if c.volumes {
        for v in list(&f.df, "Volumes") {
            let usage = v.get("UsageData").cloned().unwrap_or_default();
            if num(&usage, "RefCount") == 0 && labels_match(v, label) {
                out.push(Doomed {
                    kind: "volume",
                    name: text(v, "Name"),
                    size: num(&usage, "Size").max(0),
                });
            }
        }
    }
    // Build cache has no labels to filter by.
    if c.build_cache && label.is_empty() {
        for b in list(&f.df, "BuildCache") {
            if b.get("InUse") != Some(&Value::Bool(true)) {
                out.push(Doomed {
                    kind: "build cache",
                    name: text(b, "ID"),
                    size: num(b, "Size"),
                });
            }
        }
    }
    out
}

#[component]
pub fn System() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let choice = RwSignal::new(Choice::default());
    let facts = LocalResource::new(move || {
        let label = choice.with(|c| c.label.trim().to_owned());
        async move {
            let api = engine.api().await?;
            let mut filters = BTreeMap::new();
            if !label.is_empty() {
                filters.insert("label".to_owned(), vec![label]);
            }
            Ok::<_, ApiError>(Facts {
                info: api::call(api.info_raw()).await?,
                version: api::call(api.version_raw()).await?,
                df: api::call(api.system_df()).await?,
                networks: api::call(api.networks_unused(&filters)).await?,
                api: api.version,
            })
        }
    });
    let confirming = RwSignal::new(false);
    let summary = RwSignal::new(None::<Result<String, String>>);
    let running = RwSignal::new(false);

    let prune = move || {
        confirming.set(false);
        running.set(true);
        let c = choice.get_untracked();
        let api_version = facts.get_untracked().and_then(Result::ok).map(|f| f.api);
        spawn_local(async move {
            let result = async {
                let api = engine.api().await.map_err(|e| e.to_string())?;
                let mut filters = BTreeMap::new();
                if !c.label.trim().is_empty() {
                    filters.insert("label".to_owned(), vec![c.label.trim().to_owned()]);
                }
                let mut kinds = vec![];
                if c.containers {
                    kinds.push((Prune::Containers, "ContainersDeleted", "containers"));
                }
                if c.images {
                    let p = if c.all_images {
                        Prune::AllUnusedImages
                    } else {
                        Prune::DanglingImages
                    };
                    kinds.push((p, "ImagesDeleted", "images"));
                }
                if c.networks {
                    kinds.push((Prune::Networks, "NetworksDeleted", "networks"));
                }
                if c.volumes {
                    kinds.push((Prune::Volumes, "VolumesDeleted", "volumes"));
                }
                if c.build_cache && filters.is_empty() {
                    kinds.push((Prune::BuildCache, "CachesDeleted", "build cache entries"));
                }
                let (mut parts, mut space) = (vec![], 0i64);
                for (what, key, label) in kinds {
                    let mut f = filters.clone();
                    // From API 1.42 a volume prune keeps named volumes unless
                    // told otherwise; the preview counts every unused one.
                    if what == Prune::Volumes
                        && api_version.is_some_and(|v| v >= ApiVersion::new(1, 42))
                    {
                        f.insert("all".to_owned(), vec!["true".to_owned()]);
                    }
                    let answer = api::call(api.prune(what, &f))
                        .await
                        .map_err(|e| format!("Could not prune {label}: {e}"))?;
                    let gone: Vec<String> = list(&answer, key)
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .collect();
                    space += num(&answer, "SpaceReclaimed");
                    parts.push(format!(
                        "{} {label}{}",
                        gone.len(),
                        if gone.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", gone.join(", "))
                        }
                    ));
                }
                Ok::<_, String>(format!(
                    "Removed {}; {} reclaimed.",
                    parts.join("; "),
                    bytes(space)
                ))
            }
            .await;
            summary.set(Some(result));
            running.set(false);
            facts.refetch();
        });
    };

    let check = move |label: &'static str, get: fn(&Choice) -> bool, set: fn(&mut Choice, bool)| {
        view! {
            <label class="check"><input type="checkbox" data-prune=label prop:checked=move || choice.with(get)
                on:change=move |ev| { let on = event_target_checked(&ev); choice.update(|c| set(c, on)); }/>{format!(" {label}")}</label>
        }
    };

    view! {
        <h1>"System"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Asking the engine…"</p> }>
            {move || Suspend::new(async move {
                match facts.await {
                    Err(err) => view! { <Problem err retry=move || facts.refetch()/> }.into_any(),
                    Ok(f) => {
                        let usage = [("Images", "Images"), ("Containers", "Containers"), ("Volumes", "Volumes"), ("Build cache", "BuildCache")]
                            .into_iter()
                            .map(|(label, key)| {
                                let items = list(&f.df, key);
                                let size: i64 = items.iter().map(|i| match key {
                                    "Containers" => num(i, "SizeRw"),
                                    "Volumes" => num(i.get("UsageData").unwrap_or(&Value::Null), "Size").max(0),
                                    "Images" => num(i, "Size") - num(i, "SharedSize").max(0),
                                    _ => num(i, "Size"),
                                }).sum();
                                (label, items.len(), size)
                            })
                            .collect::<Vec<_>>();
                        let layers = num(&f.df, "LayersSize");
                        let total: i64 = usage.iter().filter(|u| u.0 != "Images").map(|u| u.2).sum::<i64>() + layers;
                        let f2 = f.clone();
                        let preview_list = move || preview(&f2, &choice.get());
                        view! {
                            <h2>"Disk usage"</h2>
                            <table class="numbers" data-df="">
                                <tbody>
                                    {usage.into_iter().map(|(label, n, size)| view! {
                                        <tr><th>{label}</th><td>{n.to_string()}</td><td>{if label == "Images" { bytes(layers) } else { bytes(size) }}</td></tr>
                                    }).collect_view()}
                                    <tr><th>"Total"</th><td></td><td data-df-total="">{bytes(total)}</td></tr>
                                </tbody>
                            </table>
                            <h2>"Prune"</h2>
                            <div class="toolbar">
                                {check("containers", |c| c.containers, |c, v| c.containers = v)}
                                {check("images", |c| c.images, |c, v| c.images = v)}
                                {check("all unused images", |c| c.all_images, |c, v| c.all_images = v)}
                                {check("networks", |c| c.networks, |c, v| c.networks = v)}
                                {check("volumes", |c| c.volumes, |c, v| c.volumes = v)}
                                {check("build cache", |c| c.build_cache, |c, v| c.build_cache = v)}
                                <input placeholder="only with label key[=value]" aria-label="Label filter" data-prune-label=""
                                    prop:value=move || choice.with(|c| c.label.clone())
                                    on:change=move |ev| { let v = event_target_value(&ev); choice.update(|c| c.label = v); }/>
                            </div>
                            {move || {
                                let items = preview_list();
                                let space: i64 = items.iter().map(|d| d.size).sum();
                                let n = items.len();
                                view! {
                                    <p data-prune-summary="">{format!("{n} items would go, about {} reclaimed.", bytes(space))}</p>
                                    <ul class="plain" data-prune-preview="">
                                        {items.into_iter().map(|d| { let shown = d.name.clone(); view! { <li data-doomed=d.name><span class="muted">{d.kind}</span>" "{shown}" "<span class="muted">{if d.size > 0 { bytes(d.size) } else { String::new() }}</span></li> } }).collect_view()}
                                    </ul>
                                    <button class="danger" data-action="prune" disabled=move || n == 0 || running.get() on:click=move |_| confirming.set(true)>"Prune…"</button>
                                }
                            }}
                            {move || summary.get().map(|s| match s {
                                Ok(t) => view! { <p class="ok" data-prune-done="">{t}</p> }.into_any(),
                                Err(e) => view! { <p class="warn" data-prune-done="">{e}</p> }.into_any(),
                            })}
                            {move || confirming.get().then(|| view! {
                                <div class="backdrop" on:click=move |_| confirming.set(false)>
                                    <div class="dialog" role="dialog" aria-modal="true" on:click=|ev| ev.stop_propagation()
                                        on:keydown=move |ev| if ev.key() == "Escape" { confirming.set(false) }>
                                        <h2>"Prune?"</h2>
                                        <p>{move || format!("{} items, as listed, are removed for good.", preview_list_len(&doomed_now(facts), &choice.get()))}</p>
                                        <div class="buttons">
                                            <button autofocus on:click=move |_| confirming.set(false)>"Cancel"</button>
                                            <button class="danger" data-action="confirm-prune" on:click=move |_| prune()>"Prune"</button>
                                        </div>
                                    </div>
                                </div>
                            })}
                            <h2>"Engine"</h2>
                            <details open><summary>"Version"</summary><JsonFacts value=f.version.clone()/></details>
                            <details><summary>"Info"</summary><JsonFacts value=f.info.clone()/></details>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

fn doomed_now(facts: LocalResource<Result<Facts, ApiError>>) -> Option<Facts> {
    facts.get_untracked().and_then(Result::ok)
}

fn preview_list_len(f: &Option<Facts>, c: &Choice) -> usize {
    f.as_ref().map_or(0, |f| preview(f, c).len())
}

/// A JSON object as a table: scalars as they are, the rest as JSON.
#[component]
fn JsonFacts(value: Value) -> impl IntoView {
    let rows: Vec<(String, String)> = value
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let shown = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), shown)
                })
                .collect()
        })
        .unwrap_or_default();
    view! {
        <dl class="kv facts-json">
            {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd><code>{v}</code></dd> }).collect_view()}
        </dl>
    }
}
