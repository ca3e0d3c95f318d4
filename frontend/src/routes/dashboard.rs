//! The engine at a glance: version, host, resources, container and image
//! counts, and what needs attention (containers unhealthy or restarting
//! now, exited non-zero or OOM-killed in the last day, each linked to its
//! record in the flight recorder).

use berth_engine::relay::{self, HistoryEntry};
use berth_engine::ContainerBrief;
use leptos::prelude::*;
use serde_json::Value;

use crate::api::{self, call, href, ApiError, Engine};
use crate::live::latest;
use crate::state::history::{attention, Attention};
use crate::state::json::{json_number, json_text};
use crate::ui::history::{follow_records, now, record_href, recorder_off};
use crate::ui::{ago, bytes, Problem};

async fn load(engine: Engine) -> Result<(Value, Value), ApiError> {
    let api = engine.api().await?;
    Ok((call(api.info()).await?, call(api.version()).await?))
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let data = LocalResource::new(move || load(engine));
    view! {
        <h1>"Dashboard"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading engine facts…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((info, version)) => facts(&info, &version).into_any(),
                    Err(err) => view! { <Problem err retry=move || data.refetch()/> }.into_any(),
                }
            })}
        </Transition>
        <NeedsAttention/>
    }
}

fn facts(info: &Value, version: &Value) -> impl IntoView {
    let text = |v: &Value, pointer: &str| {
        Some(json_text(v, pointer))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "—".into())
    };
    let n = |pointer: &str| json_number(info, pointer).to_string();
    let card = |label: &'static str, value: String| {
        view! { <div class="card" data-fact=label><div class="label">{label}</div><div class="value">{value}</div></div> }
    };
    let memory = info
        .pointer("/MemTotal")
        .and_then(Value::as_i64)
        .map_or_else(|| "—".into(), bytes);
    view! {
        <section class="cards">
            {card("Engine", format!("Docker {}", text(version, "/Version")))}
            {card("API", format!("{} (min {})", text(version, "/ApiVersion"), text(version, "/MinAPIVersion")))}
            {card("OS", text(info, "/OperatingSystem"))}
            {card("Kernel", text(info, "/KernelVersion"))}
            {card("Architecture", text(info, "/Architecture"))}
            {card("CPUs", n("/NCPU"))}
            {card("Memory", memory)}
            {card("Images", n("/Images"))}
        </section>
        <h2>"Containers"</h2>
        <section class="cards">
            {card("Total", n("/Containers"))}
            {card("Running", n("/ContainersRunning"))}
            {card("Paused", n("/ContainersPaused"))}
            {card("Stopped", n("/ContainersStopped"))}
        </section>
    }
}

/// Why the recorder's side of attention is missing, if it is.
#[derive(Clone, PartialEq)]
enum Recorder {
    On,
    Off,
    Refused(String),
    Failed(String),
}

/// The engine's containers now, and the recorder's history of the last
/// day: the containers that need attention.
async fn load_attention(engine: Engine) -> Result<(Vec<Attention>, Recorder), ApiError> {
    let api = engine.api().await?;
    let live = api::call(api.containers::<ContainerBrief>(true)).await?;
    let (history, recorder): (Option<Vec<HistoryEntry>>, Recorder) =
        match api::call(relay::history()).await {
            Ok(h) => (Some(h), Recorder::On),
            Err(e) if recorder_off(&e) => (None, Recorder::Off),
            // The policy's reason, in the relay's words.
            Err(ApiError::Engine(e)) if e.status == 403 => (None, Recorder::Refused(e.message)),
            Err(e) => (None, Recorder::Failed(e.to_string())),
        };
    Ok((attention(&live, history.as_deref(), now()), recorder))
}

#[component]
fn NeedsAttention() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let (seen, reload) = latest(move || load_attention(engine));
    reload();
    follow_records(engine, reload);
    let note = move |recorder: &Recorder| {
        match recorder {
        Recorder::On => None,
        Recorder::Off => Some(view! {
            <p class="muted" data-attention-recorder="off">
                "Exits and OOM kills of the last day come from the flight recorder, which is off: start berth with "
                <code>"--record DIR"</code>" to keep them (and the logs of containers that are gone)."
            </p>
        }.into_any()),
        Recorder::Refused(why) => Some(view! {
            <p class="muted" data-attention-recorder="refused">{format!("Exits and OOM kills come from the flight recorder, which the relay's policy does not allow: {why}")}</p>
        }.into_any()),
        Recorder::Failed(why) => Some(view! {
            <p class="warn" data-attention-recorder="failed">{format!("Exits and OOM kills could not be read from the flight recorder: {why}")}</p>
        }.into_any()),
    }
    };
    view! {
        <h2>"Needs attention"</h2>
        {move || match seen.get() {
            None => view! { <p class="loading">"Looking for containers that need attention…"</p> }.into_any(),
            Some(Err(err)) => view! { <Problem err retry=reload/> }.into_any(),
            Some(Ok((items, recorder))) => {
                let empty = items.is_empty().then(|| view! {
                    <p class="empty" data-attention-empty="">{if recorder == Recorder::On {
                        "Nothing: no container is unhealthy or restarting, and none exited with an error or ran out of memory in the last 24 hours."
                    } else {
                        "No container is unhealthy or restarting."
                    }}</p>
                });
                view! {
                    {note(&recorder)}
                    {empty}
                    <ul class="plain attention" data-attention="">
                        {items.into_iter().map(|a| view! { <AttentionItem a/> }).collect_view()}
                    </ul>
                }.into_any()
            }
        }}
    }
}

#[component]
fn AttentionItem(a: Attention) -> impl IntoView {
    let (link, label) = if a.recorded {
        (
            record_href(&a.id, None),
            format!("Open the record of {}", a.name),
        )
    } else {
        (
            href(&format!("/containers/{}", a.id)),
            format!("Open {}", a.name),
        )
    };
    let when = a.at.map(|t| view! { <span class="muted">{ago(t)}</span> });
    let name = a.name.clone();
    view! {
        <li data-attention-item=a.name>
            <a href=link aria-label=label>{name}</a>
            <span class="state exited">{a.reason.text()}</span>
            {when}
        </li>
    }
}
