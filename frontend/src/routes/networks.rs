//! Networks: who is on which, a create form, connect and disconnect of
//! containers (with aliases), remove after asking, and prune with a
//! preview. Kept current by the engine's events.

use std::collections::{BTreeMap, HashMap};

use berth_engine::endpoints::Prune;
use berth_engine::models::ContainerSummary;
use leptos::prelude::*;
use serde_json::{json, Value};

use crate::api::{self, ApiError, Engine};
use crate::live::{follow_events, of_types};
use crate::state::containers::container_name;
use crate::state::json::{json_items, json_strings, json_text, pairs};
use crate::ui::dialog::{Confirm, Dialog};
use crate::ui::{
    act_then, kept_rows, named, refusal, Call, Notices, Problem, PrunePreview, Reconnecting,
};

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
    let list = api::call(api.networks(&BTreeMap::new())).await?;
    let containers = api::call(api.containers::<ContainerSummary>(true)).await?;
    let mut members: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for c in &containers {
        let nets = c
            .network_settings
            .as_ref()
            .and_then(|n| n.networks.as_ref());
        for (_, ep) in nets.into_iter().flatten() {
            if let Some(net) = &ep.network_id {
                members.entry(net.clone()).or_default().push((
                    c.id.clone().unwrap_or_default(),
                    container_name(c.names.as_deref()),
                ));
            }
        }
    }
    let mut out: Vec<Network> = json_items(&list, "")
        .iter()
        .map(|n| {
            let id = json_text(n, "/Id");
            Network {
                name: json_text(n, "/Name"),
                driver: json_text(n, "/Driver"),
                scope: json_text(n, "/Scope"),
                subnet: json_text(n, "/IPAM/Config/0/Subnet"),
                internal: json_text(n, "/Internal") == "true",
                containers: members.remove(&id).unwrap_or_default(),
                id,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let all = containers
        .iter()
        .map(|c| {
            (
                c.id.clone().unwrap_or_default(),
                container_name(c.names.as_deref()),
            )
        })
        .collect();
    Ok((out, all))
}

#[component]
pub fn Networks() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let networks = LocalResource::new(move || load_networks(engine));
    let live = follow_events(engine, of_types(&["network", "container"]), move || {
        networks.refetch()
    });
    let notices = expect_context::<Notices>();
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
        act_then(
            engine,
            notices,
            "create the network".into(),
            move |api| api.network_create(&body),
            move |made| {
                if made.is_some() {
                    name.set(String::new());
                }
                reload();
            },
        );
    };
    let run =
        move |what: String, call: Call| act_then(engine, notices, what, call, move |_| reload());
    let prune = move || {
        pruning.set(false);
        act_then(
            engine,
            notices,
            "prune networks".into(),
            |api| api.prune(Prune::Networks, &BTreeMap::new()),
            move |answer| {
                if let Some(a) = answer {
                    let gone = json_strings(&a, "/NetworksDeleted");
                    summary.set(Some(format!(
                        "Removed {} networks: {}",
                        gone.len(),
                        gone.join(", ")
                    )));
                }
                reload();
            },
        );
    };
    let net_rows = kept_rows(networks);
    let unused_names = move || {
        unused
            .get()
            .and_then(Result::ok)
            .map(|v| {
                json_items(&v, "")
                    .iter()
                    .map(|n| json_text(n, "/Name"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };

    let create_refused = refusal(engine, |api| api.network_create(&Value::Null));
    let connect_refused = refusal(engine, |api| api.network_connect("x", "y", &[]));
    let disconnect_refused = refusal(engine, |api| api.network_disconnect("x", "y", false));
    let remove_refused = refusal(engine, |api| api.network_remove("x"));
    let prune_refused = refusal(engine, |api| api.prune(Prune::Networks, &BTreeMap::new()));
    view! {
        <h1>"Networks"</h1>
        <form class="toolbar" on:submit=create>
            <input placeholder="name" aria-label="Network name" data-network-name="" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <input class="narrow" placeholder="driver" aria-label="Driver" prop:value=move || driver.get() on:input=move |ev| driver.set(event_target_value(&ev))/>
            <input class="narrow" placeholder="subnet" aria-label="Subnet" on:input=move |ev| subnet.set(event_target_value(&ev))/>
            <input class="narrow" placeholder="gateway" aria-label="Gateway" on:input=move |ev| gateway.set(event_target_value(&ev))/>
            <label class="check"><input type="checkbox" on:change=move |ev| internal.set(event_target_checked(&ev))/>" internal"</label>
            <input placeholder="labels k=v" aria-label="Labels" on:input=move |ev| labels.set(event_target_value(&ev))/>
            <button type="submit" class="primary" data-action="create-network" title=create_refused aria-description=create_refused
                disabled=move || create_refused.get().is_some()>"Create"</button>
        </form>
        <Reconnecting live/>
        {move || summary.get().map(|s| view! { <p class="ok" role="status">{s}</p> })}
        {move || networks.get().and_then(Result::err).map(|err| view! { <Problem err retry=reload/> })}
        {move || net_rows.with(Option::is_none).then(|| view! { <p class="loading">"Loading networks…"</p> })}
        <table class="list" data-networks-table="" hidden=move || net_rows.with(Option::is_none)>
            <thead><tr><th>"Name"</th><th>"Driver"</th><th>"Scope"</th><th>"Subnet"</th><th>"Containers"</th><th></th></tr></thead>
            <tbody>
                <For each=move || net_rows.get().unwrap_or_default() key=|n| (n.id.clone(), n.containers.clone()) let:n>
                    {
                        let builtin = matches!(n.name.as_str(), "bridge" | "host" | "none");
                        let fixed = n.name == "host" || n.name == "none";
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
                                    view! { <span class="chip">{cname}<button class="ghost" aria-label=format!("Disconnect {label} from {}", n.name) data-disconnect=label.clone()
                                        title=disconnect_refused aria-description=disconnect_refused disabled=move || disconnect_refused.get().is_some()
                                        on:click=move |_| { let (net, cid) = (net.clone(), cid.clone()); run(format!("disconnect {label}"), Box::new(move |api| api.network_disconnect(&net, &cid, false))) }>"×"</button></span> }
                                }).collect_view()}</div></td>
                                <td><div class="actions">
                                    <button data-action="connect" aria-label=format!("Connect a container to {}", n.name)
                                        title=connect_refused aria-description=connect_refused
                                        disabled=move || fixed || connect_refused.get().is_some() on:click=move |_| connecting.set(Some((id1.clone(), name1.clone(), networks.get_untracked().and_then(Result::ok).map(|r| r.1).unwrap_or_default())))>"connect…"</button>
                                    <button class="danger" data-action="remove" aria-label=named("remove", &n.name)
                                        title=remove_refused aria-description=remove_refused
                                        disabled=move || builtin || remove_refused.get().is_some() on:click=move |_| removing.set(Some((id2.clone(), name2.clone())))>"remove"</button>
                                </div></td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        <PrunePreview what="networks" names=Signal::derive(unused_names) refused=prune_refused on_prune=move || pruning.set(true)/>
        {move || connecting.get().map(|(id, net, all)| {
            let (picker, alias) = (NodeRef::<leptos::html::Select>::new(), RwSignal::new(String::new()));
            view! {
                <Dialog title=format!("Connect a container to {net}") on_close=move || connecting.set(None)>
                    <form on:submit=move |ev| {
                            ev.prevent_default();
                            // Read before closing: the dialog owns these signals.
                            // The select's own value: what is shown is what is sent.
                            let c = picker.get_untracked().map(|p| p.value()).unwrap_or_default();
                            let id = id.clone();
                            let aliases: Vec<String> = alias.get_untracked().split([',', ' ']).filter(|a| !a.is_empty()).map(str::to_owned).collect();
                            connecting.set(None);
                            run("connect".into(), Box::new(move |api| api.network_connect(&id, &c, &aliases)));
                        }>
                        <label for="connect-container">"Container"</label>
                        <select id="connect-container" data-connect-container="" node_ref=picker autofocus>
                            {all.into_iter().map(|(cid, cname)| view! { <option value=cid>{cname}</option> }).collect_view()}
                        </select>
                        <label for="connect-alias">"Aliases (optional)"</label>
                        <input id="connect-alias" data-connect-alias="" on:input=move |ev| alias.set(event_target_value(&ev))/>
                        <div class="buttons">
                            <button type="button" on:click=move |_| connecting.set(None)>"Cancel"</button>
                            <button type="submit" class="primary" data-action="confirm-connect">"Connect"</button>
                        </div>
                    </form>
                </Dialog>
            }
        })}
        {move || removing.get().map(|(id, n)| view! { <Confirm title=format!("Remove {n}?") body="Containers must be disconnected first." on_cancel=move || removing.set(None)
            on_confirm=move || { let (id, what) = (id.clone(), format!("remove {n}")); removing.set(None); run(what, Box::new(move |api| api.network_remove(&id))); }/> })}
        {move || pruning.get().then(|| view! { <Confirm title="Prune unused networks?" body=format!("{} networks go.", unused_names().len()) on_cancel=move || pruning.set(false) on_confirm=prune/> })}
    }
}
