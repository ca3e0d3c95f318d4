//! One compose stack: its services and containers, their logs merged, and
//! stack-level start, stop, restart and remove (its containers, then the
//! networks compose made for it, and its volumes if asked). Follows the
//! engine's events.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{self, href, ApiError, Engine};
use crate::live::stacks::use_stacks;
use crate::state::bulk::{Bulk, BulkAction};
use crate::state::containers::PROJECT_LABEL;
use crate::state::json::{json_items, json_text};
use crate::state::stacks::label_filter;
use crate::ui::bulk::{self, BulkButtons, BulkPanel};
use crate::ui::logs::{LogWorkbench, Source};
use crate::ui::remove::{Removal, RemoveDialog};
use crate::ui::{Notices, Problem, Reconnecting};

#[component]
pub fn StackPage() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let (stacks, live, reload) = use_stacks(engine);
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let notices = expect_context::<Notices>();
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
    let go = move |action: BulkAction| bulk::run(engine, bulk, Bulk::new(action, targets()), || {});
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
                    let nets = api::call(api.networks(&filters)).await?;
                    for n in json_items(&nets, "") {
                        api::call(api.network_remove(&json_text(n, "/Id"))).await?;
                    }
                    if volumes {
                        let vols = api::call(api.volumes_where(&filters)).await?;
                        for v in json_items(&vols, "/Volumes") {
                            api::call(api.volume_remove(&json_text(v, "/Name"), false)).await?;
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
        bulk::run(engine, bulk, Bulk::new(action, targets()), finish);
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
    let found = move || stack.with(|s| matches!(s, Some(Some(_))));
    let what = Signal::derive(move || format!("the stack {}", name.get()));

    view! {
        <p class="crumbs"><A href=href("/stacks")>"Stacks"</A>" / "</p>
        <h1>{move || name.get()}</h1>
        <Reconnecting live/>
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
        <div class="actions toolbar" hidden=move || !found()>
            <BulkButtons what actions=&bulk::STACK on_act=go on_remove=move || removing.set(true)/>
        </div>
        {move || bulk.get().map(|b| view! { <BulkPanel bulk=b on_close=move || bulk.set(None)/> })}
        {move || removing.get().then(|| view! {
            <RemoveDialog removal=Removal {
                    name: format!("the stack {} (its containers and networks)", name.get_untracked()),
                    running: stack.get_untracked().flatten().is_some_and(|s| s.running()),
                }
                on_cancel=move || removing.set(false) on_confirm=remove/>
        })}
        <h2>"Services"</h2>
        <table class="list" data-stack-services="" hidden=move || !found()>
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
