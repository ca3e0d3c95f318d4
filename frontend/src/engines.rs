//! Several engines in one console: a list of Berth relays (this one, and
//! others by URL), which of them the console drives, and an overview page
//! across all of them with a search that finds a container on any engine.
//!
//! The list (names and URLs) is kept in the browser's local storage, so it
//! survives reloads and restarts; tokens stay in the tab's session storage,
//! one per relay (see `api`). Another relay must admit this console's
//! origin: start it with `--allow-origin <this console's origin>`.

use berth_engine::models::ContainerSummaryStateEnum as State;
use berth_engine::{Api, ApiVersion, Method};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use crate::api::{self, ApiError, Body};
use crate::app::href;

const LIST_KEY: &str = "berth.engines";
const CURRENT_KEY: &str = "berth.engine";

/// One relay. `url` is empty for the relay that served the console.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub url: String,
}

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn this_relay() -> Entry {
    Entry {
        name: "This relay".into(),
        url: String::new(),
    }
}

/// Every relay: this one first, then those added, in order.
pub fn list() -> Vec<Entry> {
    let added: Vec<Entry> = local()
        .and_then(|s| s.get_item(LIST_KEY).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    std::iter::once(this_relay()).chain(added).collect()
}

fn save(all: &[Entry]) {
    let added: Vec<&Entry> = all.iter().filter(|e| !e.url.is_empty()).collect();
    if let (Some(s), Ok(json)) = (local(), serde_json::to_string(&added)) {
        let _ = s.set_item(LIST_KEY, &json);
    }
}

/// The relay the console drives now.
/// Read once per page load: every request asks, and a switch loads the
/// console again.
pub fn current() -> Entry {
    thread_local! {
        static CURRENT: Entry = {
            let url = local()
                .and_then(|s| s.get_item(CURRENT_KEY).ok().flatten())
                .unwrap_or_default();
            list()
                .into_iter()
                .find(|e| e.url == url)
                .unwrap_or_else(this_relay)
        };
    }
    CURRENT.with(Entry::clone)
}

/// Drives `url` from now on: the console starts again on it.
pub fn switch_to(url: &str, page: &str) {
    if let Some(s) = local() {
        let _ = s.set_item(CURRENT_KEY, url);
    }
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_href(&href(page));
    }
}

/// `http(s)://host[:port][/path]` without a trailing slash.
pub fn normalize(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{url:?}: a relay's URL starts with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!("{url:?} is not a relay's URL"));
    }
    Ok(url.to_owned())
}

/// What one relay says about its engine.
#[derive(Clone, PartialEq)]
struct Probe {
    api: String,
    version: String,
    running: usize,
    stopped: usize,
    containers: Vec<(String, String, State)>,
}

async fn probe(base: &str) -> Result<Probe, ApiError> {
    let ping = Api::ping();
    let resp = api::send_to(base, ping.method, &ping.path, Body::None, None).await?;
    let header = resp.headers().get("API-Version").ok_or_else(|| {
        ApiError::Unexpected(
            "/_ping gave no API-Version header (is the relay's CORS admitting this console?)"
                .into(),
        )
    })?;
    let v = ApiVersion::negotiate(&header).map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let api = Api::new(v);
    let get_json = |path: String| async move {
        let resp = api::send_to(base, Method::Get, &path, Body::None, None).await?;
        let body = resp
            .binary()
            .await
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        serde_json::from_slice::<serde_json::Value>(&body)
            .map_err(|e| ApiError::Unexpected(format!("{path}: {e}")))
    };
    let version = get_json(api.version().path).await?;
    let list = get_json(api.containers(true).path).await?;
    let containers: Vec<(String, String, State)> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let name = c["Names"][0]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_owned();
            let state: State = c["State"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(State::EMPTY);
            (c["Id"].as_str().unwrap_or_default().to_owned(), name, state)
        })
        .collect();
    let running = containers.iter().filter(|c| c.2 == State::RUNNING).count();
    Ok(Probe {
        api: v.to_string(),
        version: version["Version"].as_str().unwrap_or_default().to_owned(),
        running,
        stopped: containers.len() - running,
        containers,
    })
}

/// The engines page: the list with each one's health, version and
/// containers; add, remove, sign in, switch; a search across all.
#[component]
pub fn Engines() -> impl IntoView {
    let entries = RwSignal::new(list());
    let probes = RwSignal::new(Vec::<(String, Option<Result<Probe, ApiError>>)>::new());
    let refresh = move || {
        let all = entries.get_untracked();
        probes.set(all.iter().map(|e| (e.url.clone(), None)).collect());
        for e in all {
            spawn_local(async move {
                let got = probe(&e.url).await;
                probes.update(|p| {
                    if let Some(slot) = p.iter_mut().find(|(u, _)| *u == e.url) {
                        slot.1 = Some(got);
                    }
                });
            });
        }
    };
    refresh();
    let (name, url, token, problem) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(None::<String>),
    );
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match normalize(&url.get_untracked()) {
            Ok(u) => {
                if entries.with_untracked(|all| all.iter().any(|e| e.url == u)) {
                    problem.set(Some(format!("{u} is in the list already")));
                    return;
                }
                let t = token.get_untracked();
                api::set_token_at(&u, Some(t.trim()).filter(|t| !t.is_empty()));
                let n = name.get_untracked().trim().to_owned();
                entries.update(|all| {
                    all.push(Entry {
                        name: if n.is_empty() { u.clone() } else { n },
                        url: u,
                    })
                });
                save(&entries.get_untracked());
                problem.set(None);
                name.set(String::new());
                url.set(String::new());
                token.set(String::new());
                refresh();
            }
            Err(e) => problem.set(Some(e)),
        }
    };
    let remove = move |u: String| {
        entries.update(|all| all.retain(|e| e.url != u));
        save(&entries.get_untracked());
        api::set_token_at(&u, None);
        if u == current().url {
            // The engine in use is gone: back to this relay.
            switch_to("", "/engines");
        } else {
            refresh();
        }
    };
    let current_url = current().url;
    let search = RwSignal::new(String::new());
    let found = move || {
        let needle = search.get().trim().to_lowercase();
        if needle.is_empty() {
            return vec![];
        }
        let names = entries.get();
        probes.with(|p| {
            p.iter()
                .filter_map(|(u, got)| Some((u, got.as_ref()?.as_ref().ok()?)))
                .flat_map(|(u, probe)| {
                    let engine = names
                        .iter()
                        .find(|e| e.url == *u)
                        .map(|e| e.name.clone())
                        .unwrap_or_default();
                    let needle = needle.clone();
                    probe
                        .containers
                        .iter()
                        .filter(move |c| {
                            c.1.to_lowercase().contains(&needle) || c.0.starts_with(&needle)
                        })
                        .map(move |c| (u.clone(), engine.clone(), c.1.clone(), c.2))
                })
                .collect::<Vec<_>>()
        })
    };

    view! {
        <h1>"Engines"</h1>
        <p class="muted">"Each engine is a Berth relay: this one, or another by its URL (start that one with "
            <code>"--allow-origin "{web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()}</code>
            " and a token). The list is kept in this browser; tokens for this tab only."</p>
        <table class="list" data-engines="">
            <thead><tr><th>"Engine"</th><th>"Relay"</th><th>"Health"</th><th>"Version"</th><th>"Containers"</th><th></th></tr></thead>
            <tbody>
                <For each=move || entries.get() key=|e| e.url.clone() let:e>
                    {
                        let u = e.url.clone();
                        let got = {
                            let u = u.clone();
                            Memo::new(move |_| probes.with(|p| p.iter().find(|(x, _)| *x == u).and_then(|(_, g)| g.clone())))
                        };
                        let is_current = u == current_url;
                        let (u1, u2, u3) = (u.clone(), u.clone(), u.clone());
                        let key = e.name.clone();
                        view! {
                            <tr data-engine=key class:focused=is_current>
                                <td data-label="Engine" class="name">{e.name.clone()}{is_current.then_some(" (in use)")}</td>
                                <td data-label="Relay"><code>{if u.is_empty() { "this relay".to_owned() } else { u.clone() }}</code></td>
                                <td data-label="Health" data-engine-health="">{move || match got.get() {
                                    None => view! { <span class="muted">"asking…"</span> }.into_any(),
                                    Some(Ok(_)) => view! { <span class="badge ok">"ok"</span> }.into_any(),
                                    Some(Err(e)) => view! { <span class="badge bad" title=e.to_string()>{e.to_string()}</span> }.into_any(),
                                }}</td>
                                <td data-label="Version">{move || got.get().and_then(Result::ok).map(|p| format!("Docker {} (API {})", p.version, p.api))}</td>
                                <td data-label="Containers" data-engine-counts="">{move || got.get().and_then(Result::ok).map(|p| format!("{} running, {} stopped", p.running, p.stopped))}</td>
                                <td class="actions">
                                    <button data-action="use" disabled=is_current on:click=move |_| switch_to(&u1, "/containers")>"use"</button>
                                    {(!u2.is_empty()).then(|| view! {
                                        <button data-action="sign-in" on:click=move |_| {
                                            let t = web_sys::window().and_then(|w| w.prompt_with_message("Token for this relay").ok().flatten());
                                            if let Some(t) = t {
                                                api::set_token_at(&u2, Some(t.trim()).filter(|t| !t.is_empty()));
                                                refresh();
                                            }
                                        }>"token…"</button>
                                        <button class="danger" data-action="remove" on:click=move |_| remove(u3.clone())>"remove"</button>
                                    })}
                                </td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        <div class="toolbar"><button on:click=move |_| refresh()>"Refresh"</button></div>
        <h2>"Add a relay"</h2>
        <form class="toolbar" on:submit=add>
            <input placeholder="name" aria-label="Name" data-engine-name="" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
            <input placeholder="http://host:2375" aria-label="Relay URL" data-engine-url="" required prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
            <input type="password" placeholder="token (if it needs one)" aria-label="Token" data-engine-token="" autocomplete="off" prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
            <button type="submit" class="primary" data-action="add-engine">"Add"</button>
        </form>
        {move || problem.get().map(|p| view! { <p class="warn" data-engine-problem="">{p}</p> })}
        <h2>"Find a container on any engine"</h2>
        <input type="search" placeholder="name or id" aria-label="Find a container" data-engine-search="" on:input=move |ev| search.set(event_target_value(&ev))/>
        <ul class="plain" data-engine-found="">
            {move || found().into_iter().map(|(u, engine, name, state)| {
                let target = format!("/containers/{name}");
                view! {
                    <li data-found=name.clone()>
                        <button class="link" on:click=move |_| switch_to(&u, &target)>{format!("{name} on {engine}")}</button>
                        " " <span class=format!("state {state}")>{state.to_string()}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
