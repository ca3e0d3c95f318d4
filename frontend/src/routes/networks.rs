//! Volumes and networks: lists kept current by the engine's events, create
//! forms, inspect, remove after asking, prune with a preview, and for
//! networks connect and disconnect of containers (with aliases).

use std::collections::{BTreeMap, HashMap};

use berth_engine::endpoints::Prune;
use berth_engine::ApiVersion;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Map, Value};

use crate::api::{self, ApiError};
use crate::app::Engine;
use crate::live::follow_events;
use crate::ui::{
    act_then, bytes, container_name, json_strings, kept_rows, Call, Confirm, Notices, Problem,
};

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `k=v` lines as a JSON object (blank lines skipped).
fn pairs(lines: &str) -> Map<String, Value> {
    lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), json!(v.trim())),
            None => (l.to_owned(), json!("")),
        })
        .collect()
}

fn follow(engine: Engine, kinds: &[&str], reload: impl Fn() + Clone + 'static) -> RwSignal<bool> {
    let mut f = BTreeMap::new();
    f.insert(
        "type".to_owned(),
        kinds.iter().map(|k| (*k).to_owned()).collect(),
    );
    follow_events(engine, f, reload)
}

/// What a prune would remove, and the button that asks to.
#[component]
fn PrunePreview(
    what: &'static str,
    names: Signal<Vec<String>>,
    on_prune: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let none = move || names.with(Vec::is_empty);
    view! {
        <p data-prune-preview="">{move || names.with(|u| if u.is_empty() {
            format!("No unused {what}.")
        } else {
            format!("Unused, would go: {}", u.join(", "))
        })}</p>
        <button class="danger" disabled=none on:click=move |_| on_prune()>{format!("Prune unused {what}…")}</button>
    }
}

#[derive(Clone, PartialEq)]
struct Volume {
    name: String,
    driver: String,
    mountpoint: String,
    size: i64,
    refs: i64,
    used_by: Vec<String>,
}

async fn load_volumes(engine: Engine) -> Result<(Vec<Volume>, ApiVersion), ApiError> {
    let api = engine.api().await?;
    let df = api::call(api.system_df()).await?;
    let containers = api::call(api.containers(true)).await?;
    let mut users: HashMap<String, Vec<String>> = HashMap::new();
    for c in &containers {
        for m in c.mounts.iter().flatten() {
            if let Some(n) = &m.name {
                users.entry(n.clone()).or_default().push(container_name(c));
            }
        }
    }
    let mut out: Vec<Volume> = df["Volumes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|v| {
            let name = text(v, "/Name");
            Volume {
                driver: text(v, "/Driver"),
                mountpoint: text(v, "/Mountpoint"),
                size: v
                    .pointer("/UsageData/Size")
                    .and_then(Value::as_i64)
                    .unwrap_or(-1),
                refs: v
                    .pointer("/UsageData/RefCount")
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
                used_by: users.remove(&name).unwrap_or_default(),
                name,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((out, api.version))
}

#[component]
pub fn Volumes() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();
    let volumes = LocalResource::new(move || load_volumes(engine));
    let live = follow(engine, &["volume", "container"], move || volumes.refetch());
    let (name, driver, options, labels) = (
        RwSignal::new(String::new()),
        RwSignal::new("local".to_owned()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let removing = RwSignal::new(None::<String>);
    let pruning = RwSignal::new(false);
    let summary = RwSignal::new(None::<String>);
    let detail = RwSignal::new(None::<(String, String)>);

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({
            "Name": name.get_untracked().trim(),
            "Driver": driver.get_untracked().trim(),
            "DriverOpts": pairs(&options.get_untracked()),
            "Labels": pairs(&labels.get_untracked()),
        });
        spawn_local(async move {
            match async { api::call(engine.api().await?.volume_create(&body)).await }.await {
                Ok(_) => {
                    name.set(String::new());
                    volumes.refetch();
                }
                Err(e) => notices.error(format!("Could not create the volume: {e}")),
            }
        });
    };
    let remove = move |n: String| {
        removing.set(None);
        let what = format!("remove {n}");
        act_then(
            engine,
            notices,
            what,
            Box::new(move |api| api.volume_remove(&n, false)),
            move || volumes.refetch(),
        );
    };
    let prune = move || {
        pruning.set(false);
        let version = volumes.get_untracked().and_then(Result::ok).map(|v| v.1);
        spawn_local(async move {
            let mut f = BTreeMap::new();
            if version.is_some_and(|v| v >= ApiVersion::new(1, 42)) {
                f.insert("all".to_owned(), vec!["true".to_owned()]);
            }
            match async { api::call(engine.api().await?.prune(Prune::Volumes, &f)).await }.await {
                Ok(a) => {
                    let gone = json_strings(a.get("VolumesDeleted"));
                    summary.set(Some(format!(
                        "Removed {} volumes ({}); {} reclaimed.",
                        gone.len(),
                        gone.join(", "),
                        bytes(a["SpaceReclaimed"].as_i64().unwrap_or(0))
                    )));
                }
                Err(e) => notices.error(format!("Could not prune volumes: {e}")),
            }
            volumes.refetch();
        });
    };
    let inspect = move |n: String| {
        spawn_local(async move {
            let got = async { api::call(engine.api().await?.volume_inspect_raw(&n)).await }.await;
            detail.set(Some((
                n,
                got.map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
                    .unwrap_or_else(|e| e.to_string()),
            )));
        });
    };
    // Keyed rows, kept while a reload is under way (see images.rs).
    let vol_rows = kept_rows(volumes);
    let unused = move || {
        volumes
            .get()
            .and_then(Result::ok)
            .map(|(v, _)| {
                v.into_iter()
                    .filter(|v| v.refs == 0)
                    .map(|v| v.name)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };

    view! {
        <h1>"Volumes"</h1>
        <form class="toolbar" on:submit=create>
            <input placeholder="name (optional)" aria-label="Volume name" data-volume-name="" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <input class="narrow" placeholder="driver" aria-label="Driver" prop:value=move || driver.get() on:input=move |ev| driver.set(event_target_value(&ev))/>
            <input placeholder="options k=v, one a line" aria-label="Driver options" on:input=move |ev| options.set(event_target_value(&ev))/>
            <input placeholder="labels k=v" aria-label="Labels" on:input=move |ev| labels.set(event_target_value(&ev))/>
            <button type="submit" class="primary" data-action="create-volume">"Create"</button>
        </form>
        <Show when=move || !live.get()><p class="banner" data-problem="reconnecting">"Lost the live connection to the engine; reconnecting…"</p></Show>
        {move || summary.get().map(|s| view! { <p class="ok">{s}</p> })}
        {move || volumes.get().and_then(Result::err).map(|err| view! { <Problem err retry=move || volumes.refetch()/> })}
        {move || vol_rows.with(|r| r.as_ref().is_some_and(Vec::is_empty)).then(|| view! { <p class="empty">"No volumes yet."</p> })}
        {move || vol_rows.with(Option::is_none).then(|| view! { <p class="loading">"Loading volumes…"</p> })}
        <table class="list" data-volumes="" hidden=move || vol_rows.with(|r| r.as_ref().is_none_or(Vec::is_empty))>
            <thead><tr><th>"Name"</th><th>"Driver"</th><th>"Mountpoint"</th><th>"Size"</th><th>"Used by"</th><th></th></tr></thead>
            <tbody>
                <For each=move || vol_rows.get().unwrap_or_default() key=|v| (v.name.clone(), v.size, v.used_by.clone()) let:v>
                    {
                        let (a, b) = (v.name.clone(), v.name.clone());
                        view! {
                            <tr data-volume=v.name.clone()>
                                <td data-label="Name" class="name">{v.name.clone()}</td>
                                <td data-label="Driver">{v.driver}</td>
                                <td data-label="Mountpoint"><code>{v.mountpoint}</code></td>
                                <td data-label="Size">{if v.size >= 0 { bytes(v.size) } else { "—".into() }}</td>
                                <td data-label="Used by">{if v.used_by.is_empty() { "—".to_owned() } else { v.used_by.join(", ") }}</td>
                                <td><div class="actions">
                                    <button on:click=move |_| inspect(a.clone())>"inspect"</button>
                                    <button class="danger" data-action="remove" on:click=move |_| removing.set(Some(b.clone()))>"remove"</button>
                                </div></td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        <h2>"Prune"</h2>
        <PrunePreview what="volumes" names=Signal::derive(unused) on_prune=move || pruning.set(true)/>
        {move || removing.get().map(|n| view! { <Confirm title=format!("Remove {n}?") body="Its data is deleted for good.".into() on_cancel=move || removing.set(None) on_confirm=move || remove(n.clone())/> })}
        {move || pruning.get().then(|| view! { <Confirm title="Prune unused volumes?".into() body=format!("{} volumes and their data go for good.", unused().len()) on_cancel=move || pruning.set(false) on_confirm=prune/> })}
        {move || detail.get().map(|(n, json)| view! {
            <section class="detail"><h2>{n}" "<button class="ghost" aria-label="Close" on:click=move |_| detail.set(None)>"×"</button></h2><pre class="inspect-hits">{json}</pre></section>
        })}
    }
}

#[derive(Clone, PartialEq)]
struct Network {
    id: String,
    name: String,
    driver: String,
    scope: String,
    subnet: String,
    internal: bool,
    containers: Vec<(String, String)>,
}

async fn load_networks(engine: Engine) -> Result<(Vec<Network>, Vec<(String, String)>), ApiError> {
    let api = engine.api().await?;
    let list = api::call(api.networks_raw()).await?;
    let containers = api::call(api.containers(true)).await?;
    let mut members: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for c in &containers {
        let nets = c
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.as_ref());
        for (_, ep) in nets.into_iter().flatten() {
            if let Some(net) = &ep.network_id {
                members
                    .entry(net.clone())
                    .or_default()
                    .push((c.id.clone().unwrap_or_default(), container_name(c)));
            }
        }
    }
    let mut out: Vec<Network> = list
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|n| {
            let id = text(n, "/Id");
            Network {
                name: text(n, "/Name"),
                driver: text(n, "/Driver"),
                scope: text(n, "/Scope"),
                subnet: text(n, "/IPAM/Config/0/Subnet"),
                internal: n["Internal"].as_bool().unwrap_or(false),
                containers: members.remove(&id).unwrap_or_default(),
                id,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let all = containers
        .iter()
        .map(|c| (c.id.clone().unwrap_or_default(), container_name(c)))
        .collect();
    Ok((out, all))
}

#[component]
pub fn Networks() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();
    let networks = LocalResource::new(move || load_networks(engine));
    let live = follow(engine, &["network", "container"], move || {
        networks.refetch()
    });
    let (name, driver, subnet, gateway, internal, labels) = (
        RwSignal::new(String::new()),
        RwSignal::new("bridge".to_owned()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(false),
        RwSignal::new(String::new()),
    );
    let removing = RwSignal::new(None::<(String, String)>);
    // The network being connected to, and the containers to choose from, read
    // when the dialog opens: a reload while it is open must not rebuild it.
    let connecting = RwSignal::new(None::<(String, String, Vec<(String, String)>)>);
    let pruning = RwSignal::new(false);
    let unused = LocalResource::new(move || async move {
        let api = engine.api().await?;
        api::call(api.networks_unused(&BTreeMap::new())).await
    });
    let summary = RwSignal::new(None::<String>);
    let reload = move || {
        networks.refetch();
        unused.refetch();
    };

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut body = json!({
            "Name": name.get_untracked().trim(),
            "Driver": driver.get_untracked().trim(),
            "Internal": internal.get_untracked(),
            "Labels": pairs(&labels.get_untracked()),
        });
        let (s, g) = (
            subnet.get_untracked().trim().to_owned(),
            gateway.get_untracked().trim().to_owned(),
        );
        if !s.is_empty() {
            let mut cfg = json!({ "Subnet": s });
            if !g.is_empty() {
                cfg["Gateway"] = json!(g);
            }
            body["IPAM"] = json!({ "Config": [cfg] });
        }
        spawn_local(async move {
            match async { api::call(engine.api().await?.network_create(&body)).await }.await {
                Ok(_) => name.set(String::new()),
                Err(e) => notices.error(format!("Could not create the network: {e}")),
            }
            reload();
        });
    };
    let run = move |what: String, call: Call| act_then(engine, notices, what, call, reload);
    let prune = move || {
        pruning.set(false);
        spawn_local(async move {
            match async {
                api::call(engine.api().await?.prune(Prune::Networks, &BTreeMap::new())).await
            }
            .await
            {
                Ok(a) => {
                    let gone = json_strings(a.get("NetworksDeleted"));
                    summary.set(Some(format!(
                        "Removed {} networks: {}",
                        gone.len(),
                        gone.join(", ")
                    )));
                }
                Err(e) => notices.error(format!("Could not prune networks: {e}")),
            }
            reload();
        });
    };
    let net_rows = kept_rows(networks);
    let unused_names = move || {
        unused
            .get()
            .and_then(Result::ok)
            .and_then(|v| {
                v.as_array()
                    .map(|a| a.iter().map(|n| text(n, "/Name")).collect::<Vec<_>>())
            })
            .unwrap_or_default()
    };

    view! {
        <h1>"Networks"</h1>
        <form class="toolbar" on:submit=create>
            <input placeholder="name" aria-label="Network name" data-network-name="" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <input class="narrow" placeholder="driver" aria-label="Driver" prop:value=move || driver.get() on:input=move |ev| driver.set(event_target_value(&ev))/>
            <input class="narrow" placeholder="subnet" aria-label="Subnet" on:input=move |ev| subnet.set(event_target_value(&ev))/>
            <input class="narrow" placeholder="gateway" aria-label="Gateway" on:input=move |ev| gateway.set(event_target_value(&ev))/>
            <label class="check"><input type="checkbox" on:change=move |ev| internal.set(event_target_checked(&ev))/>" internal"</label>
            <input placeholder="labels k=v" aria-label="Labels" on:input=move |ev| labels.set(event_target_value(&ev))/>
            <button type="submit" class="primary" data-action="create-network">"Create"</button>
        </form>
        <Show when=move || !live.get()><p class="banner" data-problem="reconnecting">"Lost the live connection to the engine; reconnecting…"</p></Show>
        {move || summary.get().map(|s| view! { <p class="ok">{s}</p> })}
        {move || networks.get().and_then(Result::err).map(|err| view! { <Problem err retry=reload/> })}
        {move || net_rows.with(Option::is_none).then(|| view! { <p class="loading">"Loading networks…"</p> })}
        <table class="list" data-networks-table="" hidden=move || net_rows.with(Option::is_none)>
            <thead><tr><th>"Name"</th><th>"Driver"</th><th>"Scope"</th><th>"Subnet"</th><th>"Containers"</th><th></th></tr></thead>
            <tbody>
                <For each=move || net_rows.get().unwrap_or_default() key=|n| (n.id.clone(), n.containers.clone()) let:n>
                    {
                        let builtin = matches!(n.name.as_str(), "bridge" | "host" | "none");
                        let (id1, id2) = (n.id.clone(), n.id.clone());
                        let (name1, name2) = (n.name.clone(), n.name.clone());
                        view! {
                            <tr data-network=n.name.clone()>
                                <td data-label="Name" class="name">{n.name.clone()}{n.internal.then_some(" (internal)")}</td>
                                <td data-label="Driver">{n.driver}</td>
                                <td data-label="Scope">{n.scope}</td>
                                <td data-label="Subnet"><code>{n.subnet}</code></td>
                                <td data-label="Containers"><div class="actions">{n.containers.into_iter().map(|(cid, cname)| {
                                    let (net, label) = (n.id.clone(), cname.clone());
                                    view! { <span class="chip">{cname}<button class="ghost" aria-label=format!("Disconnect {label}") data-disconnect=label.clone()
                                        on:click=move |_| { let (net, cid) = (net.clone(), cid.clone()); run(format!("disconnect {label}"), Box::new(move |api| api.network_disconnect(&net, &cid, false))) }>"×"</button></span> }
                                }).collect_view()}</div></td>
                                <td><div class="actions">
                                    <button data-action="connect" disabled=n.name == "host" || n.name == "none" on:click=move |_| connecting.set(Some((id1.clone(), name1.clone(), networks.get_untracked().and_then(Result::ok).map(|r| r.1).unwrap_or_default())))>"connect…"</button>
                                    <button class="danger" data-action="remove" disabled=builtin on:click=move |_| removing.set(Some((id2.clone(), name2.clone())))>"remove"</button>
                                </div></td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        <h2>"Prune"</h2>
        <PrunePreview what="networks" names=Signal::derive(unused_names) on_prune=move || pruning.set(true)/>
        {move || connecting.get().map(|(id, net, all)| {
            let (picker, alias) = (NodeRef::<leptos::html::Select>::new(), RwSignal::new(String::new()));
            view! {
                <div class="backdrop" on:click=move |_| connecting.set(None)>
                    <form class="dialog" role="dialog" aria-modal="true" on:click=|ev| ev.stop_propagation()
                        on:submit=move |ev| {
                            ev.prevent_default();
                            // Read before closing: the dialog owns these signals.
                            // The select's own value: what is shown is what is sent.
                            let c = picker.get_untracked().map(|p| p.value()).unwrap_or_default();
                            let id = id.clone();
                            let aliases: Vec<String> = alias.get_untracked().split([',', ' ']).filter(|a| !a.is_empty()).map(str::to_owned).collect();
                            connecting.set(None);
                            run("connect".into(), Box::new(move |api| api.network_connect(&id, &c, &aliases)));
                        }>
                        <h2>"Connect a container to " {net}</h2>
                        <label for="connect-container">"Container"</label>
                        <select id="connect-container" data-connect-container="" node_ref=picker>
                            {all.into_iter().map(|(cid, cname)| view! { <option value=cid>{cname}</option> }).collect_view()}
                        </select>
                        <label for="connect-alias">"Aliases (optional)"</label>
                        <input id="connect-alias" data-connect-alias="" on:input=move |ev| alias.set(event_target_value(&ev))/>
                        <div class="buttons">
                            <button type="button" on:click=move |_| connecting.set(None)>"Cancel"</button>
                            <button type="submit" class="primary" data-action="confirm-connect">"Connect"</button>
                        </div>
                    </form>
                </div>
            }
        })}
        {move || removing.get().map(|(id, n)| view! { <Confirm title=format!("Remove {n}?") body="Containers must be disconnected first.".into() on_cancel=move || removing.set(None)
            on_confirm=move || { let (id, what) = (id.clone(), format!("remove {n}")); removing.set(None); run(what, Box::new(move |api| api.network_remove(&id))); }/> })}
        {move || pruning.get().then(|| view! { <Confirm title="Prune unused networks?".into() body=format!("{} networks go.", unused_names().len()) on_cancel=move || pruning.set(false) on_confirm=prune/> })}
    }
}
