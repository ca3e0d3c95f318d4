//! Create and run a container: a form checked as it is filled in, the
//! equivalent `docker run` line beside it, the image pulled first (with a
//! bar per layer) when it is not here, and engine errors shown on the field
//! they are about. `?from=<id>` starts from an existing container.

use berth_engine::run::{field_of_error, Field, RunSpec};
use berth_engine::ContainerAction;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiError, Engine};
use crate::state::create::{Form, Phase, Pull};
use crate::state::json::{json_items, json_strings};
use crate::ui::pull::{pull, PullView};

#[component]
pub fn Create() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let navigate = StoredValue::new_local(use_navigate());
    let query = use_query_map();
    let form = RwSignal::new(Form::default());
    let pulling = RwSignal::new(None::<Pull>);
    let failed = move |why: String| form.update(|f| f.phase = Phase::Failed(why));

    // Duplicate / edit: start from an existing container.
    let from = query.read_untracked().get("from");
    if let Some(from) = from.clone() {
        spawn_local(async move {
            match async { api::call(engine.api().await?.container_inspect(&from)).await }.await {
                Ok(c) => form.update(|f| f.spec = RunSpec::from_inspect(&c)),
                Err(e) => failed(format!("Could not read {from}: {e}")),
            }
        });
    }
    let images = LocalResource::new(move || async move {
        let api = engine.api().await?;
        let all = api::call(api.images()).await?;
        let mut tags: Vec<String> = json_items(&all, "")
            .iter()
            .flat_map(|i| json_strings(i, "/RepoTags"))
            .filter(|t| t != "<none>:<none>")
            .collect();
        tags.sort();
        Ok::<_, ApiError>(tags)
    });

    let checked = Memo::new(move |_| form.with(|f| f.spec.body()));
    let problem = move |f: Field| checked.with(|c| form.with(|form| form.problem(c, f)));
    // What the relay would refuse of what the form does.
    let refused = move || {
        engine
            .refusal(|api| api.container_create(None, &serde_json::Value::Null))
            .or_else(|| {
                form.with(|f| f.start)
                    .then(|| {
                        engine.refusal(|api| api.container_action("x", ContainerAction::Start))
                    })
                    .flatten()
            })
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        form.update(|f| {
            f.submitted = true;
            f.refused.clear();
        });
        let Ok(body) = checked.get_untracked() else {
            return;
        };
        let (spec, start) = form.with_untracked(|f| (f.spec.clone(), f.start));
        let set_phase = move |p: Phase| form.update(|f| f.phase = p);
        spawn_local(async move {
            let api = match engine.api().await {
                Ok(a) => a,
                Err(e) => return failed(e.to_string()),
            };
            let image = spec.image.trim().to_owned();
            match api::call(api.image_inspect(&image)).await {
                Ok(_) => {}
                Err(ApiError::Engine(e)) if e.status == 404 => {
                    set_phase(Phase::Pulling);
                    if let Err(why) = pull(api, &image, pulling).await {
                        return form.update(|f| {
                            f.refused =
                                vec![(Field::Image, format!("Could not pull {image}: {why}"))];
                            f.phase = Phase::Editing;
                        });
                    }
                }
                Err(e) => return failed(e.to_string()),
            }
            set_phase(Phase::Creating);
            let id = match api::call(api.container_create(Some(spec.name.trim()), &body)).await {
                Ok(c) => c.id,
                Err(e) => {
                    let msg = e.to_string();
                    return match field_of_error(&msg) {
                        Some(field) => form.update(|f| {
                            f.refused = vec![(field, msg)];
                            f.phase = Phase::Editing;
                        }),
                        None => failed(msg),
                    };
                }
            };
            if start {
                if let Err(e) = api::call(api.container_action(&id, ContainerAction::Start)).await {
                    let msg = format!("Created, but it did not start: {e}");
                    return form.update(|f| {
                        f.refused = field_of_error(&msg)
                            .map(|field| vec![(field, msg.clone())])
                            .unwrap_or_default();
                        f.phase = Phase::Failed(msg);
                    });
                }
            }
            navigate.with_value(|n| n(&format!("/containers/{id}"), Default::default()));
        });
    };

    let line = move || form.with(|f| f.spec.command_line());
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
            form.update(|form| set(&mut form.spec, v));
        };
        let on_blur = move |_| {
            form.update(|form| {
                form.touched.insert(f);
            })
        };
        let value = move || form.with(|form| get(&form.spec));
        let input = if multiline {
            view! { <textarea id=id name=id rows="3" placeholder=hint prop:value=value on:input=on_input on:blur=on_blur></textarea> }.into_any()
        } else {
            let list = (f == Field::Image).then_some("image-list");
            view! { <input id=id name=id placeholder=hint list=list prop:value=value on:input=on_input on:blur=on_blur/> }.into_any()
        };
        view! {
            <div class="field" class:invalid=move || problem(f).is_some()>
                <label for=id>{label}</label>
                {input}
                {move || problem(f).map(|m| view! { <p class="field-error" data-error-for=id>{m}</p> })}
            </div>
        }
    };
    let flag = move |label: &'static str,
                     attr: Option<&'static str>,
                     get: fn(&Form) -> bool,
                     set: fn(&mut Form, bool)| {
        view! {
            <label class="check"><input type="checkbox" data-flag=attr prop:checked=move || form.with(get)
                on:change=move |ev| { let on = event_target_checked(&ev); form.update(|f| set(f, on)) }/>{format!(" {label}")}</label>
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
                    <select id="restart" prop:value=move || form.with(|f| f.spec.restart.split(':').next().unwrap_or_default().to_owned())
                        on:change=move |ev| { let v = event_target_value(&ev); form.update(|f| f.spec.restart = v); }>
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
                {flag("TTY (-t)", None, |f| f.spec.tty, |f, on| f.spec.tty = on)}
                {flag("keep stdin open (-i)", None, |f| f.spec.stdin, |f, on| f.spec.stdin = on)}
                {flag("start it now", Some("start-now"), |f| f.start, |f, on| f.start = on)}
            </div>
            <h2>"As a command"</h2>
            <pre class="run-line" data-run-line="">{line}</pre>
            {move || pulling.get().filter(|_| form.with(|f| f.phase == Phase::Pulling)).map(|p| view! { <PullView pull=p/> })}
            {move || match form.with(|f| f.phase.clone()) {
                Phase::Failed(why) => Some(view! { <p class="warn" data-create-error="" role="alert">{why}</p> }),
                _ => None,
            }}
            <div class="buttons">
                <button type="submit" class="primary" data-action="create" title=refused aria-description=refused
                    disabled=move || form.with(Form::busy) || refused().is_some()>
                    {move || form.with(Form::submit_label)}
                </button>
            </div>
        </form>
    }
}
