//! Volumes: a list of who uses what, with sizes from the engine's disk
//! usage (shared with the system page, read again only when it changes),
//! a create form, inspect, remove after asking, and prune with a preview.

use std::collections::BTreeMap;

use berth_engine::endpoints::Prune;
use berth_engine::ApiVersion;
use leptos::prelude::*;
use serde_json::{json, Value};

use crate::api::{self, Engine};
use crate::live::disk::DiskUsage;
use crate::live::{follow_events, latest, of_types};
use crate::state::disk::{self, Volume};
use crate::state::json::{json_number, json_strings, pairs};
use crate::ui::dialog::Confirm;
use crate::ui::{act_then, bytes, named, refusal, Notices, Problem, PrunePreview, Reconnecting};

#[component]
pub fn Volumes() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();
    let usage = expect_context::<DiskUsage>().show(engine);
    // Who mounts what: the containers, read again on their events (the
    // sizes come from the shared disk usage, which follows its own).
    let (containers, reload) =
        latest(move || async move { api::call(engine.api().await?.containers(true)).await });
    reload();
    let live = follow_events(engine, of_types(&["container"]), reload);
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

    // Kept while either is read again, so keyed rows stay put.
    let rows = Memo::new(move |prev: Option<&Option<Vec<Volume>>>| {
        let fresh = usage.with_figures(|df| {
            containers.with(|c| match (df, c) {
                (Some(df), Some(Ok(c))) => Some(disk::volumes(df, c)),
                _ => None,
            })
        });
        fresh.or_else(|| prev.cloned().flatten())
    });
    let failed = Memo::new(move |_| {
        containers
            .with(|c| c.as_ref().and_then(|c| c.as_ref().err().cloned()))
            .or_else(|| {
                usage
                    .with_figures(|df| df.is_none())
                    .then(|| usage.problem())
                    .flatten()
            })
    });
    let unused = move || {
        rows.with(|v| {
            v.iter()
                .flatten()
                .filter(|v| v.refs == 0)
                .map(|v| v.name.clone())
                .collect::<Vec<_>>()
        })
    };

    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({
            "Name": name.get_untracked().trim(),
            "Driver": driver.get_untracked().trim(),
            "DriverOpts": pairs(&options.get_untracked()),
            "Labels": pairs(&labels.get_untracked()),
        });
        act_then(
            engine,
            notices,
            "create the volume".into(),
            move |api| api.volume_create(&body),
            move |made| {
                if made.is_some() {
                    name.set(String::new());
                }
            },
        );
    };
    let remove = move |n: String| {
        removing.set(None);
        act_then(
            engine,
            notices,
            format!("remove {n}"),
            move |api| api.volume_remove(&n, false),
            |_| (),
        );
    };
    // Every unused volume, named ones too from API 1.42 (as the preview
    // counts them).
    let prune = move || {
        pruning.set(false);
        let call = |api: berth_engine::Api| {
            let mut f = BTreeMap::new();
            if api.version >= ApiVersion::new(1, 42) {
                f.insert("all".to_owned(), vec!["true".to_owned()]);
            }
            api.prune(Prune::Volumes, &f)
        };
        act_then(
            engine,
            notices,
            "prune volumes".into(),
            call,
            move |answer| {
                if let Some(a) = answer {
                    let gone = json_strings(&a, "/VolumesDeleted");
                    summary.set(Some(format!(
                        "Removed {} volumes ({}); {} reclaimed.",
                        gone.len(),
                        gone.join(", "),
                        bytes(json_number(&a, "/SpaceReclaimed"))
                    )));
                }
            },
        );
    };
    let inspect = move |n: String| {
        act_then(
            engine,
            notices,
            format!("inspect {n}"),
            {
                let n = n.clone();
                move |api| api.volume_inspect(&n)
            },
            move |got| {
                if let Some(v) = got {
                    detail.set(Some((
                        n,
                        serde_json::to_string_pretty(&v).unwrap_or_default(),
                    )));
                }
            },
        );
    };
    let create_refused = refusal(engine, |api| api.volume_create(&Value::Null));
    let remove_refused = refusal(engine, |api| api.volume_remove("x", false));
    let prune_refused = refusal(engine, |api| api.prune(Prune::Volumes, &BTreeMap::new()));

    let row = move |v: Volume| {
        let (a, b) = (v.name.clone(), v.name.clone());
        view! {
            <tr data-volume=v.name.clone()>
                <td data-label="Name" class="name">{v.name.clone()}</td>
                <td data-label="Driver">{v.driver}</td>
                <td data-label="Mountpoint"><code>{v.mountpoint}</code></td>
                <td data-label="Size">{if v.size >= 0 { bytes(v.size) } else { "—".into() }}</td>
                <td data-label="Used by">{if v.used_by.is_empty() { "—".to_owned() } else { v.used_by.join(", ") }}</td>
                <td><div class="actions">
                    <button aria-label=named("inspect", &v.name) on:click=move |_| inspect(a.clone())>"inspect"</button>
                    <button class="danger" data-action="remove" aria-label=named("remove", &v.name)
                        title=remove_refused aria-description=remove_refused disabled=move || remove_refused.get().is_some()
                        on:click=move |_| removing.set(Some(b.clone()))>"remove"</button>
                </div></td>
            </tr>
        }
    };

    view! {
        <h1>"Volumes"</h1>
        <Reconnecting live/>
        <form class="toolbar" on:submit=create>
            <input placeholder="name (optional)" aria-label="Volume name" data-volume-name="" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <input class="narrow" placeholder="driver" aria-label="Driver" prop:value=move || driver.get() on:input=move |ev| driver.set(event_target_value(&ev))/>
            <input placeholder="options k=v, one a line" aria-label="Driver options" on:input=move |ev| options.set(event_target_value(&ev))/>
            <input placeholder="labels k=v" aria-label="Labels" on:input=move |ev| labels.set(event_target_value(&ev))/>
            <button type="submit" class="primary" data-action="create-volume" title=create_refused aria-description=create_refused
                disabled=move || create_refused.get().is_some()>"Create"</button>
        </form>
        {move || summary.get().map(|s| view! { <p class="ok" role="status">{s}</p> })}
        {move || failed.get().map(|err| view! { <Problem err retry=move || { reload(); usage.refresh(engine) }/> })}
        {move || rows.with(|r| r.as_ref().is_some_and(Vec::is_empty)).then(|| view! { <p class="empty">"No volumes yet."</p> })}
        {move || (rows.with(Option::is_none) && failed.with(Option::is_none)).then(|| view! { <p class="loading">"Loading volumes…"</p> })}
        <table class="list" data-volumes="" hidden=move || rows.with(|r| r.as_ref().is_none_or(Vec::is_empty))>
            <thead><tr><th>"Name"</th><th>"Driver"</th><th>"Mountpoint"</th><th>"Size"</th><th>"Used by"</th><th></th></tr></thead>
            <tbody>
                <For each=move || rows.get().unwrap_or_default() key=|v| (v.name.clone(), v.size, v.used_by.clone()) let:v>
                    {row(v)}
                </For>
            </tbody>
        </table>
        <PrunePreview what="volumes" names=Signal::derive(unused) refused=prune_refused on_prune=move || pruning.set(true)/>
        {move || removing.get().map(|n| view! { <Confirm title=format!("Remove {n}?") body="Its data is deleted for good." on_cancel=move || removing.set(None) on_confirm=move || remove(n.clone())/> })}
        {move || pruning.get().then(|| view! { <Confirm title="Prune unused volumes?" body=format!("{} volumes and their data go for good.", unused().len()) on_cancel=move || pruning.set(false) on_confirm=prune/> })}
        {move || detail.get().map(|(n, json)| view! {
            <section class="detail"><h2>{n}" "<button class="ghost" aria-label="Close" on:click=move |_| detail.set(None)>"×"</button></h2><pre class="inspect-hits">{json}</pre></section>
        })}
    }
}
