//! The shell: engine connection, navigation, notices, routes.

use berth_engine::{Api, Policy};
use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes, A};
use leptos_router::path;

use crate::api::{self, ApiError};
use crate::routes::container::{ContainerPage, Inspect, Logs, Overview, Processes};
use crate::routes::create::Create;
use crate::routes::logs::MergedLogs;
use crate::routes::{
    containers::Containers, dashboard::Dashboard, files::Files, stats::Stats, terminal::Terminal,
};
use crate::ui::{Notices, NoticesView, Problem};

/// Where the relay serves the console, below the relay's own path.
const CONSOLE: &str = "/console";

/// The path the relay is reached under: empty, or a reverse proxy's
/// sub-path such as `/berth` (the console is then at `/berth/console/` and
/// the Engine API at `/berth/v1.41/…`). Read from the page's own address.
/// Read once, when the page loads (moving between the console's pages
/// keeps it).
pub fn prefix() -> String {
    thread_local! {
        static PREFIX: String = {
            let path = web_sys::window()
                .and_then(|w| w.location().pathname().ok())
                .unwrap_or_default();
            path.match_indices(CONSOLE)
                .map(|(i, _)| i)
                .find(|&i| matches!(path[i + CONSOLE.len()..].chars().next(), None | Some('/')))
                .map(|i| path[..i].to_owned())
                .unwrap_or_default()
        };
    }
    PREFIX.with(String::clone)
}

/// The router's base: the console's path. Links carry it themselves (the
/// router leaves absolute hrefs as they are).
pub fn base() -> String {
    format!("{}{CONSOLE}", prefix())
}

/// A link to a console page: `href("/containers")`. (The router's
/// `navigate` takes the page without the base: it adds it.)
pub fn href(page: &str) -> String {
    format!("{}{page}", base())
}

/// The negotiated connection every page calls through.
#[derive(Clone, Copy)]
pub struct Engine {
    pub api: LocalResource<Result<Api, ApiError>>,
    /// What the relay lets through, to disable the rest.
    pub policy: LocalResource<Policy>,
}

impl Engine {
    /// The API once negotiated (waits for it).
    pub async fn api(self) -> Result<Api, ApiError> {
        self.api.await
    }
}

#[component]
pub fn App() -> impl IntoView {
    let engine = Engine {
        api: LocalResource::new(api::negotiate),
        policy: LocalResource::new(api::policy),
    };
    provide_context(engine);
    provide_context(Notices::default());

    view! {
        <Router base=base()>
            <header class="top">
                <A href=href("/") attr:class="brand">"Berth"</A>
                <nav>
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
            <crate::palette::Palette/>
            <main>
                <Transition fallback=|| view! { <p class="loading">"Connecting to the engine…"</p> }>
                    {move || Suspend::new(async move {
                        match engine.api().await {
                            Ok(_) => view! {
                                <Routes fallback=|| view! { <p class="empty">"No such page."</p> }>
                                    <Route path=path!("/") view=Dashboard/>
                                    <Route path=path!("/containers") view=Containers/>
                                    <Route path=path!("/engines") view=crate::engines::Engines/>
                                    <Route path=path!("/logs") view=MergedLogs/>
                                    <Route path=path!("/stacks") view=crate::routes::stacks::Stacks/>
                                    <Route path=path!("/stacks/:name") view=crate::routes::stacks::StackPage/>
                                    <Route path=path!("/images") view=crate::routes::images::Images/>
                                    <Route path=path!("/volumes") view=crate::routes::networks::Volumes/>
                                    <Route path=path!("/networks") view=crate::routes::networks::Networks/>
                                    <Route path=path!("/swarm") view=crate::routes::swarm::Swarm/>
                                    <Route path=path!("/events") view=crate::routes::events::Events/>
                                    <Route path=path!("/system") view=crate::routes::system::System/>
                                    <Route path=path!("/create") view=Create/>
                                    <ParentRoute path=path!("/containers/:id") view=ContainerPage>
                                        <Route path=path!("") view=Overview/>
                                        <Route path=path!("inspect") view=Inspect/>
                                        <Route path=path!("logs") view=Logs/>
                                        <Route path=path!("stats") view=Stats/>
                                        <Route path=path!("top") view=Processes/>
                                        <Route path=path!("terminal") view=Terminal/>
                                        <Route path=path!("files") view=Files/>
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
            api::set_token(Some(token.trim()).filter(|t| !t.is_empty()));
            engine.api.refetch();
        }
    };
    view! {
        <form class="signin" on:submit=submit>
            <h1>"Sign in to this relay"</h1>
            <p>"This Berth relay needs its token. It is kept for this tab only."</p>
            {tried.then(|| view! { <p class="warn" data-signin-error="">{why}</p> })}
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

/// The negotiated API version, or that there is none.
#[component]
fn EngineBadge() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let current = crate::engines::current();
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
        }.into_any(),
        Some(Err(ApiError::Unauthorized(_))) => view! { <span class="badge">"signed out"</span> }.into_any(),
        Some(Err(_)) => view! { <span class="badge bad">"engine unreachable"</span> }.into_any(),
        None => view! { <span class="badge">"connecting…"</span> }.into_any(),
    }
    };
    view! { {which} {badge} }
}
