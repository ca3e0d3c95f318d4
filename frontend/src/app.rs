//! The shell: the engine connection, navigation, notices, and the router.
//! A page is a file in `routes/` and a line here.

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes, A};
use leptos_router::path;

use crate::api::{self, base, href, ApiError, Engine};
use crate::lazy::lazy_pages;
use crate::live::disk::DiskUsage;
use crate::routes::containers;
use crate::ui::palette::Palette;
use crate::ui::{Notices, NoticesView, Problem};

// The pages other than the containers list are downloaded when first shown,
// in groups (one wasm module each, see `lazy`): a route names the group's
// struct, `view=group::Route`, never the component itself
// (naming it here would keep its code in the main wasm). Grouped so that a
// first visit to any page is at most 8 wasm requests (main module included).
lazy_pages! {
    /// A container and its tabs (the terminal is a group of its own).
    mod container_pages {
        ContainerPage => crate::routes::container::ContainerPage,
        Overview => crate::routes::container::overview::Overview,
        Inspect => crate::routes::container::inspect::Inspect,
        Logs => crate::routes::container::logs::Logs,
        Stats => crate::routes::container::stats::Stats,
        Processes => crate::routes::container::processes::Processes,
        Files => crate::routes::container::files::Files,
    }
}
lazy_pages! {
    /// A container's terminal (xterm.js).
    mod terminal_page {
        Terminal => crate::routes::container::terminal::Terminal,
    }
}
lazy_pages! {
    /// Creating a container.
    mod create_page {
        Create => crate::routes::create::Create,
    }
}
lazy_pages! {
    /// Images, volumes, networks and the engine's disk use.
    mod resource_pages {
        Images => crate::routes::images::Images,
        Volumes => crate::routes::volumes::Volumes,
        Networks => crate::routes::networks::Networks,
        System => crate::routes::system::System,
    }
}
lazy_pages! {
    /// Compose stacks, Swarm and merged logs (they share the log workbench).
    mod stack_pages {
        Stacks => crate::routes::stacks::Stacks,
        StackPage => crate::routes::stack::StackPage,
        Swarm => crate::routes::swarm::Swarm,
        MergedLogs => crate::routes::logs::MergedLogs,
    }
}
lazy_pages! {
    /// The engine's event stream.
    mod events_page {
        Events => crate::routes::events::Events,
    }
}
lazy_pages! {
    /// The flight recorder: containers that died or are gone, one's record,
    /// and a search across every log it kept.
    mod history_pages {
        History => crate::routes::history::History,
        HistoryRecord => crate::routes::record::HistoryRecord,
        Search => crate::routes::search::Search,
    }
}
lazy_pages! {
    /// The dashboard and the engines list.
    mod home_pages {
        Dashboard => crate::routes::dashboard::Dashboard,
        Engines => crate::routes::engines::Engines,
    }
}

#[component]
pub fn App() -> impl IntoView {
    let engine = Engine::new();
    provide_context(engine);
    provide_context(Notices::default());
    provide_context(DiskUsage::new());

    view! {
        <Router base=base()>
            <header class="top">
                <A href=href("/") attr:class="brand">"Berth"</A>
                <nav aria-label="Pages">
                    <A href=href("/") exact=true>"Dashboard"</A>
                    <A href=href("/engines")>"Engines"</A>
                    <A href=href("/containers")>"Containers"</A>
                    <A href=href("/stacks")>"Stacks"</A>
                    <A href=href("/images")>"Images"</A>
                    <A href=href("/volumes")>"Volumes"</A>
                    <A href=href("/networks")>"Networks"</A>
                    <A href=href("/swarm")>"Swarm"</A>
                    <A href=href("/events")>"Events"</A>
                    <A href=href("/history")>"History"</A>
                    <A href=href("/search")>"Search"</A>
                    <A href=href("/system")>"System"</A>
                </nav>
                <span class="muted hint-key" title="Command palette">"Ctrl K"</span>
                <EngineBadge/>
                <SignOut/>
            </header>
            <NoticesView/>
            <Palette/>
            <main>
                <Transition fallback=|| view! { <p class="loading">"Connecting to the engine…"</p> }>
                    {move || Suspend::new(async move {
                        match engine.api().await {
                            Ok(_) => view! {
                                <Routes fallback=|| view! { <p class="empty">"No such page."</p> }>
                                    <Route path=path!("/") view=home_pages::Dashboard/>
                                    <Route path=path!("/engines") view=home_pages::Engines/>
                                    <Route path=path!("/containers") view=containers::Containers/>
                                    <Route path=path!("/create") view=create_page::Create/>
                                    <Route path=path!("/logs") view=stack_pages::MergedLogs/>
                                    <Route path=path!("/stacks") view=stack_pages::Stacks/>
                                    <Route path=path!("/stacks/:name") view=stack_pages::StackPage/>
                                    <Route path=path!("/images") view=resource_pages::Images/>
                                    <Route path=path!("/volumes") view=resource_pages::Volumes/>
                                    <Route path=path!("/networks") view=resource_pages::Networks/>
                                    <Route path=path!("/swarm") view=stack_pages::Swarm/>
                                    <Route path=path!("/events") view=events_page::Events/>
                                    <Route path=path!("/system") view=resource_pages::System/>
                                    <Route path=path!("/history") view=history_pages::History/>
                                    <Route path=path!("/history/:id") view=history_pages::HistoryRecord/>
                                    <Route path=path!("/search") view=history_pages::Search/>
                                    <ParentRoute path=path!("/containers/:id") view=container_pages::ContainerPage>
                                        <Route path=path!("") view=container_pages::Overview/>
                                        <Route path=path!("inspect") view=container_pages::Inspect/>
                                        <Route path=path!("logs") view=container_pages::Logs/>
                                        <Route path=path!("stats") view=container_pages::Stats/>
                                        <Route path=path!("top") view=container_pages::Processes/>
                                        <Route path=path!("terminal") view=terminal_page::Terminal/>
                                        <Route path=path!("files") view=container_pages::Files/>
                                    </ParentRoute>
                                </Routes>
                            }.into_any(),
                            Err(ApiError::Unauthorized(why)) => view! { <SignIn why/> }.into_any(),
                            Err(err) => view! {
                                <Problem err retry=move || engine.api.refetch()/>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </main>
        </Router>
    }
}

/// Asks for the relay's token. The relay's own message says why (none
/// given yet, a wrong one, or too many wrong ones).
#[component]
fn SignIn(why: String) -> impl IntoView {
    let engine = expect_context::<Engine>();
    let input = NodeRef::<leptos::html::Input>::new();
    let tried = api::token().is_some();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(el) = input.get() {
            let token = el.value();
            // Emptied at once: a wrong token is not left in the field, and
            // the next try starts clean.
            el.set_value("");
            api::set_token(Some(&token));
            engine.api.refetch();
        }
    };
    view! {
        <form class="signin" on:submit=submit>
            <h1>"Sign in to this relay"</h1>
            <p>"This Berth relay needs its token. It is kept for this tab only."</p>
            {tried.then(|| view! { <p class="warn" data-signin-error="" role="alert">{why}</p> })}
            <label for="token">"Token"</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required node_ref=input autofocus/>
            <button type="submit">"Sign in"</button>
        </form>
    }
}

/// Forgets the token, shown while the tab has one.
#[component]
fn SignOut() -> impl IntoView {
    let engine = expect_context::<Engine>();
    move || {
        engine.api.get();
        api::token().is_some().then(|| {
            view! {
                <button class="ghost-text" on:click=move |_| { api::set_token(None); engine.api.refetch(); }>"Sign out"</button>
            }
        })
    }
}

/// Which relay is in use, its policy, and the negotiated API version.
#[component]
fn EngineBadge() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let current = api::current();
    let which = (!current.url.is_empty()).then(|| {
        view! { <A href=href("/engines") attr:class="badge" attr:data-current-engine=current.name.clone()>{format!("engine: {}", current.name)}</A> }
    });
    let badge = move || {
        match engine.api.get() {
        Some(Ok(api)) => view! {
            {move || engine.policy.get().filter(|p| p.name != "full").map(|p| view! {
                <span class="badge" data-policy=p.name.clone() title="The relay's policy: what it refuses is disabled here">{format!("policy: {}", p.name)}</span>
            })}
            <span class="badge ok" title="Engine API version in use">"API " {api.version.to_string()}</span>
        }
        .into_any(),
        Some(Err(ApiError::Unauthorized(_))) => view! { <span class="badge">"signed out"</span> }.into_any(),
        Some(Err(_)) => view! { <span class="badge bad">"engine unreachable"</span> }.into_any(),
        None => view! { <span class="badge">"connecting…"</span> }.into_any(),
    }
    };
    view! { {which} {badge} }
}
