//! Compose stacks, found from the `com.docker.compose.*` labels whichever
//! tool created them (docker compose v1 or v2, Portainer, by hand): a list
//! with service counts and states, and a page per stack with its services,
//! its containers' merged logs and stack-level start, stop, restart and
//! remove. Both follow the engine's events stream.

use std::collections::{BTreeMap, BTreeSet};

use berth_engine::models::{ContainerSummary, ContainerSummaryStateEnum as State};
use berth_engine::ContainerAction;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{self, ApiError};
use crate::app::{href, Engine};
use crate::live::{follow_events, latest};
use crate::routes::bulk::{self, Bulk, BulkAction, BulkPanel};
use crate::routes::containers::{Removal, RemoveDialog, PROJECT_LABEL};
use crate::routes::logs::{LogWorkbench, Source};
use crate::ui::{container_name, Notices, Problem};

const SERVICE_LABEL: &str = "com.docker.compose.service";
const CONFIG_LABEL: &str = "com.docker.compose.project.config_files";
const WORKDIR_LABEL: &str = "com.docker.compose.project.working_dir";

/// One container of a stack.
#[derive(Clone, PartialEq)]
struct Member {
    id: String,
    name: String,
    service: String,
    image: String,
    state: State,
    status: String,
}

#[derive(Clone, PartialEq)]
struct Stack {
    name: String,
    config_files: String,
    working_dir: String,
    /// By service, then name.
    members: Vec<Member>,
}

impl Stack {
    fn services(&self) -> BTreeSet<&str> {
        self.members.iter().map(|m| m.service.as_str()).collect()
    }

    /// "2 running, 1 exited".
    fn states(&self) -> String {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for m in &self.members {
            *counts.entry(m.state.to_string()).or_default() += 1;
        }
        let mut parts: Vec<(String, usize)> = counts.into_iter().collect();
        // Running first, the rest by name.
        parts.sort_by_key(|(s, _)| (s != "running", s.clone()));
        parts
            .into_iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn targets(&self) -> Vec<(String, String, Option<State>)> {
        self.members
            .iter()
            .map(|m| (m.id.clone(), m.name.clone(), Some(m.state)))
            .collect()
    }
}

/// The stacks among `containers`, by name.
fn stacks_of(containers: Vec<ContainerSummary>) -> Vec<Stack> {
    let mut by_name: BTreeMap<String, Stack> = BTreeMap::new();
    for c in containers {
        let labels = c.labels.clone().unwrap_or_default();
        let Some(project) = labels.get(PROJECT_LABEL).filter(|p| !p.is_empty()) else {
            continue;
        };
        let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
        let stack = by_name.entry(project.clone()).or_insert_with(|| Stack {
            name: project.clone(),
            config_files: label(CONFIG_LABEL),
            working_dir: label(WORKDIR_LABEL),
            members: vec![],
        });
        stack.members.push(Member {
            name: container_name(&c),
            id: c.id.unwrap_or_default(),
            service: label(SERVICE_LABEL),
            image: c.image.unwrap_or_default(),
            state: c.state.unwrap_or(State::EMPTY),
            status: c.status.unwrap_or_default(),
        });
    }
    let mut out: Vec<Stack> = by_name.into_values().collect();
    for s in &mut out {
        s.members
            .sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    }
    out
}

fn label_filter(value: String) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([("label".to_owned(), vec![value])])
}

/// The stacks, kept current by the engine's container events: `None` until
/// first loaded.
#[allow(clippy::type_complexity)]
fn live_stacks(
    engine: Engine,
) -> (
    RwSignal<Option<Result<Vec<Stack>, ApiError>>>,
    RwSignal<bool>,
    impl Fn() + Copy + Send + Sync + 'static,
) {
    let (stacks, reload) = latest(move || async move {
        let api = engine.api().await?;
        let filters = label_filter(PROJECT_LABEL.to_owned());
        api::call(api.containers_where(true, &filters))
            .await
            .map(stacks_of)
    });
    reload();
    let mut filters = label_filter(PROJECT_LABEL.to_owned());
    filters.insert("type".into(), vec!["container".into()]);
    let live = follow_events(engine, filters, reload);
    (stacks, live, reload)
}

#[component]
pub fn Stacks() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let (stacks, live, reload) = live_stacks(engine);
    let rows = Memo::new(move |prev: Option<&Vec<Stack>>| match stacks.get() {
        Some(Ok(s)) => s,
        _ => prev.cloned().unwrap_or_default(),
    });
    view! {
        <h1>"Stacks"</h1>
        <p class="muted">"Compose projects, found from the labels compose sets on the containers it makes."</p>
        <Show when=move || !live.get()>
            <p class="banner" data-problem="reconnecting" role="status">"Lost the live connection to the engine; reconnecting…"</p>
        </Show>
        {move || match stacks.get() {
            None => Some(view! { <p class="loading">"Loading stacks…"</p> }.into_any()),
            Some(Err(err)) => Some(view! { <Problem err retry=reload/> }.into_any()),
            Some(Ok(s)) if s.is_empty() => Some(view! {
                <p class="empty">"No compose stacks. Containers made by "<code>"docker compose up"</code>" (or any tool that sets "<code>{PROJECT_LABEL}</code>") show here."</p>
            }.into_any()),
            Some(Ok(_)) => None,
        }}
        <table class="list" data-stacks="" hidden=move || rows.with(Vec::is_empty)>
            <thead><tr><th>"Stack"</th><th>"Services"</th><th>"Containers"</th><th>"Config file"</th></tr></thead>
            <tbody>
                <For each=move || rows.get() key=|s| (s.name.clone(), s.services().len(), s.states(), s.config_files.clone()) let:s>
                    {stack_row(s)}
                </For>
            </tbody>
        </table>
    }
}

fn stack_row(s: Stack) -> impl IntoView {
    let link = href(&format!("/stacks/{}", s.name));
    let services = format!("{} services", s.services().len());
    let states = s.states();
    let key = s.name.clone();
    view! {
        <tr data-stack=key>
            <td data-label="Stack" class="name"><A href=link>{s.name}</A></td>
            <td data-label="Services">{services}</td>
            <td data-label="Containers">{states}</td>
            <td data-label="Config file" class="muted">{s.config_files}</td>
        </tr>
    }
}

#[component]
pub fn StackPage() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let (stacks, live, reload) = live_stacks(engine);
    // This stack; `Some(None)` once loaded if nothing carries its label.
    let stack = Memo::new(move |_| {
        stacks.with(|s| match s {
            Some(Ok(all)) => Some(name.with(|n| all.iter().find(|s| s.name == *n).cloned())),
            _ => None,
        })
    });
    let bulk = RwSignal::new(None::<Bulk>);
    let removing = RwSignal::new(false);
    let targets = move || {
        stack
            .get_untracked()
            .flatten()
            .map(|s| s.targets())
            .unwrap_or_default()
    };
    let go = move |verb: &'static str, action: ContainerAction| {
        let action = BulkAction::Act(action);
        bulk::run(
            engine,
            bulk,
            verb,
            bulk::items(targets(), action),
            action,
            || {},
        );
    };
    // After its containers: the networks compose made for the stack, and
    // its volumes if asked.
    let remove = move |volumes: bool| {
        removing.set(false);
        let project = name.get_untracked();
        let finish = move || {
            spawn_local(async move {
                let outcome = async {
                    let api = engine.api().await?;
                    let filters = label_filter(format!("{PROJECT_LABEL}={project}"));
                    let nets = api::call(api.networks_where(&filters)).await?;
                    for n in nets.as_array().into_iter().flatten() {
                        if let Some(id) = n.get("Id").and_then(|v| v.as_str()) {
                            api::act(api.network_remove(id)).await?;
                        }
                    }
                    if volumes {
                        let vols = api::call(api.volumes_where(&filters)).await?;
                        let list = vols.get("Volumes").and_then(|v| v.as_array());
                        for v in list.into_iter().flatten() {
                            if let Some(n) = v.get("Name").and_then(|v| v.as_str()) {
                                api::act(api.volume_remove(n, false)).await?;
                            }
                        }
                    }
                    Ok::<_, ApiError>(())
                }
                .await;
                if let Err(e) = outcome {
                    notices.error(format!(
                        "Removed the containers of {project}, but not all the rest: {e}"
                    ));
                }
            });
        };
        let action = BulkAction::Remove { volumes };
        bulk::run(
            engine,
            bulk,
            "remove",
            bulk::items(targets(), action),
            action,
            finish,
        );
    };
    // The logs of the stack's containers, reopened only when that set changes.
    let sources = Memo::new(move |_| {
        stack.with(|s| {
            s.clone()
                .flatten()
                .map(|s| {
                    s.members
                        .into_iter()
                        .map(|m| Source::container(m.id, m.name))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });

    view! {
        <p class="crumbs"><A href=href("/stacks")>"Stacks"</A>" / "</p>
        <h1>{move || name.get()}</h1>
        <Show when=move || !live.get()>
            <p class="banner" data-problem="reconnecting" role="status">"Lost the live connection to the engine; reconnecting…"</p>
        </Show>
        {move || match stacks.get() {
            Some(Err(err)) => Some(view! { <Problem err retry=reload/> }.into_any()),
            None => Some(view! { <p class="loading">"Loading the stack…"</p> }.into_any()),
            Some(Ok(_)) if stack.with(|s| matches!(s, Some(None))) => Some(view! {
                <p class="empty" data-stack-empty="">"No container carries this stack's label (any more)."</p>
            }.into_any()),
            Some(Ok(_)) => None,
        }}
        {move || stack.get().flatten().map(|s| view! {
            <p class="muted" data-stack-summary="">
                {format!("{} services, {}", s.services().len(), s.states())}
                {(!s.config_files.is_empty()).then(|| view! { " · " <code>{s.config_files.clone()}</code> })}
                {(!s.working_dir.is_empty()).then(|| view! { " in " <code>{s.working_dir.clone()}</code> })}
            </p>
        })}
        <div class="actions toolbar" hidden=move || !stack.with(|s| matches!(s, Some(Some(_))))>
            <button data-stack-action="start" on:click=move |_| go("start", ContainerAction::Start)>"start"</button>
            <button data-stack-action="stop" on:click=move |_| go("stop", ContainerAction::Stop)>"stop"</button>
            <button data-stack-action="restart" on:click=move |_| go("restart", ContainerAction::Restart)>"restart"</button>
            <button class="danger" data-stack-action="remove" on:click=move |_| removing.set(true)>"remove…"</button>
        </div>
        {move || bulk.get().map(|b| view! { <BulkPanel bulk=b on_close=move || bulk.set(None)/> })}
        {move || removing.get().then(|| view! {
            <RemoveDialog removal=Removal {
                    id: String::new(),
                    name: format!("the stack {} (its containers and networks)", name.get_untracked()),
                    running: stack.get_untracked().flatten().is_some_and(|s| s.members.iter().any(|m| m.state == State::RUNNING)),
                }
                on_cancel=move || removing.set(false) on_confirm=remove/>
        })}
        <h2>"Services"</h2>
        <table class="list" data-stack-services="" hidden=move || !stack.with(|s| matches!(s, Some(Some(_))))>
            <thead><tr><th>"Service"</th><th>"Container"</th><th>"Image"</th><th>"State"</th><th>"Status"</th></tr></thead>
            <tbody>
                <For each=move || stack.get().flatten().map(|s| s.members).unwrap_or_default() key=|m| (m.id.clone(), m.state.to_string(), m.status.clone()) let:m>
                    <tr data-service=m.service.clone()>
                        <td data-label="Service" class="name">{m.service.clone()}</td>
                        <td data-label="Container"><A href=href(&format!("/containers/{}", m.name))>{m.name.clone()}</A></td>
                        <td data-label="Image">{m.image.clone()}</td>
                        <td data-label="State"><span class=format!("state {}", m.state)>{m.state.to_string()}</span></td>
                        <td data-label="Status" class="muted">{m.status.clone()}</td>
                    </tr>
                </For>
            </tbody>
        </table>
        <h2>"Logs"</h2>
        {move || {
            let s = sources.get();
            (!s.is_empty()).then(|| view! { <LogWorkbench sources=s/> })
        }}
    }
}
