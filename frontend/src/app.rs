//! The shell: the engine connection, navigation, notices, and the router.
//! A page is a file in `routes/` and a line here.

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes, A};
use leptos_router::{path, Lazy};

use crate::api::{self, base, href, ApiError, Engine};
use crate::lazy::lazy_pages;
use crate::live::disk::DiskUsage;
use crate::routes::containers;
use crate::ui::palette::Palette;
use crate::ui::{Notices, NoticesView, Problem};

// The pages other than the containers list are downloaded when first shown,
// in groups (one wasm module each, see `lazy`): a route names the group's
// struct, `view={Lazy::<group::Route>::new()}`, never the component itself
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
                                    <Route path=path!("/") view={Lazy::<home_pages::Dashboard>::new()}/>
                                    <Route path=path!("/engines") view={Lazy::<home_pages::Engines>::new()}/>
                                    <Route path=path!("/containers") view=containers::Containers/>
                                    <Route path=path!("/create") view={Lazy::<create_page::Create>::new()}/>
                                    <Route path=path!("/logs") view={Lazy::<stack_pages::MergedLogs>::new()}/>
                                    <Route path=path!("/stacks") view={Lazy::<stack_pages::Stacks>::new()}/>
                                    <Route path=path!("/stacks/:name") view={Lazy::<stack_pages::StackPage>::new()}/>
                                    <Route path=path!("/images") view={Lazy::<resource_pages::Images>::new()}/>
                                    <Route path=path!("/volumes") view={Lazy::<resource_pages::Volumes>::new()}/>
                                    <Route path=path!("/networks") view={Lazy::<resource_pages::Networks>::new()}/>
                                    <Route path=path!("/swarm") view={Lazy::<stack_pages::Swarm>::new()}/>
                                    <Route path=path!("/events") view={Lazy::<events_page::Events>::new()}/>
                                    <Route path=path!("/system") view={Lazy::<resource_pages::System>::new()}/>
                                    <ParentRoute path=path!("/containers/:id") view={Lazy::<container_pages::ContainerPage>::new()}>
                                        <Route path=path!("") view={Lazy::<container_pages::Overview>::new()}/>
                                        <Route path=path!("inspect") view={Lazy::<container_pages::Inspect>::new()}/>
                                        <Route path=path!("logs") view={Lazy::<container_pages::Logs>::new()}/>
                                        <Route path=path!("stats") view={Lazy::<container_pages::Stats>::new()}/>
                                        <Route path=path!("top") view={Lazy::<container_pages::Processes>::new()}/>
                                        <Route path=path!("terminal") view={Lazy::<terminal_page::Terminal>::new()}/>
                                        <Route path=path!("files") view={Lazy::<container_pages::Files>::new()}/>
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
