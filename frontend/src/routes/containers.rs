//! Every container, filterable by text and state, with the actions its state
//! allows. The list follows the engine's events stream, so changes made here
//! or anywhere else show without a reload.

use std::collections::BTreeMap;

use berth_engine::endpoints::EventsOptions;
use berth_engine::models::{ContainerSummary, ContainerSummaryStateEnum as State, EventMessage};
use berth_engine::ContainerAction;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::app::Engine;
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
struct Removal {
    id: String,
    name: String,
    running: bool,
}

#[component]
pub fn Containers() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();
    let list = LocalResource::new(move || async move {
        let api = engine.api().await?;
        let all = api::call(api.containers(true)).await?;
        Ok::<_, ApiError>(all.into_iter().map(Row::new).collect::<Vec<_>>())
    });
    follow_events(engine, move || list.refetch());

    let text = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let busy = RwSignal::new(Vec::<String>::new());
    let removal = RwSignal::new(None::<Removal>);

    // Runs one call for one container, then reloads the list; failures are
    // told in the engine's words.
    let run = move |id: String, what: String, call: berth_engine::Endpoint<()>| {
        busy.update(|b| b.push(id.clone()));
        spawn_local(async move {
            if let Err(err) = api::act(call).await {
                notices.error(format!("Could not {what}: {err}"));
            }
            busy.update(|b| b.retain(|x| *x != id));
            list.refetch();
        });
    };

    let act = move |row: &Row, action: ContainerAction| {
        let id = row.id.clone();
        let what = format!("{} {}", action.verb(), row.name);
        spawn_local(async move {
            match engine.api().await {
                Ok(api) => run(id.clone(), what, api.container_action(&id, action)),
                Err(err) => notices.error(err.to_string()),
            }
        });
    };

    let confirm_remove = move |volumes: bool| {
        let Some(r) = removal.get_untracked() else {
            return;
        };
        removal.set(None);
        spawn_local(async move {
            match engine.api().await {
                Ok(api) => run(
                    r.id.clone(),
                    format!("remove {}", r.name),
                    api.container_remove(&r.id, r.running, volumes),
                ),
                Err(err) => notices.error(err.to_string()),
            }
        });
    };

    view! {
        <h1>"Containers"</h1>
        <div class="toolbar">
            <input type="search" placeholder="Filter by name, image, status, port…" aria-label="Filter containers"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            <select aria-label="Filter by state" on:change=move |ev| state.set(event_target_value(&ev))>
                {STATES.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
            </select>
        </div>
        <Transition fallback=|| view! { <p class="loading">"Loading containers…"</p> }>
            {move || Suspend::new(async move {
                let rows = match list.await {
                    Ok(rows) => rows,
                    Err(err) => return view! { <Problem err retry=move || list.refetch()/> }.into_any(),
                };
                if rows.is_empty() {
                    return view! {
                        <p class="empty">"No containers yet. Start one with "<code>"docker run"</code>" and it shows here."</p>
                    }.into_any();
                }
                let total = rows.len();
                let shown = Memo::new(move |_| {
                    let (t, s) = (text.get(), state.get());
                    rows.iter().filter(|r| r.matches(&t, &s)).cloned().collect::<Vec<_>>()
                });
                view! {
                    <p class="count">{move || format!("{} of {total} containers", shown.get().len())}</p>
                    <Show when=move || !shown.get().is_empty() fallback=move || view! {
                        <p class="empty">"No container matches this filter. "
                            <button class="link" on:click=move |_| { text.set(String::new()); state.set(String::new()); }>"Clear the filter"</button>
                        </p>
                    }>
                    <table class="list">
                        <thead><tr><th>"Name"</th><th>"Image"</th><th>"State"</th><th>"Status"</th><th>"Ports"</th><th>"Created"</th><th>"Actions"</th></tr></thead>
                        <tbody>
                            <For each=move || shown.get() key=|r| (r.id.clone(), r.status.clone()) let:row>
                                {row_view(row, busy, act, removal)}
                            </For>
                        </tbody>
                    </table>
                    </Show>
                }.into_any()
            })}
        </Transition>
        {move || removal.get().map(|r| view! { <RemoveDialog removal=r on_cancel=move || removal.set(None) on_confirm=confirm_remove/> })}
    }
}

fn row_view(
    row: Row,
    busy: RwSignal<Vec<String>>,
    act: impl Fn(&Row, ContainerAction) + Copy + 'static,
    removal: RwSignal<Option<Removal>>,
) -> impl IntoView {
    let id = row.id.clone();
    let is_busy = Signal::derive(move || busy.with(|b| b.contains(&id)));
    let buttons = ContainerAction::ALL
        .into_iter()
        .filter(|a| a.applies_to(row.state))
        .map(|action| {
            let row = row.clone();
            view! {
                <button data-action=action.verb() disabled=is_busy on:click=move |_| act(&row, action)>{action.verb()}</button>
            }
        })
        .collect_view();
    let to_remove = Removal {
        id: row.id.clone(),
        name: row.name.clone(),
        running: matches!(
            row.state,
            State::RUNNING | State::RESTARTING | State::PAUSED
        ),
    };
    let state = row.state.to_string();
    view! {
        <tr data-container=row.name.clone() data-state=state.clone() aria-busy=move || is_busy.get().to_string()>
            <td data-label="Name" class="name" title=row.id.clone()>{row.name.clone()}</td>
            <td data-label="Image">{row.image}</td>
            <td data-label="State"><span class=format!("state {state}")>{state.clone()}</span></td>
            <td data-label="Status">{row.status}</td>
            <td data-label="Ports">{row.ports}</td>
            <td data-label="Created">{ago(row.created)}</td>
            <td data-label="Actions"><div class="actions">
                {buttons}
                <button class="danger" data-action="remove" disabled=is_busy on:click=move |_| removal.set(Some(to_remove.clone()))>"remove"</button>
            </div></td>
        </tr>
    }
}

#[component]
fn RemoveDialog(
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

/// Calls `changed` (coalesced) whenever the engine reports a container
/// event, for as long as the page is open; reconnects if the stream drops.
fn follow_events(engine: Engine, changed: impl Fn() + Clone + 'static) {
    let Ok(controller) = web_sys::AbortController::new() else {
        return;
    };
    let signal = controller.signal();
    on_cleanup({
        let controller = send_wrapper::SendWrapper::new(controller);
        move || controller.abort()
    });
    spawn_local(async move {
        let mut delay = 500;
        while !signal.aborted() {
            if let Ok(api) = engine.api().await {
                let mut filters = BTreeMap::new();
                filters.insert("type".to_owned(), vec!["container".to_owned()]);
                let opts = EventsOptions {
                    filters,
                    ..Default::default()
                };
                let pending = std::rc::Rc::new(std::cell::Cell::new(false));
                let changed = changed.clone();
                let result = api::stream(api.events(&opts), &signal, move |_: EventMessage| {
                    // A burst of events (create, start, …) makes one reload.
                    if !pending.replace(true) {
                        let pending = pending.clone();
                        let changed = changed.clone();
                        set_timeout(
                            move || {
                                pending.set(false);
                                changed();
                            },
                            std::time::Duration::from_millis(150),
                        );
                    }
                })
                .await;
                if result.is_ok() {
                    delay = 500;
                }
            }
            if signal.aborted() {
                break;
            }
            sleep(delay).await;
            delay = (delay * 2).min(10_000);
        }
    });
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
