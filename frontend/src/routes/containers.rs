//! Every container, filterable by text and state, with the actions its state
//! allows. The list follows the engine's events stream, so changes made here
//! or anywhere else show without a reload. Rows can be selected for bulk
//! actions, grouped by compose project, walked with j/k, and show live CPU
//! and memory from one fan-in of the engine's stats streams.

use std::collections::{HashMap, HashSet};

use berth_engine::models::{ContainerSummary, ContainerSummaryStateEnum as State};
use berth_engine::{Api, ApiVersion, ContainerAction, Endpoint};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::app::{href, Engine};
use crate::live::{container_filters, follow_events, latest};
use crate::routes::bulk::{self, Bulk, BulkAction, BulkPanel};
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
    /// The `com.docker.compose.project` label: the stack it belongs to.
    project: String,
}

/// The compose label every compose tool sets.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";

impl Row {
    fn new(c: ContainerSummary) -> Row {
        let name = crate::ui::container_name(&c);
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
            project: c
                .labels
                .as_ref()
                .and_then(|l| l.get(PROJECT_LABEL))
                .cloned()
                .unwrap_or_default(),
        }
    }

    fn matches(&self, text: &str, state: &str) -> bool {
        let state_ok = state.is_empty() || self.state.to_string() == state;
        let text = text.trim().to_lowercase();
        state_ok
            && (text.is_empty()
                || [
                    &self.name,
                    &self.image,
                    &self.id,
                    &self.status,
                    &self.ports,
                    &self.project,
                ]
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

    let (rows, reload) = latest(move || async move {
        let api = engine.api().await?;
        let all = api::call(api.containers(true)).await?;
        Ok::<_, ApiError>(all.into_iter().map(Row::new).collect::<Vec<_>>())
    });
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
    // For the benchmark: when the list is first on screen, ready for input
    // (effects run after the DOM is updated).
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let listed = phase.get() == Phase::Listed;
        if listed {
            if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
                let _ = p.mark("berth:containers-listed");
            }
        }
        listed
    });
    let text = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let grouped = RwSignal::new(false);
    // Every container in display order (by project when grouped). The
    // table draws them all once and the filter only hides rows: a keystroke
    // toggles attributes instead of building and dropping rows.
    let order = Memo::new(move |_| {
        rows.with(|r| match r {
            Some(Ok(v)) => {
                let mut all: Vec<&Row> = v.iter().collect();
                if grouped.get() {
                    all.sort_by(|a, b| {
                        (a.project.is_empty(), &a.project, &a.name).cmp(&(
                            b.project.is_empty(),
                            &b.project,
                            &b.name,
                        ))
                    });
                }
                all.into_iter().map(|row| row.id.clone()).collect()
            }
            _ => Vec::<String>::new(),
        })
    });
    // Those that pass the filter, in the same order.
    let shown = Memo::new(move |_| {
        let (t, s) = (text.get(), state.get());
        let map = by_id.read();
        order.with(|o| {
            o.iter()
                .filter(|id| map.get(*id).is_some_and(|row| row.matches(&t, &s)))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let visible = Memo::new(move |_| shown.with(|s| s.iter().cloned().collect::<HashSet<_>>()));
    // What the table draws: rows, and a header before each project's rows
    // when grouped (keys `g:project`).
    let items = Memo::new(move |_| {
        if !grouped.get() {
            return order.get();
        }
        let map = by_id.read();
        let mut out = vec![];
        let mut last = None;
        for id in order.read().iter() {
            let project = map.get(id).map(|r| r.project.clone()).unwrap_or_default();
            if last.as_ref() != Some(&project) {
                out.push(format!("g:{project}"));
                last = Some(project);
            }
            out.push(id.clone());
        }
        out
    });
    let selected = RwSignal::new(HashSet::<String>::new());
    let cursor = RwSignal::new(None::<String>);
    let bulk = RwSignal::new(None::<Bulk>);
    let bulk_removal = RwSignal::new(None::<Vec<(String, String)>>);
    let usage = live_usage(engine, by_id);
    let navigate = StoredValue::new_local(leptos_router::hooks::use_navigate());
    let total = move || rows.with(|r| r.as_ref().and_then(|r| r.as_ref().ok()).map_or(0, Vec::len));

    let busy = RwSignal::new(Vec::<String>::new());
    let removal = RwSignal::new(None::<Removal>);

    // `/` jumps to the filter, unless the person is typing somewhere.
    let filter_input = NodeRef::<leptos::html::Input>::new();
    let slash = window_event_listener(leptos::ev::keydown, move |ev| {
        // Keys while typing belong to the field.
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing
            || ev.ctrl_key()
            || ev.meta_key()
            || ev.alt_key()
            || removal.get_untracked().is_some()
        {
            return;
        }
        let ids = shown.get_untracked();
        let at = cursor
            .get_untracked()
            .and_then(|c| ids.iter().position(|i| *i == c));
        let goto = |i: usize| {
            if let Some(id) = ids.get(i) {
                cursor.set(Some(id.clone()));
                scroll_into_view(id);
            }
        };
        match ev.key().as_str() {
            "/" => {
                if let Some(input) = filter_input.get_untracked() {
                    ev.prevent_default();
                    let _ = input.focus();
                }
            }
            "j" | "ArrowDown" if !ids.is_empty() => {
                ev.prevent_default();
                goto(at.map_or(0, |i| (i + 1).min(ids.len() - 1)));
            }
            "k" | "ArrowUp" if !ids.is_empty() => {
                ev.prevent_default();
                goto(at.map_or(0, |i| i.saturating_sub(1)));
            }
            "x" => {
                if let Some(id) = cursor.get_untracked() {
                    selected.update(|s| {
                        if !s.remove(&id) {
                            s.insert(id);
                        }
                    });
                }
            }
            "Enter" => {
                if let Some(id) = cursor.get_untracked() {
                    ev.prevent_default();
                    navigate.with_value(|n| n(&format!("/containers/{id}"), Default::default()));
                }
            }
            _ => {}
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

    // Bulk: the same call for many containers, each item's outcome shown as
    // it lands; containers already in the asked-for state are skipped.
    let run_bulk = move |verb: &'static str, targets: Vec<(String, String)>, action: BulkAction| {
        let items = bulk::items(
            targets.into_iter().map(|(id, name)| {
                let state = by_id.with_untracked(|m| m.get(&id).map(|r| r.state));
                (id, name, state)
            }),
            action,
        );
        selected.set(HashSet::new());
        bulk::run(engine, bulk, verb, items, action, reload);
    };
    let selection = move || {
        let sel = selected.get();
        by_id.with(|m| {
            shown.with(|ids| {
                ids.iter()
                    .filter(|id| sel.contains(*id))
                    .filter_map(|id| m.get(id).map(|r| (id.clone(), r.name.clone())))
                    .collect::<Vec<_>>()
            })
        })
    };
    let project_members = move |project: &str| {
        by_id.with_untracked(|m| {
            let mut v: Vec<(String, String)> = m
                .values()
                .filter(|r| r.project == project)
                .map(|r| (r.id.clone(), r.name.clone()))
                .collect();
            v.sort_by(|a, b| a.1.cmp(&b.1));
            v
        })
    };
    let all_shown_selected = move || {
        let sel = selected.get();
        shown.with(|ids| !ids.is_empty() && ids.iter().all(|i| sel.contains(i)))
    };
    let toggle_all = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.set(if on {
            shown.get_untracked().into_iter().collect()
        } else {
            HashSet::new()
        });
    };
    let merged_logs_href = move |targets: &[(String, String)]| {
        let ids: Vec<&str> = targets.iter().map(|(id, _)| id.as_str()).collect();
        href(&format!("/logs?ids={}", ids.join(",")))
    };
    let bulk_bar = move || {
        let targets = selection();
        (!targets.is_empty()).then(|| {
            let n = targets.len();
            let logs = merged_logs_href(&targets);
            let t = StoredValue::new(targets);
            let go = move |verb: &'static str, action: BulkAction| run_bulk(verb, t.get_value(), action);
            view! {
                <div class="bulk-bar" data-bulk-bar="">
                    <strong>{format!("{n} selected")}</strong>
                    <button data-bulk="start" on:click=move |_| go("start", BulkAction::Act(ContainerAction::Start))>"start"</button>
                    <button data-bulk="stop" on:click=move |_| go("stop", BulkAction::Act(ContainerAction::Stop))>"stop"</button>
                    <button data-bulk="restart" on:click=move |_| go("restart", BulkAction::Act(ContainerAction::Restart))>"restart"</button>
                    <button data-bulk="kill" on:click=move |_| go("kill", BulkAction::Act(ContainerAction::Kill))>"kill"</button>
                    <button class="danger" data-bulk="remove" on:click=move |_| bulk_removal.set(Some(t.get_value()))>"remove…"</button>
                    <A href=logs attr:class="button">"merged logs"</A>
                    <button class="link" on:click=move |_| selected.set(HashSet::new())>"clear selection"</button>
                </div>
            }
        })
    };
    let group_header = move |project: String| {
        let p = StoredValue::new(project.clone());
        let members = move || project_members(&p.get_value());
        let summary = move || {
            by_id.with(|m| {
                let (all, running) = m
                    .values()
                    .filter(|r| r.project == p.get_value())
                    .fold((0, 0), |(a, r), row| {
                        (a + 1, r + usize::from(row.state == State::RUNNING))
                    });
                format!("{all} containers, {running} running")
            })
        };
        let hidden = move || {
            visible.with(|v| {
                by_id.with(|m| {
                    !m.values()
                        .any(|r| r.project == p.get_value() && v.contains(&r.id))
                })
            })
        };
        let label = if project.is_empty() {
            "Not in a compose project".to_owned()
        } else {
            project.clone()
        };
        let stack = !project.is_empty();
        let go = move |verb: &'static str, action: BulkAction| run_bulk(verb, members(), action);
        view! {
            <tr class="group" data-project=project.clone() hidden=hidden>
                <td colspan="9">
                    <div class="group-head">
                        <strong>{label}</strong>
                        <span class="muted">{summary}</span>
                        {stack.then(|| view! {
                            <div class="actions">
                                <button data-stack="start" on:click=move |_| go("start", BulkAction::Act(ContainerAction::Start))>"start"</button>
                                <button data-stack="stop" on:click=move |_| go("stop", BulkAction::Act(ContainerAction::Stop))>"stop"</button>
                                <button data-stack="restart" on:click=move |_| go("restart", BulkAction::Act(ContainerAction::Restart))>"restart"</button>
                                <button class="danger" data-stack="remove" on:click=move |_| bulk_removal.set(Some(members()))>"remove…"</button>
                                <A href=move || merged_logs_href(&members()) attr:class="button">"logs"</A>
                            </div>
                        })}
                    </div>
                </td>
            </tr>
        }
    };

    let table = move || {
        view! {
            <p class="count">{move || format!("{} of {} containers", shown.read().len(), total())}</p>
            <Show when=move || shown.read().is_empty()>
                <p class="empty">"No container matches this filter. "
                    <button class="link" on:click=move |_| { text.set(String::new()); state.set(String::new()); }>"Clear the filter"</button>
                </p>
            </Show>
            <table class="list" hidden=move || shown.read().is_empty()>
                <thead><tr>
                    <th class="pick"><input type="checkbox" aria-label="Select all shown" data-select-all=""
                        prop:checked=all_shown_selected on:change=toggle_all/></th>
                    <th>"Name"</th><th>"Image"</th><th>"State"</th><th>"Status"</th><th>"CPU / memory"</th><th>"Ports"</th><th>"Created"</th><th>"Actions"</th>
                </tr></thead>
                <tbody>
                    <For each=move || items.get() key=|k| k.clone() let:key>
                        {match key.strip_prefix("g:") {
                            Some(project) => group_header(project.to_owned()).into_any(),
                            None => row_view(key, RowCtx { policy: engine.policy, by_id, busy, act, removal, selected, cursor, usage, visible }).into_any(),
                        }}
                    </For>
                </tbody>
            </table>
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
            <label class="check"><input type="checkbox" data-group-projects="" prop:checked=move || grouped.get()
                on:change=move |ev| grouped.set(event_target_checked(&ev))/>" group by compose project"</label>
            <A href=href("/create") attr:class="button primary">"New container"</A>
        </div>
        {bulk_bar}
        {move || bulk.get().map(|b| view! { <BulkPanel bulk=b on_close=move || bulk.set(None)/> })}
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
        {move || bulk_removal.get().map(|targets| {
            let n = targets.len();
            let t = StoredValue::new(targets);
            view! { <RemoveDialog removal=Removal { id: String::new(), name: format!("{n} containers"), running: true }
                on_cancel=move || bulk_removal.set(None)
                on_confirm=move |volumes| { let targets = t.get_value(); bulk_removal.set(None); run_bulk("remove", targets, BulkAction::Remove { volumes }); }/> }
        })}
    }
}

/// Scrolls a row into view (j/k).
fn scroll_into_view(id: &str) {
    let sel = format!("tr[data-id='{id}']");
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&sel).ok().flatten())
    {
        let opts = web_sys::ScrollIntoViewOptions::new();
        opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
        el.scroll_into_view_with_scroll_into_view_options(&opts);
    }
}

/// Live CPU and memory of the running containers: their stats streams,
/// fanned into one connection by the relay (a browser has six per host),
/// reopened when the set of running containers changes.
fn live_usage(
    engine: Engine,
    by_id: Memo<HashMap<String, Row>>,
) -> RwSignal<HashMap<String, berth_engine::Usage>> {
    let usage = RwSignal::new(HashMap::new());
    let running = Memo::new(move |_| {
        let mut ids: Vec<String> = by_id.with(|m| {
            m.values()
                .filter(|r| r.state == State::RUNNING)
                .map(|r| r.id.clone())
                .collect()
        });
        ids.sort();
        ids.truncate(berth_engine::fanin::MAX_SOURCES);
        ids
    });
    let slot = crate::live::StreamSlot::new();
    Effect::new(move |_| {
        let ids = running.get();
        let Some(signal) = slot.renew() else { return };
        usage.update(|u| u.retain(|id, _| ids.contains(id)));
        if ids.is_empty() {
            return;
        }
        spawn_local(async move {
            let Ok(api) = engine.api().await else { return };
            let paths: Vec<String> = ids
                .iter()
                .map(|id| api.container_stats(id, true).path)
                .collect();
            let mut lines: Vec<
                berth_engine::JsonLines<berth_engine::models::ContainerStatsResponse>,
            > = ids.iter().map(|_| berth_engine::JsonLines::new()).collect();
            let each = |f: berth_engine::Fanned| {
                if let berth_engine::Fanned::Data { source, bytes } = f {
                    let n = usize::from(source);
                    if let Some(l) = lines.get_mut(n) {
                        l.push(&bytes);
                        while let Some(Ok(sample)) = l.next_value() {
                            let u = berth_engine::Usage::of(&sample);
                            usage.update(|m| {
                                m.insert(ids[n].clone(), u);
                            });
                        }
                    }
                }
            };
            let _ = api::fanin(&paths, &signal, || (), each).await;
        });
    });
    usage
}

/// What every row shares.
#[derive(Clone, Copy)]
struct RowCtx<A: Fn(String, String, ContainerAction) + Copy + Send + Sync + 'static> {
    policy: LocalResource<berth_engine::Policy>,
    by_id: Memo<HashMap<String, Row>>,
    busy: RwSignal<Vec<String>>,
    act: A,
    removal: RwSignal<Option<Removal>>,
    selected: RwSignal<HashSet<String>>,
    cursor: RwSignal<Option<String>>,
    usage: RwSignal<HashMap<String, berth_engine::Usage>>,
    visible: Memo<HashSet<String>>,
}

/// One row. It reads its container from `by_id` through memos, so its
/// cells change only when that container's data does, and its buttons only
/// when its state does.
fn row_view(
    id: String,
    ctx: RowCtx<impl Fn(String, String, ContainerAction) + Copy + Send + Sync + 'static>,
) -> impl IntoView {
    let RowCtx {
        policy,
        by_id,
        busy,
        act,
        removal,
        selected,
        cursor,
        usage,
        visible,
    } = ctx;
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
    let is_selected = {
        let id = id.clone();
        move || selected.with(|s| s.contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                if on {
                    s.insert(id.clone());
                } else {
                    s.remove(&id);
                }
            });
        }
    };
    let focused = {
        let id = id.clone();
        move || cursor.with(|c| c.as_deref() == Some(id.as_str()))
    };
    let live = {
        let id = id.clone();
        move || {
            usage.with(|u| {
                u.get(&id).map(|u| {
                    format!(
                        "{:.1} % · {}",
                        u.cpu_percent,
                        crate::ui::bytes(u.mem_used as i64)
                    )
                })
            })
        }
    };
    view! {
        <tr data-container=name data-id=id.clone() data-state=move || state.get().to_string() aria-busy=move || is_busy.get().to_string()
            hidden={ let id = id.clone(); move || !visible.with(|v| v.contains(&id)) }
            class:focused=focused aria-selected={ let is_selected = is_selected.clone(); move || is_selected().to_string() }>
            <td class="pick"><input type="checkbox" aria-label="Select" data-select="" prop:checked=is_selected.clone() on:change=toggle/></td>
            <td data-label="Name" class="name" title=id.clone()><A href=href(&format!("/containers/{id}"))>{name}</A></td>
            <td data-label="Image">{field(|r| r.image.clone())}</td>
            <td data-label="State"><span class=move || format!("state {}", state.get())>{move || state.get().to_string()}</span></td>
            <td data-label="Status">{field(|r| r.status.clone())}</td>
            <td data-label="CPU / memory" class="usage" data-usage="">{live}</td>
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
