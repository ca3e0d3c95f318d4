//! `/history`: the containers that died or are gone, the most recent
//! first, from the flight recorder: how each ended (exit code, OOM), how
//! long it ran, its compose project. A compose service's containers are
//! one group, so a recreate's earlier containers sit with the current one.
//! Follows the engine's container events.

use berth_engine::relay::{self, HistoryEntry, SearchQuery};
use leptos::prelude::*;

use crate::api::{self, href, Engine};
use crate::live::latest;
use crate::state::history::{duration, groups, outcome, ran_for, Group};
use crate::ui::history::{
    follow_records, record_href, recorder_off, when, RecorderOff, RecorderRefused,
};
use crate::ui::{bytes, refusal, Problem, Reconnecting};

#[component]
pub fn History() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let refused = refusal(engine, |_| relay::history());
    let search_refused = refusal(engine, |_| relay::search(&SearchQuery::default()));
    let (records, reload) = latest(move || async move {
        engine.api().await?;
        api::call(relay::history()).await
    });
    reload();
    let live = follow_records(engine, reload);
    // Kept while a reload is under way, so keyed rows stay put.
    let shown = Memo::new(move |prev: Option<&Vec<Group>>| {
        records.with(|r| match r {
            Some(Ok(all)) => groups(all),
            _ => prev.cloned().unwrap_or_default(),
        })
    });

    let state = move || -> Option<AnyView> {
        if let Some(why) = refused.get() {
            return Some(
                view! { <RecorderRefused what="reading the flight recorder" why/> }.into_any(),
            );
        }
        match records.get() {
            None => Some(
                view! { <p class="loading">"Loading the flight recorder's records…"</p> }
                    .into_any(),
            ),
            Some(Err(err)) if recorder_off(&err) => Some(view! { <RecorderOff/> }.into_any()),
            Some(Err(err)) => Some(view! { <Problem err retry=reload/> }.into_any()),
            Some(Ok(_)) if shown.with(Vec::is_empty) => Some(
                view! {
                    <p class="empty" data-history-empty="">
                        "No container has died or been removed since the recorder started. \
                         Those that do are listed here, with their logs."
                    </p>
                }
                .into_any(),
            ),
            Some(Ok(_)) => None,
        }
    };

    view! {
        <div class="page-head">
            <h1>"History"</h1>
            {move || match search_refused.get() {
                None => view! { <a class="button" href=href("/search")>"Search all logs"</a> }.into_any(),
                // Refused: a link that leads nowhere, saying why.
                Some(why) => view! {
                    <a class="button disabled" role="link" aria-disabled="true" title=why.clone() aria-description=why>"Search all logs"</a>
                }.into_any(),
            }}
        </div>
        <p class="muted">
            "Containers that died or are gone, the most recent first, as the flight recorder kept them. \
             A compose service's containers are listed together, the earlier ones of a recreate included."
        </p>
        <Reconnecting live/>
        {state}
        <table class="list history" data-history="" hidden=move || shown.with(Vec::is_empty) || refused.get().is_some()>
            <thead><tr><th>"Container"</th><th>"Ended"</th><th>"Ran for"</th><th>"Died"</th><th>"Compose project"</th><th>"Image"</th><th>"Log"</th></tr></thead>
            // Keyed: a reload (other containers' events) moves rows, and a
            // click must land on the row it was aimed at.
            <For each=move || shown.get() key=group_key let:group>
                <GroupRows group/>
            </For>
        </table>
    }
}

/// A group is drawn again when any of its containers changes.
fn group_key(g: &Group) -> (String, String) {
    let members = g.members.iter().map(|m| {
        format!(
            "{}:{}:{:?}:{}:{}",
            m.id, m.running, m.died, m.destroyed, m.bytes
        )
    });
    (g.key.clone(), members.collect())
}

/// A group's rows: a heading row for a compose service of more than one
/// container, then a row per container, the newest first.
#[component]
fn GroupRows(group: Group) -> impl IntoView {
    let heading = (group.members.len() > 1).then(|| {
        let title = group.title();
        let n = group.members.len();
        view! {
            <tr class="group">
                <td colspan=7 data-label="Service">
                    <span class="group-head">
                        <strong>{title}</strong>
                        <span class="muted">{format!("{n} containers: the service was recreated")}</span>
                    </span>
                </td>
            </tr>
        }
    });
    // A recreated compose service's containers can share a name: their ids
    // tell them apart.
    let names: Vec<&str> = group.members.iter().map(|m| m.name.as_str()).collect();
    let twins = names
        .iter()
        .enumerate()
        .any(|(i, n)| names[..i].contains(n));
    view! {
        <tbody data-history-group=group.key.clone()>
            {heading}
            {group.members.into_iter().map(|e| view! { <RecordRow e twins/> }).collect_view()}
        </tbody>
    }
}

#[component]
fn RecordRow(e: HistoryEntry, twins: bool) -> impl IntoView {
    let ended = outcome(&e);
    let bad = !e.running && (e.oom || e.exit_code.is_some_and(|c| c != 0));
    let ran = ran_for(&e).map_or_else(|| "—".to_owned(), duration);
    let died = e.died.map_or_else(|| "—".to_owned(), when);
    let project = if e.project.is_empty() {
        "—".to_owned()
    } else if e.service.is_empty() {
        e.project.clone()
    } else {
        format!("{} ({})", e.project, e.service)
    };
    let short: String = e.id.chars().take(12).collect();
    let (label, shown) = if twins {
        (
            format!("Open the record of {} ({short})", e.name),
            format!("{} ({short})", e.name),
        )
    } else {
        (format!("Open the record of {}", e.name), e.name.clone())
    };
    view! {
        <tr data-record=e.name.clone() data-id=e.id.clone() data-running=e.running.to_string()>
            <td data-label="Container" class="name">
                <a href=record_href(&e.id, None) aria-label=label>{shown}</a>
            </td>
            <td data-label="Ended" class:warn=bad data-ended="">{ended}</td>
            <td data-label="Ran for">{ran}</td>
            <td data-label="Died">{died}</td>
            <td data-label="Project">{project}</td>
            <td data-label="Image" class="muted">{e.image.clone()}</td>
            <td data-label="Log" class="muted">{bytes(e.bytes as i64)}</td>
        </tr>
    }
}
