//! The engine as a whole: its info and version in full, disk usage by kind
//! with totals, and a system-wide prune that previews what would go (from
//! the same figures) and sums up what went.
//!
//! The disk usage is the console's shared copy (`live::disk`): choosing
//! what to prune never reads it again, and it stays on screen while it is
//! read again.

use std::collections::BTreeMap;

use berth_engine::endpoints::Prune;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, ApiError, Engine};
use crate::live::disk::DiskUsage;
use crate::state::disk::{self, Choice};
use crate::state::json::{json_items, json_number};
use crate::ui::dialog::Confirm;
use crate::ui::{bytes, refusal, Problem};

#[component]
pub fn System() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let usage = expect_context::<DiskUsage>().show(engine);
    let choice = RwSignal::new(Choice::default());
    let about = LocalResource::new(move || async move {
        let api = engine.api().await?;
        Ok::<_, ApiError>((
            api::call(api.version()).await?,
            api::call(api.info()).await?,
        ))
    });
    // Unused networks, as a network prune with this label would see them.
    let label = Memo::new(move |_| choice.with(|c| c.label.trim().to_owned()));
    let networks = LocalResource::new(move || {
        let label = label.get();
        async move {
            let mut filters = BTreeMap::new();
            if !label.is_empty() {
                filters.insert("label".to_owned(), vec![label]);
            }
            api::call(engine.api().await?.networks_unused(&filters)).await
        }
    });
    // Kept while read again: the preview never blanks.
    let unused_networks = Memo::new(move |prev: Option<&Value>| match networks.get() {
        Some(Ok(v)) => v,
        _ => prev.cloned().unwrap_or(Value::Null),
    });
    let preview = Memo::new(move |_| {
        usage.with_figures(|df| {
            let df = df.unwrap_or(&Value::Null);
            unused_networks.with(|n| choice.with(|c| disk::preview(df, n, c)))
        })
    });
    let confirming = RwSignal::new(false);
    let summary = RwSignal::new(None::<Result<String, String>>);
    let running = RwSignal::new(false);

    let prune = move || {
        confirming.set(false);
        running.set(true);
        let c = choice.get_untracked();
        spawn_local(async move {
            let result = async {
                let api = engine.api().await.map_err(|e| e.to_string())?;
                let (mut parts, mut space) = (vec![], 0i64);
                for disk::Step {
                    what,
                    filters,
                    key,
                    label,
                } in disk::prunes(&c, api.version)
                {
                    let answer = api::call(api.prune(what, &filters))
                        .await
                        .map_err(|e| format!("Could not prune {label}: {e}"))?;
                    let gone: Vec<String> = json_items(&answer, key)
                        .iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string())
                        })
                        .collect();
                    space += json_number(&answer, "/SpaceReclaimed");
                    let list = if gone.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", gone.join(", "))
                    };
                    parts.push(format!("{} {label}{list}", gone.len()));
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
            usage.refresh(engine);
            networks.refetch();
        });
    };

    let check = move |label: &'static str, get: fn(&Choice) -> bool, set: fn(&mut Choice, bool)| {
        view! {
            <label class="check"><input type="checkbox" data-prune=label prop:checked=move || choice.with(get)
                on:change=move |ev| { let on = event_target_checked(&ev); choice.update(|c| set(c, on)); }/>{format!(" {label}")}</label>
        }
    };
    let prune_refused = refusal(engine, |api| api.prune(Prune::Containers, &BTreeMap::new()));
    let df_table = move || {
        usage.with_figures(|df| {
            let (rows, total) = disk::usage(df?);
            Some(view! {
                <table class="numbers" data-df="" aria-busy=move || usage.reading().to_string()>
                    <tbody>
                        {rows.into_iter().map(|(label, n, size)| view! {
                            <tr><th>{label}</th><td>{n.to_string()}</td><td>{bytes(size)}</td></tr>
                        }).collect_view()}
                        <tr><th>"Total"</th><td></td><td data-df-total="">{bytes(total)}</td></tr>
                    </tbody>
                </table>
            })
        })
    };

    view! {
        <h1>"System"</h1>
        <h2>"Disk usage"</h2>
        {move || match (usage.with_figures(|df| df.is_some()), usage.problem()) {
            (false, None) => Some(view! { <p class="loading">"Asking the engine…"</p> }.into_any()),
            (false, Some(err)) => Some(view! { <Problem err retry=move || usage.refresh(engine)/> }.into_any()),
            (true, Some(err)) => Some(view! { <p class="warn" data-df-stale="" role="status">{format!("These figures may be out of date: {err}")}</p> }.into_any()),
            (true, None) => None,
        }}
        {df_table}
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
            let (n, space) = preview.with(|p| (p.len(), p.iter().map(|d| d.size).sum::<i64>()));
            view! { <p data-prune-summary="" aria-live="polite">{format!("{n} items would go, about {} reclaimed.", bytes(space))}</p> }
        }}
        <ul class="plain" data-prune-preview="">
            <For each=move || preview.get() key=|d| (d.kind, d.name.clone(), d.size) let:d>
                <li data-doomed=d.name.clone()><span class="muted">{d.kind}</span>" "{d.name.clone()}" "
                    <span class="muted">{if d.size > 0 { bytes(d.size) } else { String::new() }}</span></li>
            </For>
        </ul>
        <button class="danger" data-action="prune" title=prune_refused aria-description=prune_refused
            disabled=move || preview.with(Vec::is_empty) || running.get() || prune_refused.get().is_some()
            on:click=move |_| confirming.set(true)>"Prune…"</button>
        {move || summary.get().map(|s| match s {
            Ok(t) => view! { <p class="ok" data-prune-done="" role="status">{t}</p> }.into_any(),
            Err(e) => view! { <p class="warn" data-prune-done="" role="alert">{e}</p> }.into_any(),
        })}
        {move || confirming.get().then(|| view! {
            <Confirm title="Prune?" body=format!("{} items, as listed, are removed for good.", preview.with_untracked(Vec::len))
                yes="Prune" action="confirm-prune" on_cancel=move || confirming.set(false) on_confirm=prune/>
        })}
        <h2>"Engine"</h2>
        <Transition fallback=|| view! { <p class="loading">"Asking the engine…"</p> }>
            {move || Suspend::new(async move {
                match about.await {
                    Ok((version, info)) => view! {
                        <details open><summary>"Version"</summary><JsonFacts value=version/></details>
                        <details><summary>"Info"</summary><JsonFacts value=info/></details>
                    }.into_any(),
                    Err(err) => view! { <Problem err retry=move || about.refetch()/> }.into_any(),
                }
            })}
        </Transition>
    }
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
