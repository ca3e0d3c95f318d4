//! Every container, filterable by text and state, with the actions its state
//! allows. The list follows the engine's events stream, so changes made here
//! or anywhere else show without a reload.

use std::collections::HashMap;

use berth_engine::models::{ContainerSummary, ContainerSummaryStateEnum as State};
use berth_engine::{Api, ApiVersion, ContainerAction, Endpoint};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::app::{href, Engine};
use crate::live::{container_filters, follow_events};
use crate::ui::{ago, Notices, Problem};

/// A row's worth of a container, flattened for display and filtering.
#[derive(Clone, PartialEq)]
struct Row {
    id: String,
    name: String,
    image: String,
    state: State,
    status: String,
    ports: String,
    created: i64,
}

impl Row {
    fn new(c: ContainerSummary) -> Row {
        let name = c
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default();
        let mut ports: Vec<String> = c
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let proto = p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
                match (p.ip, p.public_port) {
                    (Some(ip), Some(public)) => format!("{ip}:{public}→{}/{proto}", p.private_port),
                    _ => format!("{}/{proto}", p.private_port),
                }
            })
            .collect();
        ports.dedup();
        Row {
            id: c.id.unwrap_or_default(),
            name,
            image: c.image.unwrap_or_default(),
            state: c.state.unwrap_or(State::EMPTY),
            status: c.status.unwrap_or_default(),
            ports: ports.join(", "),
            created: c.created.unwrap_or_default(),
        }
    }

    fn matches(&self, text: &str, state: &str) -> bool {
        let state_ok = state.is_empty() || self.state.to_string() == state;
        let text = text.trim().to_lowercase();
        state_ok
            && (text.is_empty()
                || [&self.name, &self.image, &self.id, &self.status, &self.ports]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&text)))
    }
}

const STATES: [(&str, &str); 7] = [
    ("", "All states"),
    ("running", "Running"),
    ("exited", "Exited"),
    ("paused", "Paused"),
    ("created", "Created"),
    ("restarting", "Restarting"),
    ("dead", "Dead"),
];

/// What the remove dialog is asking about.
#[derive(Clone)]
pub struct Removal {
    pub id: String,
    pub name: String,
    pub running: bool,
}

/// Where the list is: the table is built once it has rows and then only
/// updated row by row, so a click never lands on a node being replaced.
#[derive(Clone, PartialEq)]
enum Phase {
    Loading,
    Failed(ApiError),
    Empty,
    Listed,
}

#[component]
pub fn Containers() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();

    let rows = RwSignal::new(None::<Result<Vec<Row>, ApiError>>);
    // Reloads may overlap (an action and an event); only the newest lands.
    let generation = StoredValue::new(0u64);
    let reload = move || {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let loaded = async {
                let api = engine.api().await?;
                let all = api::call(api.containers(true)).await?;
                Ok(all.into_iter().map(Row::new).collect::<Vec<_>>())
            }
            .await;
            if generation.get_value() == mine {
                rows.set(Some(loaded));
            }
        });
    };
    reload();
    let live = follow_events(engine, container_filters(None), reload);

    let phase = Memo::new(move |_| match &*rows.read() {
        None => Phase::Loading,
        Some(Err(e)) => Phase::Failed(e.clone()),
        Some(Ok(v)) if v.is_empty() => Phase::Empty,
        Some(Ok(_)) => Phase::Listed,
    });
    let by_id = Memo::new(move |_| {
        rows.with(|r| match r {
            Some(Ok(v)) => v
                .iter()
                .map(|row| (row.id.clone(), row.clone()))
                .collect::<HashMap<_, _>>(),
            _ => HashMap::new(),
        })
    });
    let text = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let shown = Memo::new(move |_| {
        let (t, s) = (text.get(), state.get());
        rows.with(|r| match r {
            Some(Ok(v)) => v
                .iter()
                .filter(|row| row.matches(&t, &s))
                .map(|row| row.id.clone())
                .collect(),
            _ => Vec::<String>::new(),
        })
    });
    let total = move || rows.with(|r| r.as_ref().and_then(|r| r.as_ref().ok()).map_or(0, Vec::len));

    let busy = RwSignal::new(Vec::<String>::new());
    let removal = RwSignal::new(None::<Removal>);

    // `/` jumps to the filter, unless the person is typing somewhere.
    let filter_input = NodeRef::<leptos::html::Input>::new();
    let slash = window_event_listener(leptos::ev::keydown, move |ev| {
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if ev.key() == "/" && !typing && !ev.ctrl_key() && !ev.meta_key() && !ev.alt_key() {
            if let Some(input) = filter_input.get_untracked() {
                ev.prevent_default();
                let _ = input.focus();
            }
        }
    });
    on_cleanup(move || slash.remove());

    // Runs one call for one container, then reloads the list; failures are
    // told in the engine's words.
    let run = move |id: String, what: String, call: Endpoint<()>| {
        busy.update(|b| b.push(id.clone()));
        spawn_local(async move {
            if let Err(err) = api::act(call).await {
                notices.error(format!("Could not {what}: {err}"));
            }
            busy.update(|b| b.retain(|x| *x != id));
            reload();
        });
    };
    let with_api = move |id: String, what: String, make: Box<dyn FnOnce(Api) -> Endpoint<()>>| {
        spawn_local(async move {
            match engine.api().await {
                Ok(api) => run(id, what, make(api)),
                Err(err) => notices.error(err.to_string()),
            }
        });
    };
    let act = move |id: String, name: String, action: ContainerAction| {
        let what = format!("{} {name}", action.verb());
        let target = id.clone();
        with_api(
            id,
            what,
            Box::new(move |api| api.container_action(&target, action)),
        );
    };
    let confirm_remove = move |volumes: bool| {
        let Some(r) = removal.get_untracked() else {
            return;
        };
        removal.set(None);
        let target = r.id.clone();
        with_api(
            r.id,
            format!("remove {}", r.name),
            Box::new(move |api| api.container_remove(&target, r.running, volumes)),
        );
    };

    let table = move || {
        view! {
            <p class="count">{move || format!("{} of {} containers", shown.read().len(), total())}</p>
            <Show when=move || !shown.read().is_empty() fallback=move || view! {
                <p class="empty">"No container matches this filter. "
                    <button class="link" on:click=move |_| { text.set(String::new()); state.set(String::new()); }>"Clear the filter"</button>
                </p>
            }>
            <table class="list">
                <thead><tr><th>"Name"</th><th>"Image"</th><th>"State"</th><th>"Status"</th><th>"Ports"</th><th>"Created"</th><th>"Actions"</th></tr></thead>
                <tbody>
                    <For each=move || shown.get() key=|id| id.clone() let:id>
                        {row_view(id, engine.policy, by_id, busy, act, removal)}
                    </For>
                </tbody>
            </table>
            </Show>
        }
    };

    view! {
        <h1>"Containers"</h1>
        <div class="toolbar">
            <input type="search" node_ref=filter_input placeholder="Filter by name, image, status, port… (press /)" aria-label="Filter containers"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            <select aria-label="Filter by state" prop:value=move || state.get() on:change=move |ev| state.set(event_target_value(&ev))>
                {STATES.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
            </select>
        </div>
        <Show when=move || !live.get()>
            <p class="banner" data-problem="reconnecting" role="status">
                "Lost the live connection to the engine; reconnecting… The list may be out of date."
            </p>
        </Show>
        {move || match phase.get() {
            Phase::Loading => view! { <p class="loading">"Loading containers…"</p> }.into_any(),
            Phase::Failed(err) => view! { <Problem err retry=reload/> }.into_any(),
            Phase::Empty => view! {
                <p class="empty">"No containers yet. Start one with "<code>"docker run"</code>" and it shows here."</p>
            }.into_any(),
            Phase::Listed => table().into_any(),
        }}
        {move || removal.get().map(|r| view! { <RemoveDialog removal=r on_cancel=move || removal.set(None) on_confirm=confirm_remove/> })}
    }
}

/// One row. It reads its container from `by_id` through memos, so its
/// cells change only when that container's data does, and its buttons only
/// when its state does.
fn row_view(
    id: String,
    policy: LocalResource<berth_engine::Policy>,
    by_id: Memo<HashMap<String, Row>>,
    busy: RwSignal<Vec<String>>,
    act: impl Fn(String, String, ContainerAction) + Copy + Send + Sync + 'static,
    removal: RwSignal<Option<Removal>>,
) -> impl IntoView {
    let row = Memo::new({
        let id = id.clone();
        move |_| by_id.with(|m| m.get(&id).cloned())
    });
    let field =
        move |f: fn(&Row) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
    let state = Memo::new(move |_| row.with(|r| r.as_ref().map_or(State::EMPTY, |r| r.state)));
    let is_busy = Signal::derive({
        let id = id.clone();
        move || busy.with(|b| b.contains(&id))
    });
    let name = field(|r| r.name.clone());
    // Why the relay would refuse a call, if it would: checked on the same
    // endpoint the action sends.
    let denied =
        move |endpoint: Endpoint<()>| policy.get().and_then(|p| p.check_endpoint(&endpoint).err());
    let buttons = {
        let id = id.clone();
        move || {
            let catalogue = Api::new(ApiVersion::MIN);
            ContainerAction::ALL
                .into_iter()
                .filter(|a| a.applies_to(state.get()))
                .map(|action| {
                    let why = denied(catalogue.container_action(&id, action));
                    let blocked = why.is_some();
                    view! {
                        <button data-action=action.verb() title=why disabled=move || blocked || is_busy.get()
                            on:click=move |_| if let Some(r) = row.get_untracked() { act(r.id, r.name, action) }>
                            {action.verb()}
                        </button>
                    }
                })
                .collect_view()
        }
    };
    let remove_denied = {
        let id = id.clone();
        move || denied(Api::new(ApiVersion::MIN).container_remove(&id, true, true))
    };
    let remove_blocked = {
        let remove_denied = remove_denied.clone();
        move || is_busy.get() || remove_denied().is_some()
    };
    let ask_remove = move |_| {
        if let Some(r) = row.get_untracked() {
            let running = matches!(r.state, State::RUNNING | State::RESTARTING | State::PAUSED);
            removal.set(Some(Removal {
                id: r.id,
                name: r.name,
                running,
            }));
        }
    };
    view! {
        <tr data-container=name data-state=move || state.get().to_string() aria-busy=move || is_busy.get().to_string()>
            <td data-label="Name" class="name" title=id.clone()><A href=href(&format!("/containers/{id}"))>{name}</A></td>
            <td data-label="Image">{field(|r| r.image.clone())}</td>
            <td data-label="State"><span class=move || format!("state {}", state.get())>{move || state.get().to_string()}</span></td>
            <td data-label="Status">{field(|r| r.status.clone())}</td>
            <td data-label="Ports">{field(|r| r.ports.clone())}</td>
            <td data-label="Created">{field(|r| ago(r.created))}</td>
            <td data-label="Actions"><div class="actions">
                {buttons}
                <button class="danger" data-action="remove" title=remove_denied disabled=remove_blocked on:click=ask_remove>"remove"</button>
            </div></td>
        </tr>
    }
}

#[component]
pub fn RemoveDialog(
    removal: Removal,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
    on_confirm: impl Fn(bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let volumes = RwSignal::new(false);
    let cancel_ref = NodeRef::<leptos::html::Button>::new();
    // Focus starts on Cancel: Enter alone must not destroy anything.
    Effect::new(move |_| {
        if let Some(b) = cancel_ref.get() {
            let _ = b.focus();
        }
    });
    view! {
        <div class="backdrop" on:click=move |_| on_cancel()>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="remove-title"
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { on_cancel() }>
                <h2 id="remove-title">"Remove " {removal.name.clone()} "?"</h2>
                {removal.running.then(|| view! { <p class="warn">"It is running: it will be killed first."</p> })}
                <label><input type="checkbox" on:change=move |ev| volumes.set(event_target_checked(&ev))/>" Also remove its anonymous volumes"</label>
                <div class="buttons">
                    <button node_ref=cancel_ref on:click=move |_| on_cancel()>"Cancel"</button>
                    <button class="danger" data-action="confirm-remove" on:click=move |_| on_confirm(volumes.get_untracked())>"Remove"</button>
                </div>
            </div>
        </div>
    }
}
