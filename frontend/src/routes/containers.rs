//! Every container, filterable by text and state, with the actions its state
//! allows. The list follows the engine's events stream, so changes made here
//! or anywhere else show without a reload. Rows can be selected for bulk
//! actions, grouped by compose project, walked with j/k, and show live CPU
//! and memory from one fan-in of the engine's stats streams.

use std::collections::{HashMap, HashSet};

use berth_engine::models::ContainerSummaryStateEnum as State;
use berth_engine::stats::CpuMemory;
use berth_engine::{ContainerAction, Fanned, JsonLines};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use wasm_bindgen::JsCast;

use crate::api::{self, href, ApiError, Engine};
use crate::live::{follow_events, latest, of_types, StreamSlot};
use crate::state::bulk::{Bulk, BulkAction};
use crate::state::containers::{self as model, Phase, Row, STATES};
use crate::ui::bulk::{self, BulkButtons, BulkPanel};
use crate::ui::remove::{Removal, RemoveDialog};
use crate::ui::{act_then, ago, bytes, named, refusal, Call, Notices, Problem, Reconnecting};

/// The actions a selection or a project's row offers (remove aside).
const BULK: [ContainerAction; 4] = [
    ContainerAction::Start,
    ContainerAction::Stop,
    ContainerAction::Restart,
    ContainerAction::Kill,
];

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
    let live = follow_events(engine, of_types(&["container"]), reload);

    let phase = Memo::new(move |_| rows.with(Phase::of));
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
    // Every container in display order. The table draws them all once and
    // the filter only hides rows: a keystroke toggles attributes instead of
    // building and dropping rows.
    let order = Memo::new(move |_| {
        rows.with(|r| match r {
            Some(Ok(v)) => model::order(v, grouped.get()),
            _ => vec![],
        })
    });
    let shown = Memo::new(move |_| {
        let (t, s) = (text.get(), state.get());
        by_id.with(|m| order.with(|o| model::shown(o, m, &t, &s)))
    });
    let visible = Memo::new(move |_| shown.with(|s| s.iter().cloned().collect::<HashSet<_>>()));
    let items =
        Memo::new(move |_| by_id.with(|m| order.with(|o| model::items(o, m, grouped.get()))));
    let selected = RwSignal::new(HashSet::<String>::new());
    let cursor = RwSignal::new(None::<String>);
    let bulk = RwSignal::new(None::<Bulk>);
    let bulk_removal = RwSignal::new(None::<Vec<(String, String)>>);
    let usage = live_usage(engine, by_id);
    let navigate = StoredValue::new_local(leptos_router::hooks::use_navigate());
    let total = move || rows.with(|r| r.as_ref().and_then(|r| r.as_ref().ok()).map_or(0, Vec::len));

    let busy = RwSignal::new(Vec::<String>::new());
    let removal = RwSignal::new(None::<(String, Removal)>);

    // `/` jumps to the filter, j/k walk the list, x selects, Enter opens.
    let filter_input = NodeRef::<leptos::html::Input>::new();
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        // Keys while typing belong to the field.
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing
            || ev.ctrl_key()
            || ev.meta_key()
            || ev.alt_key()
            || removal.with_untracked(Option::is_some)
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
    on_cleanup(move || keys.remove());

    // One call for one container, its row busy meanwhile, then a reload.
    let act = move |id: String, what: String, call: Call| {
        busy.update(|b| b.push(id.clone()));
        act_then(engine, notices, what, call, move |_| {
            busy.update(|b| b.retain(|x| *x != id));
            reload();
        });
    };
    let confirm_remove = move |volumes: bool| {
        let Some((id, r)) = removal.get_untracked() else {
            return;
        };
        removal.set(None);
        let target = id.clone();
        act(
            id,
            format!("remove {}", r.name),
            Box::new(move |api| api.container_remove(&target, r.running, volumes)),
        );
    };

    // Bulk: the same call for many containers, each item's outcome shown as
    // it lands; containers already in the asked-for state are skipped.
    let run_bulk = move |targets: Vec<(String, String)>, action: BulkAction| {
        let targets = targets.into_iter().map(|(id, name)| {
            let state = by_id.with_untracked(|m| m.get(&id).map(|r| r.state));
            (id, name, state)
        });
        selected.set(HashSet::new());
        bulk::run(engine, bulk, Bulk::new(action, targets), reload);
    };
    let selection = Memo::new(move |_| {
        let sel = selected.get();
        by_id.with(|m| {
            shown.with(|ids| {
                ids.iter()
                    .filter(|id| sel.contains(*id))
                    .filter_map(|id| m.get(id).map(|r| (id.clone(), r.name.clone())))
                    .collect::<Vec<_>>()
            })
        })
    });
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
    let merged_logs_href = |targets: &[(String, String)]| {
        let ids: Vec<&str> = targets.iter().map(|(id, _)| id.as_str()).collect();
        href(&format!("/logs?ids={}", ids.join(",")))
    };
    let bulk_bar = move || {
        let n = selection.with(Vec::len);
        (n > 0).then(|| {
            let what = Signal::derive(move || format!("the {} selected", selection.with(Vec::len)));
            view! {
                <div class="bulk-bar" data-bulk-bar="" role="group" aria-label="Selected containers">
                    <strong>{move || format!("{} selected", selection.with(Vec::len))}</strong>
                    <BulkButtons what actions=&BULK on_act=move |a| run_bulk(selection.get_untracked(), a)
                        on_remove=move || bulk_removal.set(Some(selection.get_untracked()))/>
                    <A href=move || selection.with(|t| merged_logs_href(t)) attr:class="button">"merged logs"</A>
                    <button class="link" on:click=move |_| selected.set(HashSet::new())>"clear selection"</button>
                </div>
            }
        })
    };
    let group_header = move |project: String| {
        let p = StoredValue::new(project.clone());
        let members = move || by_id.with_untracked(|m| model::members(m, &p.get_value()));
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
        let what = Signal::derive(move || format!("the project {}", p.get_value()));
        view! {
            <tr class="group" data-project=project.clone() hidden=hidden>
                <td colspan="9">
                    <div class="group-head">
                        <strong>{label}</strong>
                        <span class="muted">{summary}</span>
                        {stack.then(|| view! {
                            <div class="actions">
                                <BulkButtons what actions=&bulk::STACK on_act=move |a| run_bulk(members(), a)
                                    on_remove=move || bulk_removal.set(Some(members()))/>
                                <A href=move || merged_logs_href(&members()) attr:class="button"
                                    attr:aria-label=format!("Logs of the project {project}")>"logs"</A>
                            </div>
                        })}
                    </div>
                </td>
            </tr>
        }
    };
    let ctx = RowCtx {
        engine,
        by_id,
        busy,
        act,
        removal,
        selected,
        cursor,
        usage,
        visible,
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
                            None => row_view(key, ctx).into_any(),
                        }}
                    </For>
                </tbody>
            </table>
        }
    };
    let create_refused = refusal(engine, |api| {
        api.container_create(None, &serde_json::Value::Null)
    });

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
            {move || match create_refused.get() {
                None => view! { <A href=href("/create") attr:class="button primary" attr:data-action="new-container">"New container"</A> }.into_any(),
                Some(why) => view! {
                    <button class="primary" data-action="new-container" disabled title=why.clone() aria-description=why>"New container"</button>
                }.into_any(),
            }}
        </div>
        {bulk_bar}
        {move || bulk.get().map(|b| view! { <BulkPanel bulk=b on_close=move || bulk.set(None)/> })}
        <Reconnecting live/>
        {move || match phase.get() {
            Phase::Loading => view! { <p class="loading">"Loading containers…"</p> }.into_any(),
            Phase::Failed(err) => view! { <Problem err retry=reload/> }.into_any(),
            Phase::Empty => view! {
                <p class="empty">"No containers yet. Start one with "<code>"docker run"</code>" and it shows here."</p>
            }.into_any(),
            Phase::Listed => table().into_any(),
        }}
        {move || removal.get().map(|(_, r)| view! { <RemoveDialog removal=r on_cancel=move || removal.set(None) on_confirm=confirm_remove/> })}
        {move || bulk_removal.get().map(|targets| {
            let n = targets.len();
            let t = StoredValue::new(targets);
            view! { <RemoveDialog removal=Removal { name: format!("{n} containers"), running: true }
                on_cancel=move || bulk_removal.set(None)
                on_confirm=move |volumes| { bulk_removal.set(None); run_bulk(t.get_value(), BulkAction::Remove { volumes }); }/> }
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
) -> RwSignal<HashMap<String, (f64, u64)>> {
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
    let slot = StreamSlot::new();
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
            let mut lines: Vec<JsonLines<CpuMemory>> =
                ids.iter().map(|_| JsonLines::new()).collect();
            let each = |f: Fanned| {
                if let Fanned::Data { source, bytes } = f {
                    let n = usize::from(source);
                    if let Some(l) = lines.get_mut(n) {
                        l.push(&bytes);
                        while let Some(Ok(sample)) = l.next_value() {
                            let u = (sample.cpu_percent(), sample.mem_used());
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
struct RowCtx<A: Fn(String, String, Call) + Copy + Send + Sync + 'static> {
    engine: Engine,
    by_id: Memo<HashMap<String, Row>>,
    busy: RwSignal<Vec<String>>,
    act: A,
    removal: RwSignal<Option<(String, Removal)>>,
    selected: RwSignal<HashSet<String>>,
    cursor: RwSignal<Option<String>>,
    /// Running containers' CPU (percent of one) and memory used.
    usage: RwSignal<HashMap<String, (f64, u64)>>,
    visible: Memo<HashSet<String>>,
}

/// One row. It reads its container from `by_id` through memos, so its
/// cells change only when that container's data does, and its buttons only
/// when its state does. Each control is named for its container
/// ("Select web", "Stop web"); the policy's refusals disable them, saying
/// why.
fn row_view(
    id: String,
    ctx: RowCtx<impl Fn(String, String, Call) + Copy + Send + Sync + 'static>,
) -> impl IntoView {
    let RowCtx { engine, by_id, .. } = ctx;
    let row = Memo::new({
        let id = id.clone();
        move |_| by_id.with(|m| m.get(&id).cloned())
    });
    let field =
        move |f: fn(&Row) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
    let state = Memo::new(move |_| row.with(|r| r.as_ref().map_or(State::EMPTY, |r| r.state)));
    let is_busy = Signal::derive({
        let id = id.clone();
        move || ctx.busy.with(|b| b.contains(&id))
    });
    let name =
        Memo::new(move |_| row.with(|r| r.as_ref().map(|r| r.name.clone()).unwrap_or_default()));
    let buttons = move || {
        ContainerAction::ALL
            .into_iter()
            .filter(|a| a.applies_to(state.get()))
            .map(|action| {
                let why = engine.refusal(|api| api.container_action("x", action));
                let blocked = why.is_some();
                view! {
                    <button data-action=action.verb() aria-label=move || named(action.verb(), &name.get())
                        title=why.clone() aria-description=why disabled=move || blocked || is_busy.get()
                        on:click=move |_| if let Some(r) = row.get_untracked() {
                            let id = r.id.clone();
                            (ctx.act)(r.id, format!("{} {}", action.verb(), r.name), Box::new(move |api| api.container_action(&id, action)))
                        }>
                        {action.verb()}
                    </button>
                }
            })
            .collect_view()
    };
    let remove_refused = refusal(engine, |api| api.container_remove("x", true, true));
    let ask_remove = move |_| {
        if let Some(r) = row.get_untracked() {
            let running = r.is_up();
            ctx.removal.set(Some((
                r.id,
                Removal {
                    name: r.name,
                    running,
                },
            )));
        }
    };
    let is_selected = {
        let id = id.clone();
        Signal::derive(move || ctx.selected.with(|s| s.contains(&id)))
    };
    let toggle = {
        let id = id.clone();
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            ctx.selected.update(|s| {
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
        move || ctx.cursor.with(|c| c.as_deref() == Some(id.as_str()))
    };
    let live = {
        let id = id.clone();
        move || {
            ctx.usage.with(|u| {
                u.get(&id)
                    .map(|(cpu, mem)| format!("{cpu:.1} % · {}", bytes(*mem as i64)))
            })
        }
    };
    view! {
        <tr data-container=name data-id=id.clone() data-state=move || state.get().to_string() aria-busy=move || is_busy.get().to_string()
            hidden={ let id = id.clone(); move || !ctx.visible.with(|v| v.contains(&id)) }
            class:focused=focused aria-selected=move || is_selected.get().to_string()>
            <td class="pick"><input type="checkbox" aria-label=move || named("select", &name.get()) data-select=""
                prop:checked=is_selected on:change=toggle/></td>
            <td data-label="Name" class="name" title=id.clone()><A href=href(&format!("/containers/{id}"))>{name}</A></td>
            <td data-label="Image">{field(|r| r.image.clone())}</td>
            <td data-label="State"><span class=move || format!("state {}", state.get())>{move || state.get().to_string()}</span></td>
            <td data-label="Status">{field(|r| r.status.clone())}</td>
            <td data-label="CPU / memory" class="usage" data-usage="">{live}</td>
            <td data-label="Ports">{field(|r| r.ports.clone())}</td>
            <td data-label="Created">{field(|r| ago(r.created))}</td>
            <td data-label="Actions"><div class="actions">
                {buttons}
                <button class="danger" data-action="remove" aria-label=move || named("remove", &name.get())
                    title=remove_refused aria-description=remove_refused
                    disabled=move || is_busy.get() || remove_refused.get().is_some() on:click=ask_remove>"remove"</button>
            </div></td>
        </tr>
    }
}
