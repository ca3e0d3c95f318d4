//! One container: a header with its state and actions, and tabs (each its
//! own URL) for overview, inspect, logs, stats, processes, terminal and
//! files. The page follows the engine's events for this container.

use berth_engine::models::ContainerSummaryStateEnum as State;
use berth_engine::{Api, ApiVersion, ContainerAction, Endpoint};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;

use crate::api::{self, ApiError};
use crate::app::{href, Engine};
use crate::live::{container_filters, follow_events_where};
use crate::routes::containers::{Removal, RemoveDialog};
use crate::routes::logs::{LogWorkbench, Source};
use crate::ui::{bytes, json_strings as strings, json_text as string, Notices, Problem};

/// The container the page is about, shared by its tabs. Its inspect answer
/// is kept as the engine's JSON (see `Api::container_inspect_raw`).
#[derive(Clone, Copy)]
pub struct Current {
    pub id: Memo<String>,
    pub inspect: RwSignal<Option<Result<Value, ApiError>>>,
}

impl Current {
    /// A string field of the inspect answer by JSON pointer (`/State/Status`).
    pub fn text(&self, pointer: &str) -> String {
        self.inspect.with(|i| match i {
            Some(Ok(c)) => c
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => String::new(),
        })
    }

    pub fn name(&self) -> String {
        let name = self.text("/Name");
        if name.is_empty() {
            self.id.get_untracked()
        } else {
            name.trim_start_matches('/').to_owned()
        }
    }

    pub fn state(&self) -> State {
        self.text("/State/Status").parse().unwrap_or(State::EMPTY)
    }

    pub fn tty(&self) -> bool {
        self.inspect.with(
            |i| matches!(i, Some(Ok(c)) if c.pointer("/Config/Tty") == Some(&Value::Bool(true))),
        )
    }
}

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
            .with(|i| {
                i.as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .and_then(|c| c.get("Id")?.as_str().map(str::to_owned))
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
                async { api::call(engine.api().await?.container_inspect_raw(&target)).await }.await;
            if url_id == self::url_id_now(params) {
                if let Ok(c) = &got {
                    if let Some(full) = c.get("Id").and_then(Value::as_str) {
                        full_id.set_value(Some((url_id, full.to_owned())));
                    }
                }
                inspect.set(Some(got));
            }
        });
    };
    Effect::new(move |_| {
        url_id.track();
        reload();
    });
    let ours = move |e: &berth_engine::models::EventMessage| {
        let actor = e.actor.as_ref().and_then(|a| a.id.as_deref());
        match full_id.get_value() {
            Some((_, full)) => actor == Some(full.as_str()),
            None => true,
        }
    };
    let live = follow_events_where(engine, container_filters(None), ours, reload);

    let busy = RwSignal::new(false);
    let navigate = StoredValue::new_local(use_navigate());
    let run = move |what: String, make: Box<dyn FnOnce(Api, String) -> Endpoint<()>>| {
        busy.set(true);
        spawn_local(async move {
            let result = async {
                let api = engine.api().await?;
                api::act(make(api, id.get_untracked())).await
            }
            .await;
            if let Err(err) = result {
                notices.error(format!("Could not {what} {}: {err}", current.name()));
            }
            busy.set(false);
            reload();
        });
    };
    let denied =
        move |e: Endpoint<()>| engine.policy.get().and_then(|p| p.check_endpoint(&e).err());
    let catalogue = Api::new(ApiVersion::MIN);

    let actions = move || {
        let state = current.state();
        ContainerAction::ALL
            .into_iter()
            .filter(|a| a.applies_to(state) && *a != ContainerAction::Kill)
            .map(|action| {
                let why = denied(catalogue.container_action(&id.get(), action));
                let blocked = why.is_some();
                view! {
                    <button data-action=action.verb() title=why disabled=move || blocked || busy.get()
                        on:click=move |_| run(action.verb().to_owned(), Box::new(move |api, id| api.container_action(&id, action)))>
                        {action.verb()}
                    </button>
                }
            })
            .collect_view()
    };
    let signal = RwSignal::new(SIGNALS[0].to_owned());
    let kill_denied = move || denied(catalogue.container_kill(&id.get(), "SIGTERM"));
    let running = move || {
        matches!(
            current.state(),
            State::RUNNING | State::RESTARTING | State::PAUSED
        )
    };

    let renaming = RwSignal::new(None::<String>);
    let removal = RwSignal::new(None::<Removal>);
    let confirm_remove = {
        move |volumes: bool| {
            let Some(r) = removal.get_untracked() else {
                return;
            };
            removal.set(None);
            spawn_local(async move {
                let result = async {
                    let api = engine.api().await?;
                    api::act(api.container_remove(&r.id, r.running, volumes)).await
                }
                .await;
                match result {
                    Ok(()) => navigate.with_value(|n| n("/containers", Default::default())),
                    Err(err) => notices.error(format!("Could not remove {}: {err}", r.name)),
                }
            });
        }
    };
    let export = move |_| {
        let name = current.name();
        spawn_local(async move {
            let result = async {
                let api = engine.api().await?;
                api::download(
                    api.container_export(&id.get_untracked()),
                    &format!("{name}.tar"),
                )
                .await
            }
            .await;
            if let Err(err) = result {
                notices.error(format!("Could not export {name}: {err}"));
            }
        });
    };

    let header = move || {
        let state = current.state();
        view! {
            <div class="page-head">
                <h1 data-container-name="">{current.name()}</h1>
                <span class=format!("state {state}") data-state=state.to_string()>{state.to_string()}</span>
                {move || (!live.get()).then(|| view! { <span class="badge" data-problem="reconnecting">"reconnecting…"</span> })}
            </div>
            <div class="actions page-actions">
                {actions}
                <span class="joined">
                    <select aria-label="Signal to send" prop:value=move || signal.get() on:change=move |ev| signal.set(event_target_value(&ev)) disabled=move || !running()>
                        {SIGNALS.iter().map(|s| view! { <option value=*s>{*s}</option> }).collect_view()}
                    </select>
                    <button data-action="kill" title=kill_denied disabled=move || !running() || busy.get() || kill_denied().is_some()
                        on:click=move |_| { let sig = signal.get_untracked(); run(format!("send {sig} to"), Box::new(move |api, id| api.container_kill(&id, &sig))) }>"send"</button>
                </span>
                <button data-action="rename" disabled=move || denied(catalogue.container_rename(&id.get(), "x")).is_some()
                    on:click=move |_| renaming.set(Some(current.name()))>"rename"</button>
                <A href=move || href(&format!("/create?from={}", id.get())) attr:class="button" attr:data-action="duplicate">"duplicate / edit"</A>
                <button data-action="export" on:click=export title="Download the container's filesystem as a tar">"export"</button>
                <button class="danger" data-action="remove" disabled=move || busy.get()
                    on:click=move |_| removal.set(Some(Removal { id: id.get_untracked(), name: current.name(), running: running() }))>"remove"</button>
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
            on_confirm=move |new: String| { renaming.set(None); run("rename".into(), Box::new(move |api, id| api.container_rename(&id, &new))) }/> })}
        {move || removal.get().map(|r| view! { <RemoveDialog removal=r on_cancel=move || removal.set(None) on_confirm=confirm_remove/> })}
    }
}

/// The URL's container id or name, read without tracking.
fn url_id_now(params: Memo<leptos_router::params::ParamsMap>) -> String {
    params.read_untracked().get("id").unwrap_or_default()
}

#[component]
fn RenameDialog(
    old: String,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
    on_confirm: impl Fn(String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(i) = input.get() {
            let _ = i.focus();
            i.select();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(i) = input.get_untracked() {
            on_confirm(i.value().trim().to_owned());
        }
    };
    view! {
        <div class="backdrop" on:click=move |_| on_cancel()>
            <form class="dialog" role="dialog" aria-modal="true" aria-labelledby="rename-title" on:submit=submit
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { on_cancel() }>
                <h2 id="rename-title">"Rename " {old.clone()}</h2>
                <label for="new-name">"New name"</label>
                <input id="new-name" node_ref=input value=old required pattern="[a-zA-Z0-9][a-zA-Z0-9_.-]*"
                    title="Letters, digits, and _ . - after the first character"/>
                <div class="buttons">
                    <button type="button" on:click=move |_| on_cancel()>"Cancel"</button>
                    <button type="submit" data-action="confirm-rename">"Rename"</button>
                </div>
            </form>
        </div>
    }
}

/// A label and a value, skipped when the value is empty.
fn fact(label: &'static str, value: String) -> Option<impl IntoView> {
    (!value.is_empty()).then(|| view! { <dt>{label}</dt><dd>{value}</dd> })
}

fn number(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// `0.0.0.0:8080 → 80/tcp`, with a link when it is published over TCP.
fn ports(c: &Value) -> Vec<(String, Option<String>)> {
    let page_host = web_sys::window()
        .and_then(|w| w.location().hostname().ok())
        .unwrap_or_else(|| "localhost".into());
    let mut out = vec![];
    if let Some(map) = c
        .pointer("/NetworkSettings/Ports")
        .and_then(Value::as_object)
    {
        for (port, binds) in map {
            let binds = binds.as_array().cloned().unwrap_or_default();
            if binds.is_empty() {
                out.push((format!("{port} (not published)"), None));
            }
            for b in binds {
                let ip = string(&b, "/HostIp");
                let hp = string(&b, "/HostPort");
                let reach = if ip.is_empty() || ip == "0.0.0.0" || ip == "::" {
                    page_host.clone()
                } else if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip.clone()
                };
                let link = port
                    .ends_with("/tcp")
                    .then(|| format!("http://{reach}:{hp}/"));
                out.push((format!("{ip}:{hp} → {port}"), link));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[component]
pub fn Overview() -> impl IntoView {
    let current = expect_context::<Current>();
    let reveal = RwSignal::new(false);
    move || {
        let Some(Ok(c)) = current.inspect.get() else {
            return ().into_any();
        };
        let running = c.pointer("/State/Running") == Some(&Value::Bool(true));
        let cmd = [
            strings(c.pointer("/Config/Entrypoint")),
            strings(c.pointer("/Config/Cmd")),
        ]
        .concat()
        .join(" ");
        let mut restart = string(&c, "/HostConfig/RestartPolicy/Name");
        let retries = number(&c, "/HostConfig/RestartPolicy/MaximumRetryCount");
        if retries > 0 {
            restart += &format!(" (at most {retries} times)");
        }
        let ports = ports(&c);
        let mounts: Vec<String> = c
            .pointer("/Mounts")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|m| {
                        let mut src = string(m, "/Name");
                        if src.is_empty() {
                            src = string(m, "/Source");
                        }
                        let mode = if m.pointer("/RW") == Some(&Value::Bool(false)) {
                            " (read-only)"
                        } else {
                            ""
                        };
                        format!(
                            "{} {src} → {}{mode}",
                            string(m, "/Type"),
                            string(m, "/Destination")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let networks: Vec<String> = c
            .pointer("/NetworkSettings/Networks")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(name, n)| {
                        let mut addr = string(n, "/IPAddress");
                        if addr.is_empty() {
                            addr = "no address".into();
                        }
                        let aliases = strings(n.pointer("/Aliases")).join(", ");
                        if aliases.is_empty() {
                            format!("{name}: {addr}")
                        } else {
                            format!("{name}: {addr} (aliases {aliases})")
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut labels: Vec<(String, String)> = c
            .pointer("/Config/Labels")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        let env: Vec<(String, String)> = strings(c.pointer("/Config/Env"))
            .into_iter()
            .map(|e| match e.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (e, String::new()),
            })
            .collect();
        let limits = [
            Some(number(&c, "/HostConfig/Memory"))
                .filter(|m| *m > 0)
                .map(|m| format!("memory {}", bytes(m))),
            Some(number(&c, "/HostConfig/NanoCpus"))
                .filter(|n| *n > 0)
                .map(|n| format!("{} CPUs", n as f64 / 1e9)),
            Some(number(&c, "/HostConfig/CpuShares"))
                .filter(|n| *n > 0)
                .map(|n| format!("CPU shares {n}")),
            Some(number(&c, "/HostConfig/PidsLimit"))
                .filter(|n| *n > 0)
                .map(|n| format!("{n} processes")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        let started = string(&c, "/State/StartedAt");
        view! {
            <section class="overview">
                <dl class="facts">
                    {fact("State", string(&c, "/State/Status"))}
                    {fact("Exit code", if running { String::new() } else { string(&c, "/State/ExitCode") })}
                    {fact("Health", string(&c, "/State/Health/Status"))}
                    {fact("Error", string(&c, "/State/Error"))}
                    {fact("Image", string(&c, "/Config/Image"))}
                    {fact("Command", cmd)}
                    {fact("Created", string(&c, "/Created"))}
                    {fact("Started", if started.starts_with("0001") { String::new() } else { started })}
                    {fact("Restart policy", restart)}
                    {fact("Limits", if limits.is_empty() { "none".into() } else { limits })}
                    {fact("ID", string(&c, "/Id"))}
                </dl>
                <h2>"Ports"</h2>
                {if ports.is_empty() { view! { <p class="muted">"No ports."</p> }.into_any() } else { view! {
                    <ul class="plain" data-ports="">{ports.into_iter().map(|(text, link)| match link {
                        Some(href) => view! { <li><a href=href target="_blank" rel="noopener">{text}</a></li> }.into_any(),
                        None => view! { <li>{text}</li> }.into_any(),
                    }).collect_view()}</ul>
                }.into_any() }}
                <h2>"Mounts"</h2>
                {if mounts.is_empty() { view! { <p class="muted">"No mounts."</p> }.into_any() } else { view! {
                    <ul class="plain">{mounts.into_iter().map(|m| view! { <li><code>{m}</code></li> }).collect_view()}</ul>
                }.into_any() }}
                <h2>"Networks"</h2>
                {if networks.is_empty() { view! { <p class="muted">"No networks."</p> }.into_any() } else { view! {
                    <ul class="plain" data-networks="">{networks.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                }.into_any() }}
                <h2>"Environment " <button class="link" on:click=move |_| reveal.update(|r| *r = !*r) data-reveal="">
                    {move || if reveal.get() { "hide values" } else { "reveal values" }}</button></h2>
                <dl class="kv" data-env="">{env.into_iter().map(|(k, v)| view! {
                    <dt>{k}</dt><dd><code>{move || if reveal.get() { v.clone() } else { "••••••".into() }}</code></dd>
                }).collect_view()}</dl>
                <h2>"Labels"</h2>
                {if labels.is_empty() { view! { <p class="muted">"No labels."</p> }.into_any() } else { view! {
                    <dl class="kv">{labels.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd><code>{v}</code></dd> }).collect_view()}</dl>
                }.into_any() }}
            </section>
        }
        .into_any()
    }
}

#[component]
pub fn Inspect() -> impl IntoView {
    let current = expect_context::<Current>();
    let search = RwSignal::new(String::new());
    let json = Memo::new(move |_| {
        current.inspect.with(|i| match i {
            Some(Ok(c)) => c.clone(),
            _ => Value::Null,
        })
    });
    let copy = move |_| {
        let text = serde_json::to_string_pretty(&json.get_untracked()).unwrap_or_default();
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&text);
        }
    };
    let body = move || {
        let needle = search.get().to_lowercase();
        let value = json.get();
        if needle.is_empty() {
            let sections = value
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            let text = serde_json::to_string_pretty(v).unwrap_or_default();
                            let open = !matches!(v, Value::Object(_) | Value::Array(_));
                            view! { <details open=open><summary><code>{k.clone()}</code></summary><pre>{text}</pre></details> }
                        })
                        .collect_view()
                })
                .into_iter()
                .collect_view();
            view! { <div class="inspect">{sections}</div> }.into_any()
        } else {
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            let hits: Vec<String> = text
                .lines()
                .enumerate()
                .filter(|(_, l)| l.to_lowercase().contains(&needle))
                .map(|(n, l)| format!("{:>5}  {}", n + 1, l.trim_end()))
                .collect();
            let count = hits.len();
            view! {
                <p class="count">{format!("{count} matching lines")}</p>
                <pre class="inspect-hits">{hits.join("\n")}</pre>
            }
            .into_any()
        }
    };
    view! {
        <div class="toolbar">
            <input type="search" placeholder="Search keys and values" aria-label="Search the inspect JSON"
                on:input=move |ev| search.set(event_target_value(&ev))/>
            <button on:click=copy>"Copy JSON"</button>
        </div>
        {body}
    }
}

#[component]
pub fn Logs() -> impl IntoView {
    let current = expect_context::<Current>();
    // Rebuilt only if the container itself changes, not on its events.
    let source = Memo::new(move |_| Source::container(current.id.get(), current.name()));
    move || view! { <LogWorkbench sources=vec![source.get()]/> }
}

/// `top`, refreshed every two seconds while the tab is open (the engine
/// has no stream of it).
#[component]
pub fn Processes() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let current = expect_context::<Current>();
    let top = RwSignal::new(None);
    let load = move || {
        spawn_local(async move {
            let got = async {
                api::call(
                    engine
                        .api()
                        .await?
                        .container_top(&current.id.get_untracked()),
                )
                .await
            }
            .await;
            top.set(Some(got));
        });
    };
    load();
    let timer = set_interval_with_handle(load, std::time::Duration::from_secs(2)).ok();
    on_cleanup(move || {
        if let Some(t) = timer {
            t.clear();
        }
    });
    move || {
        match top.get() {
        None => view! { <p class="loading">"Listing processes…"</p> }.into_any(),
        Some(Err(err)) => view! { <p class="warn" data-problem="top">{err.to_string()}</p> }.into_any(),
        Some(Ok(t)) => view! {
            <table class="list top" data-top="">
                <thead><tr>{t.titles.unwrap_or_default().into_iter().map(|h| view! { <th>{h}</th> }).collect_view()}</tr></thead>
                <tbody>{t.processes.unwrap_or_default().into_iter().map(|p| view! {
                    <tr>{p.into_iter().map(|v| view! { <td>{v}</td> }).collect_view()}</tr>
                }).collect_view()}</tbody>
            </table>
        }.into_any(),
    }
    }
}
