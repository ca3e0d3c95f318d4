//! Create and run a container: a form checked as it is filled in, the
//! equivalent `docker run` line beside it, the image pulled first (with a
//! bar per layer) when it is not here, and engine errors shown on the field
//! they are about. `?from=<id>` starts from an existing container.

use std::collections::{BTreeMap, HashSet};

use berth_engine::models::CreateImageInfo;
use berth_engine::run::{field_of_error, Field, RunSpec};
use berth_engine::{Api, ContainerAction};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiError};
use crate::app::Engine;
use crate::ui::bytes;

/// One layer's progress while pulling.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    pub status: String,
    pub current: i64,
    pub total: i64,
}

/// A pull as it goes: layers by id, and the last overall status line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pull {
    pub layers: BTreeMap<String, Layer>,
    pub status: String,
}

/// Pulls `reference`, reporting into `progress`. Errors arrive inside the
/// 200 stream as `errorDetail`; they come back here as the error.
pub async fn pull(
    api: Api,
    reference: &str,
    progress: RwSignal<Option<Pull>>,
) -> Result<(), String> {
    progress.set(Some(Pull::default()));
    let controller = web_sys::AbortController::new().map_err(|_| "cannot pull")?;
    let mut failure = None;
    let each = |info: CreateImageInfo| {
        if let Some(e) = info.error_detail.and_then(|d| d.message) {
            failure = Some(e);
            return;
        }
        let status = info.status.unwrap_or_default();
        progress.update(|p| {
            let p = p.get_or_insert_with(Pull::default);
            match info.id {
                Some(id) if !id.is_empty() && status != "Pulling from library" => {
                    let layer = p.layers.entry(id).or_default();
                    if let Some(d) = info.progress_detail {
                        layer.current = d.current.unwrap_or(layer.current);
                        layer.total = d.total.unwrap_or(layer.total);
                    }
                    if status.starts_with("Pull complete") || status.starts_with("Already exists") {
                        layer.current = layer.total.max(1);
                        layer.total = layer.total.max(1);
                    }
                    layer.status = status;
                }
                _ => p.status = status,
            }
        });
    };
    api::stream(api.image_pull(reference), &controller.signal(), || (), each)
        .await
        .map_err(|e| e.to_string())?;
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[component]
pub fn PullView(pull: Pull) -> impl IntoView {
    view! {
        <div class="pull" data-pull="">
            <p>{pull.status.clone()}</p>
            <ul class="plain">
                {pull.layers.into_iter().map(|(id, l)| {
                    let max = l.total.max(1);
                    let detail = if l.total > 0 { format!("{} / {}", bytes(l.current), bytes(l.total)) } else { String::new() };
                    let label = id.clone();
                    view! {
                        <li class="layer" data-layer=id>
                            <code>{label}</code>
                            <progress max=max.to_string() value=l.current.min(max).to_string()></progress>
                            <span class="muted">{l.status}" "{detail}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Editing,
    Pulling,
    Creating,
    Failed(String),
}

#[component]
pub fn Create() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let navigate = StoredValue::new_local(use_navigate());
    let query = use_query_map();
    let spec = RwSignal::new(RunSpec {
        stdin: false,
        ..Default::default()
    });
    let start = RwSignal::new(true);
    let touched = RwSignal::new(HashSet::<Field>::new());
    let submitted = RwSignal::new(false);
    let engine_errors = RwSignal::new(Vec::<(Field, String)>::new());
    let phase = RwSignal::new(Phase::Editing);
    let pulling = RwSignal::new(None::<Pull>);

    // Duplicate / edit: start from an existing container.
    let from = query.read_untracked().get("from");
    if let Some(from) = from.clone() {
        spawn_local(async move {
            let got =
                async { api::call(engine.api().await?.container_inspect_raw(&from)).await }.await;
            match got {
                Ok(c) => spec.set(RunSpec::from_inspect(&c)),
                Err(e) => phase.set(Phase::Failed(format!("Could not read {from}: {e}"))),
            }
        });
    }
    let images = LocalResource::new(move || async move {
        let api = engine.api().await?;
        let all = api::call(api.images()).await?;
        let mut tags: Vec<String> = all
            .into_iter()
            .flat_map(|i| i.repo_tags)
            .filter(|t| t != "<none>:<none>")
            .collect();
        tags.sort();
        Ok::<_, ApiError>(tags)
    });

    let checked = Memo::new(move |_| spec.with(|s| s.body()));
    let problem = move |f: Field| {
        let shown = submitted.get() || touched.with(|t| t.contains(&f));
        let own = checked.with(|c| match c {
            Err(ps) if shown => ps.iter().find(|(pf, _)| *pf == f).map(|(_, m)| m.clone()),
            _ => None,
        });
        own.or_else(|| {
            engine_errors.with(|e| e.iter().find(|(pf, _)| *pf == f).map(|(_, m)| m.clone()))
        })
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        engine_errors.set(vec![]);
        let Ok(body) = checked.get_untracked() else {
            return;
        };
        let s = spec.get_untracked();
        let run = start.get_untracked();
        spawn_local(async move {
            let api = match engine.api().await {
                Ok(a) => a,
                Err(e) => return phase.set(Phase::Failed(e.to_string())),
            };
            let image = s.image.trim().to_owned();
            match api::call(api.image_inspect_raw(&image)).await {
                Ok(_) => {}
                Err(ApiError::Engine(e)) if e.status == 404 => {
                    phase.set(Phase::Pulling);
                    if let Err(why) = pull(api, &image, pulling).await {
                        engine_errors.set(vec![(
                            Field::Image,
                            format!("Could not pull {image}: {why}"),
                        )]);
                        return phase.set(Phase::Editing);
                    }
                }
                Err(e) => return phase.set(Phase::Failed(e.to_string())),
            }
            phase.set(Phase::Creating);
            let created = api::call(api.container_create_raw(Some(s.name.trim()), &body)).await;
            let id = match created {
                Ok(c) => c.id,
                Err(e) => {
                    let msg = e.to_string();
                    return match field_of_error(&msg) {
                        Some(f) => {
                            engine_errors.set(vec![(f, msg)]);
                            phase.set(Phase::Editing);
                        }
                        None => phase.set(Phase::Failed(msg)),
                    };
                }
            };
            if run {
                if let Err(e) = api::act(api.container_action(&id, ContainerAction::Start)).await {
                    let msg = format!("Created, but it did not start: {e}");
                    engine_errors.set(
                        field_of_error(&msg)
                            .map(|f| vec![(f, msg.clone())])
                            .unwrap_or_default(),
                    );
                    return phase.set(Phase::Failed(msg));
                }
            }
            navigate.with_value(|n| n(&format!("/containers/{id}"), Default::default()));
        });
    };

    let line = move || spec.with(RunSpec::command_line);
    let busy = move || matches!(phase.get(), Phase::Pulling | Phase::Creating);
    // One form field: its label, input (a textarea for lists), and the
    // problem found in it, if any.
    let field = move |f: Field,
                      label: &'static str,
                      hint: &'static str,
                      get: fn(&RunSpec) -> String,
                      set: fn(&mut RunSpec, String)| {
        let id = f.id();
        let multiline = matches!(
            f,
            Field::Env | Field::Ports | Field::Volumes | Field::Labels
        );
        let on_input = move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            spec.update(|s| set(s, v));
        };
        let on_blur = move |_| {
            touched.update(|t| {
                t.insert(f);
            })
        };
        let input = if multiline {
            view! { <textarea id=id name=id rows="3" placeholder=hint prop:value=move || spec.with(get) on:input=on_input on:blur=on_blur></textarea> }.into_any()
        } else {
            let list = (f == Field::Image).then_some("image-list");
            view! { <input id=id name=id placeholder=hint list=list prop:value=move || spec.with(get) on:input=on_input on:blur=on_blur/> }.into_any()
        };
        view! {
            <div class="field" class:invalid=move || problem(f).is_some()>
                <label for=id>{label}</label>
                {input}
                {move || problem(f).map(|m| view! { <p class="field-error" data-error-for=id>{m}</p> })}
            </div>
        }
    };

    view! {
        <h1>{if from.is_some() { "Duplicate a container" } else { "New container" }}</h1>
        <form class="create" on:submit=submit novalidate>
            <datalist id="image-list">
                {move || images.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|t| view! { <option value=t/> }).collect_view()}
            </datalist>
            <div class="grid">
                {field(Field::Image, "Image", "busybox:latest", |s| s.image.clone(), |s, v| s.image = v)}
                {field(Field::Name, "Name", "optional", |s| s.name.clone(), |s, v| s.name = v)}
                {field(Field::Command, "Command", "as in a shell: sh -c 'echo hi'", |s| s.command.clone(), |s, v| s.command = v)}
                {field(Field::Entrypoint, "Entrypoint", "the image's, unless given", |s| s.entrypoint.clone(), |s, v| s.entrypoint = v)}
                {field(Field::Env, "Environment", "NAME=value, one a line", |s| s.env.clone(), |s, v| s.env = v)}
                {field(Field::Ports, "Ports", "8080:80, 127.0.0.1:5353:53/udp, one a line", |s| s.ports.clone(), |s, v| s.ports = v)}
                {field(Field::Volumes, "Volumes and binds", "/data, name:/data, /host:/data:ro", |s| s.volumes.clone(), |s, v| s.volumes = v)}
                {field(Field::Labels, "Labels", "key=value, one a line", |s| s.labels.clone(), |s, v| s.labels = v)}
                {field(Field::Network, "Network", "bridge, host, none or a network's name", |s| s.network.clone(), |s, v| s.network = v)}
                <div class="field" class:invalid=move || problem(Field::Restart).is_some()>
                    <label for="restart">"Restart policy"</label>
                    <select id="restart" prop:value=move || spec.with(|s| s.restart.split(':').next().unwrap_or_default().to_owned())
                        on:change=move |ev| { let v = event_target_value(&ev); spec.update(|s| s.restart = v); }>
                        <option value="">"no"</option>
                        <option value="always">"always"</option>
                        <option value="unless-stopped">"unless-stopped"</option>
                        <option value="on-failure">"on-failure"</option>
                    </select>
                    {move || problem(Field::Restart).map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                {field(Field::Memory, "Memory limit", "512m, 1g", |s| s.memory.clone(), |s, v| s.memory = v)}
                {field(Field::Cpus, "CPUs", "0.5, 2", |s| s.cpus.clone(), |s, v| s.cpus = v)}
            </div>
            <div class="toolbar">
                <label class="check"><input type="checkbox" prop:checked=move || spec.with(|s| s.tty) on:change=move |ev| { let on = event_target_checked(&ev); spec.update(|s| s.tty = on) }/>" TTY (-t)"</label>
                <label class="check"><input type="checkbox" prop:checked=move || spec.with(|s| s.stdin) on:change=move |ev| { let on = event_target_checked(&ev); spec.update(|s| s.stdin = on) }/>" keep stdin open (-i)"</label>
                <label class="check"><input type="checkbox" data-start-now="" prop:checked=move || start.get() on:change=move |ev| start.set(event_target_checked(&ev))/>" start it now"</label>
            </div>
            <h2>"As a command"</h2>
            <pre class="run-line" data-run-line="">{line}</pre>
            {move || pulling.get().filter(|_| phase.get() == Phase::Pulling).map(|p| view! { <PullView pull=p/> })}
            {move || match phase.get() {
                Phase::Failed(why) => Some(view! { <p class="warn" data-create-error="">{why}</p> }),
                _ => None,
            }}
            <div class="buttons">
                <button type="submit" class="primary" data-action="create" disabled=busy>
                    {move || match phase.get() {
                        Phase::Pulling => "Pulling the image…",
                        Phase::Creating => "Creating…",
                        _ => if start.get() { "Create and start" } else { "Create" },
                    }}
                </button>
            </div>
        </form>
    }
}
