//! Compose stacks, found from the `com.docker.compose.*` labels whichever
//! tool created them (docker compose v1 or v2, Portainer, by hand), with
//! service counts, states and config file. Follows the engine's events.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{href, Engine};
use crate::live::stacks::use_stacks;
use crate::state::containers::PROJECT_LABEL;
use crate::state::stacks::Stack;
use crate::ui::{Problem, Reconnecting};

#[component]
pub fn Stacks() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let (stacks, live, reload) = use_stacks(engine);
    let rows = Memo::new(move |prev: Option<&Vec<Stack>>| match stacks.get() {
        Some(Ok(s)) => s,
        _ => prev.cloned().unwrap_or_default(),
    });
    view! {
        <h1>"Stacks"</h1>
        <p class="muted">"Compose projects, found from the labels compose sets on the containers it makes."</p>
        <Reconnecting live/>
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
                    {
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
                </For>
            </tbody>
        </table>
    }
}
