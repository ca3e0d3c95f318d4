//! Several engines in one console: the relays it knows (this one, and
//! others by URL) with each one's health, version and containers; add,
//! remove, sign in, switch; and a search that finds a container on any of
//! them. The list is kept in the browser; tokens for this tab only.

use berth_engine::{Api, Method};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError, Body};
use crate::state::relays::{self, Probe};
use crate::ui::named;

/// What the relay at `base` says about its engine.
async fn probe(base: &str) -> Result<Probe, ApiError> {
    let ping = Api::ping();
    let resp = api::send_to(base, Method::Get, &ping.path, Body::None, None).await?;
    let api = api::negotiated(&resp)?;
    let version = api::call_at(base, api.version()).await?;
    let list = api::call_at(base, api.containers(true)).await?;
    Ok(Probe::new(api.version.to_string(), &version, list))
}

#[component]
pub fn Engines() -> impl IntoView {
    let entries = RwSignal::new(api::relays());
    let probes = RwSignal::new(Vec::<(String, Option<Result<Probe, String>>)>::new());
    let refresh = move || {
        let all = entries.get_untracked();
        probes.set(all.iter().map(|e| (e.url.clone(), None)).collect());
        for e in all {
            spawn_local(async move {
                let got = probe(&e.url).await.map_err(|e| e.to_string());
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
        let mut all = entries.get_untracked();
        match relays::add(&mut all, &name.get_untracked(), &url.get_untracked()) {
            Ok(u) => {
                api::set_token_at(&u, Some(&token.get_untracked()));
                api::save_relays(&all);
                entries.set(all);
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
        api::save_relays(&entries.get_untracked());
        api::set_token_at(&u, None);
        if u == api::current().url {
            // The engine in use is gone: back to this relay.
            api::switch_to("", "/engines");
        } else {
            refresh();
        }
    };
    let current_url = api::current().url;
    let search = RwSignal::new(String::new());
    let found = move || entries.with(|all| probes.with(|p| relays::find(all, p, &search.get())));

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
                        let n = e.name.clone();
                        view! {
                            <tr data-engine=e.name.clone() class:focused=is_current>
                                <td data-label="Engine" class="name">{e.name.clone()}{is_current.then_some(" (in use)")}</td>
                                <td data-label="Relay"><code>{if u.is_empty() { "this relay".to_owned() } else { u.clone() }}</code></td>
                                <td data-label="Health" data-engine-health="">{move || match got.get() {
                                    None => view! { <span class="muted">"asking…"</span> }.into_any(),
                                    Some(Ok(_)) => view! { <span class="badge ok">"ok"</span> }.into_any(),
                                    Some(Err(e)) => { let title = e.clone(); view! { <span class="badge bad" title=title>{e}</span> }.into_any() }
                                }}</td>
                                <td data-label="Version">{move || got.get().and_then(Result::ok).map(|p| format!("Docker {} (API {})", p.version, p.api))}</td>
                                <td data-label="Containers" data-engine-counts="">{move || got.get().and_then(Result::ok).map(|p| format!("{} running, {} stopped", p.running, p.stopped))}</td>
                                <td class="actions">
                                    <button data-action="use" aria-label=named("use", &n) disabled=is_current on:click=move |_| api::switch_to(&u1, "/containers")>"use"</button>
                                    {(!u2.is_empty()).then(|| view! {
                                        <button data-action="sign-in" aria-label=format!("Token for {n}") on:click=move |_| {
                                            let t = web_sys::window().and_then(|w| w.prompt_with_message("Token for this relay").ok().flatten());
                                            if let Some(t) = t {
                                                api::set_token_at(&u2, Some(&t));
                                                refresh();
                                            }
                                        }>"token…"</button>
                                        <button class="danger" data-action="remove" aria-label=named("remove", &n) on:click=move |_| remove(u3.clone())>"remove"</button>
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
        {move || problem.get().map(|p| view! { <p class="warn" data-engine-problem="" role="alert">{p}</p> })}
        <h2>"Find a container on any engine"</h2>
        <input type="search" placeholder="name or id" aria-label="Find a container" data-engine-search="" on:input=move |ev| search.set(event_target_value(&ev))/>
        <ul class="plain" data-engine-found="">
            {move || found().into_iter().map(|f| {
                let target = format!("/containers/{}", f.name);
                let u = f.url.clone();
                view! {
                    <li data-found=f.name.clone()>
                        <button class="link" on:click=move |_| api::switch_to(&u, &target)>{format!("{} on {}", f.name, f.relay)}</button>
                        " " <span class=format!("state {}", f.state)>{f.state.to_string()}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
