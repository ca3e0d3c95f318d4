//! Ctrl/Cmd-K: a command palette to jump to any page or container, or run
//! a container action, by typing a few letters.

use berth_engine::models::ContainerSummaryStateEnum as State;
use berth_engine::relay::{self, SearchQuery};
use berth_engine::{ContainerAction, ContainerBrief};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{wasm_split, SplitLoaderError};
use leptos_router::hooks::use_navigate;

use crate::api::{self, Engine};
use crate::state::containers::container_name;
use crate::state::history::literal;

use super::dialog::Dialog;
use super::{act_then, named, Notices};

#[derive(Clone, PartialEq)]
enum Command {
    Go(String),
    Act(String, String, ContainerAction),
}

#[derive(Clone, PartialEq)]
struct Entry {
    label: String,
    kind: &'static str,
    command: Command,
}

const PAGES: [(&str, &str); 14] = [
    ("Dashboard", "/"),
    (
        "Engines: overview, switch, find a container anywhere",
        "/engines",
    ),
    ("Containers", "/containers"),
    ("Compose stacks", "/stacks"),
    ("Swarm: nodes and services", "/swarm"),
    ("Images", "/images"),
    ("Volumes", "/volumes"),
    ("Networks", "/networks"),
    ("Events", "/events"),
    ("History: containers that died or are gone", "/history"),
    ("Search all logs", "/search"),
    ("System: disk usage and prune", "/system"),
    ("New container", "/create"),
    ("Merged logs of the selection", "/logs"),
];

/// Every letter of `needle`, in order, somewhere in `hay` (case aside).
fn fuzzy(hay: &str, needle: &str) -> bool {
    let mut chars = hay.chars().flat_map(char::to_lowercase);
    needle
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace())
        .all(|n| chars.any(|h| h == n))
}

/// Ctrl/Cmd-K opens and closes the palette. Only this listener is in the
/// console's first download: the palette itself comes on first use (its own
/// wasm module, `scripts/split-wasm`).
#[component]
pub fn Palette() -> impl IntoView {
    let open = RwSignal::new(false);
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.key().eq_ignore_ascii_case("k") {
            ev.prevent_default();
            open.update(|o| *o = !*o);
        }
    });
    on_cleanup(move || keys.remove());
    move || {
        open.get().then(|| {
            view! {
                <Suspense fallback=|| ()>
                    {Suspend::new(async move {
                        palette_dialog(open).await.unwrap_or_else(|_| crate::lazy::failed())
                    })}
                </Suspense>
            }
        })
    }
}

#[wasm_split(palette, wasm_split_path = ::leptos::wasm_split, fallible)]
fn palette_dialog(open: RwSignal<bool>) -> Result<AnyView, SplitLoaderError> {
    Ok(view! { <PaletteDialog open/> }.into_any())
}

/// The palette, open: built afresh each time it opens.
#[component]
fn PaletteDialog(open: RwSignal<bool>) -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();
    let navigate = StoredValue::new_local(use_navigate());
    let query = RwSignal::new(String::new());
    let chosen = RwSignal::new(0usize);
    let entries = RwSignal::new(Vec::<Entry>::new());

    let load = move || {
        let mut base: Vec<Entry> = PAGES
            .iter()
            .map(|(label, path)| Entry {
                label: (*label).to_owned(),
                kind: "page",
                command: Command::Go(path.to_string()),
            })
            .collect();
        entries.set(base.clone());
        spawn_local(async move {
            let Ok(api) = engine.api().await else { return };
            let Ok(all) = api::call(api.containers::<ContainerBrief>(true)).await else {
                return;
            };
            for c in all {
                let id = c.id.clone().unwrap_or_default();
                let name = container_name(c.names.as_deref());
                for (tab, what) in [
                    ("", "Open"),
                    ("/logs", "Logs of"),
                    ("/terminal", "Terminal in"),
                    ("/stats", "Stats of"),
                ] {
                    base.push(Entry {
                        label: format!("{what} {name}"),
                        kind: "container",
                        command: Command::Go(format!("/containers/{id}{tab}")),
                    });
                }
                let state = c.state.unwrap_or(State::EMPTY);
                for a in [
                    ContainerAction::Start,
                    ContainerAction::Stop,
                    ContainerAction::Restart,
                ] {
                    // Only what the relay would let through.
                    let refused = engine.refusal(|api| api.container_action(&id, a)).is_some();
                    if a.applies_to(state) && !refused {
                        base.push(Entry {
                            label: named(a.verb(), &name),
                            kind: "action",
                            command: Command::Act(id.clone(), name.clone(), a),
                        });
                    }
                }
            }
            entries.set(base);
        });
    };

    load();

    let matches = Memo::new(move |_| {
        let q = query.get();
        let mut found = entries.with(|all| {
            all.iter()
                .filter(|e| fuzzy(&e.label, &q))
                .take(49)
                .cloned()
                .collect::<Vec<_>>()
        });
        // Last, whatever else matches: the words typed, in every log.
        let text = q.trim();
        let refused = engine.refusal(|_| relay::search(&SearchQuery::default()));
        if !text.is_empty() && refused.is_none() {
            found.push(Entry {
                label: format!("Search all logs for “{text}”"),
                kind: "search",
                command: Command::Go(format!("/search?q={}", api::encode(&literal(text)))),
            });
        }
        found
    });
    let run = move |e: Entry| {
        open.set(false);
        match e.command {
            Command::Go(path) => navigate.with_value(|n| n(&path, Default::default())),
            Command::Act(id, name, action) => act_then(
                engine,
                notices,
                format!("{} {name}", action.verb()),
                move |api| api.container_action(&id, action),
                |_| (),
            ),
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let n = matches.with_untracked(Vec::len);
        match ev.key().as_str() {
            "Escape" => open.set(false),
            "ArrowDown" => {
                ev.prevent_default();
                chosen.update(|c| *c = (*c + 1).min(n.saturating_sub(1)));
            }
            "ArrowUp" => {
                ev.prevent_default();
                chosen.update(|c| *c = c.saturating_sub(1));
            }
            "Enter" => {
                ev.prevent_default();
                if let Some(e) = matches.with_untracked(|m| m.get(chosen.get_untracked()).cloned())
                {
                    run(e);
                }
            }
            _ => {}
        }
    };

    view! {
                <Dialog title="Command palette" class="palette" on_close=move || open.set(false)>
                        <input autofocus type="search" placeholder="Jump to a page or container, or run an action…" aria-label="Command"
                            data-palette-input="" prop:value=move || query.get()
                            on:input=move |ev| { query.set(event_target_value(&ev)); chosen.set(0); } on:keydown=on_key/>
                        <ul class="plain palette-list" role="listbox">
                            {move || matches.get().into_iter().enumerate().map(|(i, e)| {
                                let entry = e.clone();
                                view! {
                                    <li role="option" class:chosen=move || chosen.get() == i aria-selected=move || (chosen.get() == i).to_string()
                                        data-palette-item=e.label.clone() on:click=move |_| run(entry.clone())>
                                        <span>{e.label.clone()}</span><span class="muted">{e.kind}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <p class="muted hint">"↑ ↓ to choose, Enter to go, Esc to close"</p>
                </Dialog>
    }
}
