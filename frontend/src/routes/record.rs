//! `/history/{id}`: one container's record from the flight recorder, which
//! outlives the container: how and when it ended, its last logs in the
//! workbench (or, with `?at=<ns>`, the minutes around that moment, its line
//! marked: a search match), and the stats sample and inspect kept at its
//! death.

use berth_engine::relay::{self, HistoryEntry};
use berth_engine::stats::CpuMemory;
use berth_engine::JsonLines;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde_json::Value;

use crate::api::{self, href, ApiError, Engine};
use crate::state::history::{duration, outcome, ran_for};
use crate::state::json::json_number;
use crate::ui::history::{moment, recorder_off, when, RecorderOff, RecorderRefused};
use crate::ui::inspect::InspectView;
use crate::ui::logs::{Kind, LogWorkbench, Source};
use crate::ui::{bytes, refusal, Problem};

#[component]
pub fn HistoryRecord() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let params = use_params_map();
    let query = use_query_map();
    let key = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let at = Memo::new(move |_| query.read().get("at").and_then(|v| v.parse::<i64>().ok()));
    let refused = refusal(engine, |_| relay::history_entry("x"));
    let record = LocalResource::new(move || {
        let key = key.get();
        async move {
            engine.api().await?;
            api::call(relay::history_entry(&key)).await
        }
    });
    view! {
        <p class="crumbs"><a href=href("/history")>"← History"</a></p>
        {move || match refused.get() {
            Some(why) => view! { <RecorderRefused what="reading the flight recorder" why/> }.into_any(),
            None => view! {
                <Transition fallback=|| view! { <p class="loading">"Loading the record…"</p> }>
                    {move || Suspend::new(async move {
                        match record.await {
                            Ok(e) => view! { <Record e at=at.get()/> }.into_any(),
                            Err(err) if recorder_off(&err) => view! { <RecorderOff/> }.into_any(),
                            Err(ApiError::Engine(e)) if e.status == 404 => view! {
                                <p class="empty" data-record-missing="">{e.message}</p>
                            }.into_any(),
                            Err(err) => view! { <Problem err retry=move || record.refetch()/> }.into_any(),
                        }
                    })}
                </Transition>
            }.into_any(),
        }}
    }
}

#[component]
fn Record(e: HistoryEntry, at: Option<i64>) -> impl IntoView {
    let ended = outcome(&e);
    let bad = !e.running && (e.oom || e.exit_code.is_some_and(|c| c != 0));
    let dash = || "—".to_owned();
    let fact = |label: &'static str, value: String| {
        view! { <dt>{label}</dt><dd data-fact=label>{value}</dd> }
    };
    let compose = (!e.project.is_empty()).then(|| {
        let service = if e.service.is_empty() {
            String::new()
        } else {
            format!(", service {}", e.service)
        };
        fact("Compose", format!("project {}{service}", e.project))
    });
    // Still on the engine: its live page is a link away.
    let page = (!e.destroyed).then(|| {
        let label = format!("Open the container {}", e.name);
        view! {
            <a href=href(&format!("/containers/{}", e.id)) class="button" aria-label=label>"Open its page"</a>
        }
    });
    let source = vec![Source {
        id: e.id.clone(),
        name: e.name.clone(),
        kind: Kind::Record,
    }];
    let log_title = match at {
        Some(ns) => format!("Its log around {}", moment(ns)),
        None => "Its last logs".to_owned(),
    };
    let inspect = e.inspect.clone();
    view! {
        <div class="page-head">
            <h1 data-record-name="">{e.name.clone()}</h1>
            <code class="muted" title="Its id">{e.id.chars().take(12).collect::<String>()}</code>
            <span class="state" class:exited=bad data-record-outcome="">{ended}</span>
            {page}
        </div>
        <div class="record-top">
            <dl class="facts">
                {fact("Image", e.image.clone())}
                {compose}
                {fact("Exit code", e.exit_code.map_or_else(dash, |c| c.to_string()))}
                {fact("OOM-killed", if e.oom { "yes" } else { "no" }.to_owned())}
                {e.unhealthy.then(|| fact("Health", "turned unhealthy".to_owned()))}
                {fact("Created", when(e.created))}
                {fact("Started", e.started.map_or_else(dash, when))}
                {fact("Died", e.died.map_or_else(dash, when))}
                {fact("Ran for", ran_for(&e).map_or_else(dash, duration))}
                {fact("Removed", if e.destroyed { "yes" } else { "no" }.to_owned())}
                {fact("Log kept", bytes(e.bytes as i64))}
                {fact("Id", e.id.clone())}
            </dl>
            <section>
                <h2>"Final stats"</h2>
                <FinalStats stats=e.stats.clone()/>
            </section>
        </div>
        <h2>{log_title}</h2>
        <LogWorkbench sources=source at/>
        <section data-record-inspect="">
            <h2>"Inspect at its death"</h2>
            {match inspect {
                Some(json) => view! { <InspectView json=Signal::stored(json)/> }.into_any(),
                None => view! {
                    <p class="empty">"No inspect was kept: it was not seen to die while berth was recording (it may still run)."</p>
                }.into_any(),
            }}
        </section>
    }
}

/// The last stats sample before it died: CPU and memory as `docker stats`
/// figures them, processes, and the whole sample. (Decoded as the
/// containers list decodes its live samples: that decoder is already in
/// the console's first download.)
#[component]
fn FinalStats(stats: Option<Value>) -> impl IntoView {
    let Some(sample) = stats else {
        return view! {
            <p class="empty" data-final-stats="">"No stats sample was kept (it did not run while berth was recording)."</p>
        }
        .into_any();
    };
    let mut lines = JsonLines::<CpuMemory>::new();
    lines.push(sample.to_string().as_bytes());
    let usage = lines.finish().and_then(Result::ok).unwrap_or_default();
    let limit = usage
        .memory_stats
        .as_ref()
        .and_then(|m| m.limit)
        .unwrap_or(0);
    let row = |label: &'static str, value: String| view! { <tr><th scope="row">{label}</th><td>{value}</td></tr> };
    view! {
        <table class="numbers" data-final-stats="">
            <tbody>
                {row("CPU", format!("{:.1} %", usage.cpu_percent()))}
                {row("Memory", format!("{} of {}", bytes(usage.mem_used() as i64), bytes(limit as i64)))}
                {row("Processes", json_number(&sample, "/pids_stats/current").to_string())}
            </tbody>
        </table>
        <details class="inspect">
            <summary>"The whole sample"</summary>
            <pre>{serde_json::to_string_pretty(&sample).unwrap_or_default()}</pre>
        </details>
    }
    .into_any()
}
