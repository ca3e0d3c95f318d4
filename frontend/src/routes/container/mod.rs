//! One container: a header with its state and actions, and tabs (each its
//! own URL and page, in this folder) for overview, inspect, logs, stats,
//! processes, terminal and files. This frame loads the container, shares
//! it with the tabs (`ui::current::Current`) and follows the engine's
//! events for it.

pub mod files;
pub mod inspect;
pub mod logs;
pub mod overview;
pub mod processes;
pub mod stats;
pub mod terminal;

use berth_engine::models::EventMessage;
use berth_engine::ContainerAction;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;

use crate::api::{self, href, ApiError, Engine};
use crate::live::{follow_events_where, of_types};
use crate::state::json::json_text;
use crate::ui::current::Current;
use crate::ui::dialog::Dialog;
use crate::ui::remove::{Removal, RemoveDialog};
use crate::ui::{act_then, named, refusal, save_as, Notices, Problem};

const TABS: [(&str, &str); 7] = [
    ("", "Overview"),
    ("/inspect", "Inspect"),
    ("/logs", "Logs"),
    ("/stats", "Stats"),
    ("/top", "Processes"),
    ("/terminal", "Terminal"),
    ("/files", "Files"),
];

const SIGNALS: [&str; 8] = [
    "SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH",
];

#[component]
pub fn ContainerPage() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();
    let params = use_params_map();
    // As the URL has it (a name or an id)…
    let url_id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let inspect = RwSignal::new(None::<Result<Value, ApiError>>);
    // …and the full id once known, which every call uses: a rename keeps
    // the page working.
    let id = Memo::new(move |_| {
        inspect
            .with(|i| match i {
                Some(Ok(c)) => Some(json_text(c, "/Id")).filter(|id| !id.is_empty()),
                _ => None,
            })
            .unwrap_or_else(|| url_id.get())
    });
    let current = Current { id, inspect };
    provide_context(current);

    // The URL may name the container; once known, its full id is what is
    // asked for and followed, so a rename (here or elsewhere) keeps the page.
    let full_id = StoredValue::new(None::<(String, String)>);
    let reload = move || {
        let url_id = url_id.get_untracked();
        let target = match full_id.get_value() {
            Some((u, full)) if u == url_id => full,
            _ => url_id.clone(),
        };
        spawn_local(async move {
            let got =
                async { api::call(engine.api().await?.container_inspect(&target)).await }.await;
            if url_id == params.read_untracked().get("id").unwrap_or_default() {
                if let Ok(c) = &got {
                    full_id.set_value(Some((url_id, json_text(c, "/Id"))));
                }
                inspect.set(Some(got));
            }
        });
    };
    Effect::new(move |_| {
        url_id.track();
        reload();
    });
    let ours = move |e: &EventMessage| {
        let actor = e.actor.as_ref().and_then(|a| a.id.as_deref());
        match full_id.get_value() {
            Some((_, full)) => actor == Some(full.as_str()),
            None => true,
        }
    };
    let live = follow_events_where(engine, of_types(&["container"]), ours, reload);

    let busy = RwSignal::new(false);
    let navigate = StoredValue::new_local(use_navigate());
    // One call about this container, the actions held meanwhile, then a reload.
    let run = move |what: &str,
                    make: Box<
        dyn FnOnce(berth_engine::Api, String) -> berth_engine::Endpoint<()>,
    >| {
        busy.set(true);
        let target = id.get_untracked();
        let what = format!("{what} {}", current.name());
        act_then(
            engine,
            notices,
            what,
            move |api| make(api, target),
            move |_| {
                busy.set(false);
                reload();
            },
        );
    };

    let actions = move || {
        let state = current.state();
        let name = current.name();
        ContainerAction::ALL
            .into_iter()
            .filter(|a| a.applies_to(state) && *a != ContainerAction::Kill)
            .map(|action| {
                let why = engine.refusal(|api| api.container_action("x", action));
                let blocked = why.is_some();
                view! {
                    <button data-action=action.verb() aria-label=named(action.verb(), &name)
                        title=why.clone() aria-description=why disabled=move || blocked || busy.get()
                        on:click=move |_| run(action.verb(), Box::new(move |api, id| api.container_action(&id, action)))>
                        {action.verb()}
                    </button>
                }
            })
            .collect_view()
    };
    let signal = RwSignal::new(SIGNALS[0].to_owned());
    let kill_refused = refusal(engine, |api| api.container_kill("x", "SIGTERM"));
    let rename_refused = refusal(engine, |api| api.container_rename("x", "y"));
    let create_refused = refusal(engine, |api| api.container_create(None, &Value::Null));
    let export_refused = refusal(engine, |api| api.container_export("x"));
    let remove_refused = refusal(engine, |api| api.container_remove("x", true, true));
    let running = move || current.is_up();

    let renaming = RwSignal::new(None::<String>);
    let removal = RwSignal::new(None::<Removal>);
    let confirm_remove = move |volumes: bool| {
        let Some(r) = removal.get_untracked() else {
            return;
        };
        removal.set(None);
        let target = id.get_untracked();
        act_then(
            engine,
            notices,
            format!("remove {}", r.name),
            move |api| api.container_remove(&target, r.running, volumes),
            move |done| {
                if done.is_some() {
                    navigate.with_value(|n| n("/containers", Default::default()));
                }
            },
        );
    };
    let export = move |_| {
        let (name, target) = (current.name(), id.get_untracked());
        save_as(
            engine,
            notices,
            format!("export {name}"),
            move |api| api.container_export(&target),
            format!("{name}.tar"),
        );
    };

    let header = move || {
        let state = current.state();
        let name = current.name();
        view! {
            <div class="page-head">
                <h1 data-container-name="">{name.clone()}</h1>
                <span class=format!("state {state}") data-state=state.to_string()>{state.to_string()}</span>
                {move || (!live.get()).then(|| view! { <span class="badge" data-problem="reconnecting">"reconnecting…"</span> })}
            </div>
            <div class="actions page-actions" role="group" aria-label=format!("Actions on {name}")>
                {actions}
                <span class="joined">
                    <select aria-label="Signal to send" prop:value=move || signal.get() on:change=move |ev| signal.set(event_target_value(&ev)) disabled=move || !running()>
                        {SIGNALS.iter().map(|s| view! { <option value=*s>{*s}</option> }).collect_view()}
                    </select>
                    <button data-action="kill" aria-label=format!("Send the signal to {name}") title=kill_refused aria-description=kill_refused
                        disabled=move || !running() || busy.get() || kill_refused.get().is_some()
                        on:click=move |_| { let sig = signal.get_untracked(); run(&format!("send {sig} to"), Box::new(move |api, id| api.container_kill(&id, &sig))) }>"send"</button>
                </span>
                <button data-action="rename" aria-label=named("rename", &name) title=rename_refused aria-description=rename_refused disabled=move || rename_refused.get().is_some()
                    on:click=move |_| renaming.set(Some(current.name()))>"rename"</button>
                {move || match create_refused.get() {
                    None => view! { <A href=move || href(&format!("/create?from={}", id.get())) attr:class="button" attr:data-action="duplicate"
                        attr:aria-label=format!("Duplicate or edit {}", current.name())>"duplicate / edit"</A> }.into_any(),
                    Some(why) => view! { <button data-action="duplicate" aria-label=format!("Duplicate or edit {}", current.name()) disabled title=why.clone() aria-description=why>"duplicate / edit"</button> }.into_any(),
                }}
                <button data-action="export" aria-label=named("export", &name) on:click=export disabled=move || export_refused.get().is_some()
                    title=move || export_refused.get().unwrap_or_else(|| "Download the container's filesystem as a tar".into())
                    aria-description=export_refused>"export"</button>
                <button class="danger" data-action="remove" aria-label=named("remove", &name) title=remove_refused aria-description=remove_refused
                    disabled=move || busy.get() || remove_refused.get().is_some()
                    on:click=move |_| removal.set(Some(Removal { name: current.name(), running: running() }))>"remove"</button>
            </div>
        }
    };

    // The page is built once the container is known and then only updated:
    // its events (an exec starting, say) must not rebuild an open tab.
    let loaded = Memo::new(move |_| match &*inspect.read() {
        None => None,
        Some(Err(e)) => Some(Err(e.clone())),
        Some(Ok(_)) => Some(Ok(())),
    });
    view! {
        <p class="crumbs"><A href=href("/containers")>"← Containers"</A></p>
        {move || match loaded.get() {
            None => view! { <p class="loading">"Loading the container…"</p> }.into_any(),
            Some(Err(err)) => view! { <Problem err retry=reload/> }.into_any(),
            Some(Ok(())) => view! {
                {header}
                <nav class="tabs" aria-label="Container views">
                    {TABS.iter().map(|(path, label)| view! {
                        <A href=move || href(&format!("/containers/{}{path}", url_id.get())) exact=true>{*label}</A>
                    }).collect_view()}
                </nav>
                <Outlet/>
            }.into_any(),
        }}
        {move || renaming.get().map(|old| view! { <RenameDialog old on_cancel=move || renaming.set(None)
            on_confirm=move |new: String| { renaming.set(None); run("rename", Box::new(move |api, id| api.container_rename(&id, &new))) }/> })}
        {move || removal.get().map(|r| view! { <RemoveDialog removal=r on_cancel=move || removal.set(None) on_confirm=confirm_remove/> })}
    }
}

#[component]
fn RenameDialog(
    old: String,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
    on_confirm: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(i) = input.get_untracked() {
            on_confirm(i.value().trim().to_owned());
        }
    };
    view! {
        <Dialog title=named("rename", &old) on_close=on_cancel>
            <form on:submit=submit>
                <label for="new-name">"New name"</label>
                <input id="new-name" node_ref=input value=old autofocus required pattern="[a-zA-Z0-9][a-zA-Z0-9_.-]*"
                    title="Letters, digits, and _ . - after the first character"/>
                <div class="buttons">
                    <button type="button" on:click=move |_| on_cancel()>"Cancel"</button>
                    <button type="submit" data-action="confirm-rename">"Rename"</button>
                </div>
            </form>
        </Dialog>
    }
}
