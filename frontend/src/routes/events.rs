//! The engine's events as a live timeline: filters by type, action and
//! object, a since/until window, pause without losing anything, and a
//! stream that reconnects after an engine restart, fetching what happened
//! meanwhile and saying so.

use std::collections::{BTreeMap, VecDeque};

use berth_engine::endpoints::EventsOptions;
use berth_engine::models::EventMessage;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

use crate::api::{self, Engine};
use crate::live::{sleep, StreamSlot};
use crate::ui::local_seconds;

/// Events kept on the page; older ones go (and the page says so).
const KEEP: usize = 5000;

const TYPES: [&str; 11] = [
    "",
    "container",
    "image",
    "volume",
    "network",
    "daemon",
    "plugin",
    "service",
    "node",
    "secret",
    "config",
];

/// One event, flattened for the table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    key: u64,
    nanos: i64,
    kind: String,
    action: String,
    object: String,
    id: String,
    exit_code: Option<String>,
}

impl Row {
    fn new(key: u64, e: EventMessage) -> Row {
        let actor = e.actor.unwrap_or_default();
        let attrs = actor.attributes.unwrap_or_default();
        let id = actor.id.unwrap_or_default();
        let object = attrs
            .get("name")
            .cloned()
            .unwrap_or_else(|| id.chars().take(12).collect());
        Row {
            key,
            nanos: e
                .time_nano
                .unwrap_or_else(|| e.time.unwrap_or(0) * 1_000_000_000),
            kind: e.typ.map(|t| t.to_string()).unwrap_or_default(),
            action: e.action.unwrap_or_default(),
            object,
            id,
            exit_code: attrs.get("exitCode").cloned(),
        }
    }

    /// die, oom and kill stand out.
    fn alarming(&self) -> bool {
        matches!(self.action.as_str(), "die" | "oom" | "kill")
    }

    fn time(&self) -> String {
        let d = js_sys::Date::new(&JsValue::from_f64((self.nanos / 1_000_000) as f64));
        String::from(d.to_locale_time_string("en-GB"))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Link {
    Opening,
    Live,
    Reconnecting(String),
    Ended,
}

#[component]
pub fn Events() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let kind = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let object = RwSignal::new(String::new());
    let since = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let paused = RwSignal::new(false);
    let rows = RwSignal::new(VecDeque::<Row>::new());
    let held = RwSignal::new(Vec::<Row>::new());
    let dropped = RwSignal::new(0usize);
    let link = RwSignal::new(Link::Opening);
    let recovered = RwSignal::new(None::<usize>);
    let slot = StreamSlot::new();

    let add = move |batch: Vec<Row>| {
        rows.update(|r| {
            for row in batch {
                r.push_front(row);
            }
            while r.len() > KEEP {
                r.pop_back();
                dropped.update(|d| *d += 1);
            }
        });
    };

    // (Re)opens the stream when what is asked of the engine changes.
    Effect::new(move |_| {
        let mut filters = BTreeMap::new();
        let k = kind.get();
        if !k.is_empty() {
            filters.insert("type".to_owned(), vec![k]);
        }
        let a = action.get().trim().to_owned();
        if !a.is_empty() {
            filters.insert("event".to_owned(), vec![a]);
        }
        let window = (
            since.with(|s| local_seconds(s)),
            until.with(|u| local_seconds(u)),
        );
        let Some(signal) = slot.renew() else { return };
        rows.set(VecDeque::new());
        held.set(vec![]);
        dropped.set(0);
        recovered.set(None);
        link.set(Link::Opening);
        spawn_local(async move {
            let mut next_key = 0u64;
            // Where to resume after a drop: the second of the last event
            // seen, skipping what was seen (the engine sends in time order).
            let mut resume_from: Option<i64> = window.0;
            let mut last_seen: Option<i64> = None;
            let mut delay = 500;
            let mut reconnecting = false;
            while !signal.aborted() {
                let Ok(api) = engine.api().await else {
                    sleep(delay).await;
                    continue;
                };
                let opts = EventsOptions {
                    since: resume_from.or(if window.1.is_some() { Some(0) } else { None }),
                    until: window.1,
                    filters: filters.clone(),
                };
                let mut caught_up = 0usize;
                let was_reconnecting = reconnecting;
                // Events from before the stream reopened were missed while
                // it was down.
                let reopened_at = std::rc::Rc::new(std::cell::Cell::new(i64::MAX));
                let opened = {
                    let reopened_at = reopened_at.clone();
                    move || {
                        link.set(Link::Live);
                        if was_reconnecting {
                            reopened_at.set((js_sys::Date::now() * 1e6) as i64);
                            recovered.set(Some(0));
                        }
                    }
                };
                let each = |e: EventMessage| {
                    let row = Row::new(next_key + 1, e);
                    if last_seen.is_some_and(|l| row.nanos <= l) {
                        return;
                    }
                    last_seen = Some(row.nanos);
                    next_key += 1;
                    resume_from = Some(row.nanos / 1_000_000_000);
                    if was_reconnecting && row.nanos < reopened_at.get() {
                        caught_up += 1;
                        recovered.set(Some(caught_up));
                    }
                    if paused.get_untracked() {
                        held.update(|h| h.push(row));
                    } else {
                        add(vec![row]);
                    }
                };
                let result = api::stream(api.events(&opts), &signal, opened, each).await;
                if signal.aborted() {
                    break;
                }
                if window.1.is_some() && result.is_ok() {
                    link.set(Link::Ended);
                    break;
                }
                let why = match result {
                    Ok(()) => "the engine closed the stream".to_owned(),
                    Err(e) => e.to_string(),
                };
                link.set(Link::Reconnecting(why));
                reconnecting = true;
                sleep(delay).await;
                delay = (delay * 2).min(5_000);
            }
        });
    });
    let resume = move |_| {
        paused.set(false);
        let batch = std::mem::take(&mut *held.write());
        add(batch);
    };
    let shown = Memo::new(move |_| {
        let needle = object.get().to_lowercase();
        rows.with(|r| {
            r.iter()
                .filter(|row| {
                    needle.is_empty()
                        || row.object.to_lowercase().contains(&needle)
                        || row.id.starts_with(&needle)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let empty = Memo::new(move |_| shown.with(Vec::is_empty));

    view! {
        <h1 data-events-link=move || match link.get() {
            Link::Live => "live",
            Link::Opening => "opening",
            Link::Reconnecting(_) => "reconnecting",
            Link::Ended => "ended",
        }>"Events"</h1>
        <div class="toolbar">
            <select aria-label="Type" data-events-type="" prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev))>
                {TYPES.iter().map(|t| view! { <option value=*t>{if t.is_empty() { "All types" } else { t }}</option> }).collect_view()}
            </select>
            <input placeholder="action (die, start…)" aria-label="Action" class="narrow-wide"
                on:change=move |ev| action.set(event_target_value(&ev))/>
            <input type="search" placeholder="object name or id" aria-label="Object" data-events-object=""
                on:input=move |ev| object.set(event_target_value(&ev))/>
            <label>"Since "<input type="datetime-local" step="1" on:change=move |ev| since.set(event_target_value(&ev))/></label>
            <label>"Until "<input type="datetime-local" step="1" on:change=move |ev| until.set(event_target_value(&ev))/></label>
            {move || if paused.get() {
                view! { <button data-events-resume="" on:click=resume>{move || format!("Resume ({} held)", held.with(Vec::len))}</button> }.into_any()
            } else {
                view! { <button data-events-pause="" on:click=move |_| paused.set(true)>"Pause"</button> }.into_any()
            }}
        </div>
        {move || match link.get() {
            Link::Reconnecting(why) => Some(view! { <p class="banner" data-problem="reconnecting" role="status">{format!("Lost the events stream ({why}); reconnecting… Nothing is lost: what happens meanwhile is fetched on return.")}</p> }.into_any()),
            Link::Ended => Some(view! { <p class="muted">"The time window is over: these are all its events."</p> }.into_any()),
            _ => None,
        }}
        {move || recovered.get().map(|n| view! { <p class="muted" data-events-recovered="">{format!("Reconnected; {n} events from while the stream was down were fetched.")}</p> })}
        {move || (dropped.get() > 0).then(|| view! { <p class="muted">{format!("Only the newest {KEEP} events are kept; {} older ones were let go.", dropped.get())}</p> })}
        {move || {
            if empty.get() {
                return view! { <p class="empty">{move || if link.get() == Link::Opening { "Connecting to the events stream…" } else { "No events yet: they appear here as they happen." }}</p> }.into_any();
            }
            view! {
                <table class="list events" data-events="">
                    <thead><tr><th>"Time"</th><th>"Type"</th><th>"Action"</th><th>"Object"</th><th>"Details"</th></tr></thead>
                    <tbody>
                        <For each=move || shown.get() key=|r| r.key let:row>
                            <tr class:alarm=row.alarming() data-event-action=row.action.clone() data-event-object=row.object.clone()>
                                <td data-label="Time">{row.time()}</td>
                                <td data-label="Type">{row.kind.clone()}</td>
                                <td data-label="Action"><strong>{row.action.clone()}</strong></td>
                                <td data-label="Object" title=row.id.clone()>{row.object.clone()}</td>
                                <td data-label="Details">{row.exit_code.clone().map(|c| format!("exit code {c}"))}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
