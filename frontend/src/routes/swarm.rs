//! Swarm, the engine's own multi-node mode. On a manager: nodes (drain and
//! activate), services (create, scale, update the image, remove), each
//! service's tasks and its logs streamed. Otherwise the page says what the
//! engine is and how `docker swarm init` would make it a manager.
//!
//! Services and nodes change with the engine's events. Tasks have no events
//! of their own, so while a service is converging (running ≠ desired, or a
//! task on its way) the page reads them again every two seconds, and stops
//! once all is settled.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use berth_engine::swarm::{self, ServiceField, ServiceForm};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, ApiError, Engine};
use crate::live::{follow_events, latest, of_types, sleep};
use crate::state::json::{json_strings, json_text};
use crate::ui::dialog::Confirm;
use crate::ui::logs::{Kind, LogWorkbench, Source};
use crate::ui::{act_then, named, refusal, Call, Notices, Problem, Reconnecting};

fn num(v: &Value, pointer: &str) -> u64 {
    v.pointer(pointer).and_then(Value::as_u64).unwrap_or(0)
}

fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        _ => vec![],
    }
}

/// What the engine is to Swarm.
#[derive(Clone, PartialEq)]
enum Facts {
    /// Not in a Swarm (or joining, or locked): the node state.
    Outside {
        state: String,
        address: String,
    },
    Worker,
    Manager {
        node_id: String,
        nodes: Vec<Value>,
        services: Vec<Value>,
        tasks: Vec<Value>,
    },
}

impl Facts {
    /// Whether anything is still on its way (worth reading tasks again).
    fn converging(&self) -> bool {
        let Facts::Manager {
            services, tasks, ..
        } = self
        else {
            return false;
        };
        services
            .iter()
            .any(|s| num(s, "/ServiceStatus/RunningTasks") != num(s, "/ServiceStatus/DesiredTasks"))
            || tasks.iter().any(|t| {
                let (desired, state) =
                    (json_text(t, "/DesiredState"), json_text(t, "/Status/State"));
                desired == "running"
                    && state != "running"
                    && state != "failed"
                    && state != "rejected"
                    || desired == "shutdown" && state == "running"
            })
    }
}

async fn load(engine: Engine) -> Result<Facts, ApiError> {
    let api = engine.api().await?;
    let info = api::call(api.info()).await?;
    let state = json_text(&info, "/Swarm/LocalNodeState");
    if state != "active" {
        return Ok(Facts::Outside {
            state,
            address: json_text(&info, "/Swarm/NodeAddr"),
        });
    }
    if info.pointer("/Swarm/ControlAvailable") != Some(&Value::Bool(true)) {
        return Ok(Facts::Worker);
    }
    let none = BTreeMap::new();
    let nodes = api::call(api.nodes()).await?;
    let services = api::call(api.services()).await?;
    let tasks = api::call(api.tasks(&none)).await?;
    let mut services = array(services);
    services.sort_by_key(|s| json_text(s, "/Spec/Name"));
    let mut nodes = array(nodes);
    nodes.sort_by_key(|n| json_text(n, "/Description/Hostname"));
    Ok(Facts::Manager {
        node_id: json_text(&info, "/Swarm/NodeID"),
        nodes,
        services,
        tasks: array(tasks),
    })
}

#[component]
pub fn Swarm() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();
    let (facts, reload) = latest(move || load(engine));
    let alive = Rc::new(Cell::new(true));
    on_cleanup({
        let alive = send_wrapper::SendWrapper::new(alive.clone());
        move || alive.set(false)
    });
    let polling = StoredValue::new(false);
    reload();
    // Tasks have no events: read again while something is on its way.
    Effect::new({
        let alive = alive.clone();
        move |_| {
            let converging = facts.with(|f| matches!(f, Some(Ok(f)) if f.converging()));
            if !converging || polling.get_value() {
                return;
            }
            polling.set_value(true);
            let alive = alive.clone();
            spawn_local(async move {
                sleep(2000).await;
                if alive.get() {
                    polling.set_value(false);
                    reload();
                }
            });
        }
    });
    let live = follow_events(engine, of_types(&["service", "node", "container"]), reload);

    // Runs a change; engine errors become notices, its warnings too.
    let change = move |what: String, call: Change| {
        let said = what.clone();
        act_then(engine, notices, what, call, move |answer: Option<Value>| {
            for w in answer.iter().flat_map(|a| json_strings(a, "/Warnings")) {
                notices.info(format!("{said}: {w}"));
            }
            reload();
        });
    };
    let act =
        move |what: String, call: Call| act_then(engine, notices, what, call, move |_| reload());

    let manager = Memo::new(move |_| facts.with(|f| matches!(f, Some(Ok(Facts::Manager { .. })))));
    view! {
        <h1>"Swarm"</h1>
        <Reconnecting live/>
        {move || facts.get().map(|f| match f {
            Err(err) => view! { <Problem err retry=reload/> }.into_any(),
            Ok(Facts::Outside { state, address }) => {
                let addr = if address.is_empty() { "<this host's address>".to_owned() } else { address };
                view! {
                    <section data-swarm-outside="">
                        <p>{format!("This engine is not part of a Swarm (its Swarm state: {state}).")}</p>
                        <p>"To make it a single-node Swarm manager, run on its host:"</p>
                        <pre class="run-line">{format!("docker swarm init --advertise-addr {addr}")}</pre>
                        <p class="muted">"Other engines then join with the command it prints, and this page lists the nodes and services."</p>
                    </section>
                }.into_any()
            }
            Ok(Facts::Worker) => view! {
                <p data-swarm-worker="">"This engine is a Swarm worker. Nodes and services are managed on a manager: point Berth at one."</p>
            }.into_any(),
            Ok(Facts::Manager { .. }) => ().into_any(),
        })}
        {move || facts.get().is_none().then(|| view! { <p class="loading">"Asking the engine…"</p> })}
        <Show when=move || manager.get()>
            <Nodes facts act/>
            <Services facts change act/>
        </Show>
    }
}

/// A change whose answer may carry warnings.
type Change = Box<dyn FnOnce(berth_engine::Api) -> berth_engine::Endpoint<Value>>;

#[component]
fn Nodes(
    facts: RwSignal<Option<Result<Facts, ApiError>>>,
    act: impl Fn(String, Call) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let nodes = Memo::new(move |_| {
        facts.with(|f| match f {
            Some(Ok(Facts::Manager { nodes, node_id, .. })) => nodes
                .iter()
                .map(|n| (n.clone(), json_text(n, "/ID") == *node_id))
                .collect(),
            _ => vec![],
        })
    });
    let set_availability = move |node: &Value, to: &'static str| {
        let (id, version) = (json_text(node, "/ID"), num(node, "/Version/Index"));
        let spec = swarm::with_availability(node.get("Spec").unwrap_or(&Value::Null), to);
        let host = json_text(node, "/Description/Hostname");
        act(
            format!("set {host} to {to}"),
            Box::new(move |api| api.node_update(&id, version, &spec)),
        );
    };
    let engine = expect_context::<Engine>();
    let update_refused = refusal(engine, |api| api.node_update("x", 0, &Value::Null));
    view! {
        <h2>"Nodes"</h2>
        <table class="list" data-nodes="">
            <thead><tr><th>"Host"</th><th>"Role"</th><th>"Availability"</th><th>"Status"</th><th>"Engine"</th><th>"Address"</th><th></th></tr></thead>
            <tbody>
                <For each=move || nodes.get() key=|(n, _)| (json_text(n, "/ID"), num(n, "/Version/Index"), json_text(n, "/Status/State")) let:item>
                    {
                        let (n, me) = item;
                        let host = json_text(&n, "/Description/Hostname");
                        let leader = n.pointer("/ManagerStatus/Leader") == Some(&Value::Bool(true));
                        let role = format!("{}{}", json_text(&n, "/Spec/Role"), if leader { " (leader)" } else { "" });
                        let availability = json_text(&n, "/Spec/Availability");
                        let drained = availability == "drain";
                        let node = StoredValue::new(n.clone());
                        let key = host.clone();
                        view! {
                            <tr data-node=key.clone()>
                                <td data-label="Host" class="name">{host}{me.then_some(" (this engine)")}</td>
                                <td data-label="Role">{role}</td>
                                <td data-label="Availability" data-availability="">{availability}</td>
                                <td data-label="Status">{json_text(&n, "/Status/State")}</td>
                                <td data-label="Engine">{json_text(&n, "/Description/Engine/EngineVersion")}</td>
                                <td data-label="Address">{json_text(&n, "/Status/Addr")}</td>
                                <td class="actions">
                                    {
                                        let (verb, to) = if drained { ("activate", "active") } else { ("drain", "drain") };
                                        let hint = if drained { "Place tasks on it again" } else { "Move its tasks elsewhere and place no new ones" };
                                        view! { <button data-node-action=verb aria-label=named(verb, &key)
                                            title=move || update_refused.get().unwrap_or_else(|| hint.to_owned()) aria-description=update_refused
                                            disabled=move || update_refused.get().is_some()
                                            on:click=move |_| node.with_value(|n| set_availability(n, to))>{verb}</button> }
                                    }
                                </td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
    }
}

#[component]
fn Services(
    facts: RwSignal<Option<Result<Facts, ApiError>>>,
    change: impl Fn(String, Change) + Copy + Send + Sync + 'static,
    act: impl Fn(String, Call) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let services = Memo::new(move |_| {
        facts.with(|f| match f {
            Some(Ok(Facts::Manager { services, .. })) => services.clone(),
            _ => vec![],
        })
    });
    let open = RwSignal::new(None::<String>);
    let removing = RwSignal::new(None::<(String, String)>);
    view! {
        <h2>"Services"</h2>
        <CreateService change/>
        <p class="empty" hidden=move || !services.with(Vec::is_empty)>"No services yet: create one above."</p>
        <table class="list" data-services="" hidden=move || services.with(Vec::is_empty)>
            <thead><tr><th>"Name"</th><th>"Mode"</th><th>"Tasks"</th><th>"Image"</th><th>"Ports"</th><th>"Actions"</th></tr></thead>
            <tbody>
                <For each=move || services.get()
                    key=|s| (json_text(s, "/ID"), num(s, "/Version/Index"), num(s, "/ServiceStatus/RunningTasks"), num(s, "/ServiceStatus/DesiredTasks"), json_text(s, "/UpdateStatus/State"))
                    let:s>
                    {service_row(s, open, removing, change)}
                </For>
            </tbody>
        </table>
        {move || open.get().and_then(|id| {
            let s = services.with(|all| all.iter().find(|s| json_text(s, "/ID") == id).cloned())?;
            Some(view! { <ServiceDetail service=s facts/> })
        })}
        {move || removing.get().map(|(id, name)| {
            let n = name.clone();
            view! {
                <Confirm title=format!("Remove the service {name}?") body="Its tasks are stopped and removed on every node."
                    on_cancel=move || removing.set(None)
                    on_confirm=move || {
                        removing.set(None);
                        let id = id.clone();
                        act(format!("remove {n}"), Box::new(move |api| api.service_remove(&id)));
                    }/>
            }
        })}
    }
}

fn service_row(
    s: Value,
    open: RwSignal<Option<String>>,
    removing: RwSignal<Option<(String, String)>>,
    change: impl Fn(String, Change) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = json_text(&s, "/ID");
    let name = json_text(&s, "/Spec/Name");
    let version = num(&s, "/Version/Index");
    let replicated = s.pointer("/Spec/Mode/Replicated").is_some();
    let mode = if replicated {
        format!("replicated {}", num(&s, "/Spec/Mode/Replicated/Replicas"))
    } else {
        "global".to_owned()
    };
    let tasks = format!(
        "{}/{}",
        num(&s, "/ServiceStatus/RunningTasks"),
        num(&s, "/ServiceStatus/DesiredTasks")
    );
    let image = json_text(&s, "/Spec/TaskTemplate/ContainerSpec/Image");
    let ports = s
        .pointer("/Endpoint/Ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    format!(
                        "{}→{}/{}",
                        json_text(p, "/PublishedPort"),
                        json_text(p, "/TargetPort"),
                        json_text(p, "/Protocol")
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let update = match json_text(&s, "/UpdateStatus/State") {
        u if u.is_empty() => String::new(),
        u => format!(" (update {u}: {})", json_text(&s, "/UpdateStatus/Message")),
    };
    let spec = StoredValue::new(s.get("Spec").cloned().unwrap_or(Value::Null));
    let replicas = RwSignal::new(num(&s, "/Spec/Mode/Replicated/Replicas").to_string());
    let new_image = RwSignal::new(swarm::short_image(&image).to_owned());
    let (id1, id2, id3) = (id.clone(), id.clone(), id.clone());
    let (name1, name2, name3, name4) = (name.clone(), name.clone(), name.clone(), name.clone());
    let scale = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(n) = replicas.get_untracked().trim().parse::<u64>() else {
            return;
        };
        if let Some(body) = spec.with_value(|s| swarm::scaled(s, n)) {
            let id = id1.clone();
            change(
                format!("scale {name1} to {n}"),
                Box::new(move |api| api.service_update(&id, version, &body)),
            );
        }
    };
    let set_image = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let image = new_image.get_untracked();
        let body = spec.with_value(|s| swarm::with_image(s, &image));
        let id = id2.clone();
        change(
            format!("update {name2} to {image}"),
            Box::new(move |api| api.service_update(&id, version, &body)),
        );
    };
    let engine = expect_context::<Engine>();
    let update_refused = refusal(engine, |api| api.service_update("x", 0, &Value::Null));
    let remove_refused = refusal(engine, |api| api.service_remove("x"));
    view! {
        <tr data-service=name.clone()>
            <td data-label="Name" class="name">{name.clone()}</td>
            <td data-label="Mode">{mode}</td>
            <td data-label="Tasks" data-service-tasks="">{tasks}{update}</td>
            <td data-label="Image">{swarm::short_image(&image).to_owned()}</td>
            <td data-label="Ports">{ports}</td>
            <td class="actions">
                {replicated.then(|| view! {
                    <form class="inline" on:submit=scale>
                        <input class="narrow" type="number" min="0" aria-label=format!("Replicas of {name}") data-scale=""
                            prop:value=move || replicas.get() on:input=move |ev| replicas.set(event_target_value(&ev))/>
                        <button type="submit" data-action="scale" aria-label=named("scale", &name)
                            title=update_refused aria-description=update_refused disabled=move || update_refused.get().is_some()>"scale"</button>
                    </form>
                })}
                <form class="inline" on:submit=set_image>
                    <input aria-label=format!("New image of {name3}") data-new-image=""
                        prop:value=move || new_image.get() on:input=move |ev| new_image.set(event_target_value(&ev))/>
                    <button type="submit" data-action="update-image" aria-label=format!("Update the image of {name3}")
                        title=update_refused aria-description=update_refused disabled=move || update_refused.get().is_some()>"update"</button>
                </form>
                <button data-action="tasks" aria-label=format!("Tasks and logs of {name}") on:click=move |_| open.set(Some(id3.clone()))>"tasks & logs"</button>
                <button class="danger" data-action="remove" aria-label=named("remove", &name)
                    title=remove_refused aria-description=remove_refused disabled=move || remove_refused.get().is_some()
                    on:click=move |_| removing.set(Some((id.clone(), name4.clone())))>"remove…"</button>
            </td>
        </tr>
    }
}

/// A service's tasks, newest first, and its logs.
#[component]
fn ServiceDetail(
    service: Value,
    facts: RwSignal<Option<Result<Facts, ApiError>>>,
) -> impl IntoView {
    let id = json_text(&service, "/ID");
    let name = json_text(&service, "/Spec/Name");
    let tasks = Memo::new({
        let id = id.clone();
        move |_| {
            facts.with(|f| match f {
                Some(Ok(Facts::Manager { tasks, nodes, .. })) => {
                    let host = |node: &str| {
                        nodes
                            .iter()
                            .find(|n| json_text(n, "/ID") == node)
                            .map(|n| json_text(n, "/Description/Hostname"))
                            .unwrap_or_else(|| node.to_owned())
                    };
                    let mut mine: Vec<(String, u64, String, String, String, String, String)> =
                        tasks
                            .iter()
                            .filter(|t| json_text(t, "/ServiceID") == id)
                            .map(|t| {
                                let err = json_text(t, "/Status/Err");
                                (
                                    json_text(t, "/ID"),
                                    num(t, "/Slot"),
                                    host(&json_text(t, "/NodeID")),
                                    json_text(t, "/DesiredState"),
                                    json_text(t, "/Status/State"),
                                    if err.is_empty() {
                                        json_text(t, "/Status/Message")
                                    } else {
                                        err
                                    },
                                    json_text(t, "/Status/Timestamp"),
                                )
                            })
                            .collect();
                    // Current ones first, then by slot, newest first.
                    mine.sort_by(|a, b| {
                        (a.3 != "running", a.1, std::cmp::Reverse(&a.6)).cmp(&(
                            b.3 != "running",
                            b.1,
                            std::cmp::Reverse(&b.6),
                        ))
                    });
                    mine
                }
                _ => vec![],
            })
        }
    });
    let source = vec![Source {
        id,
        name: name.clone(),
        kind: Kind::Service,
    }];
    let key = name.clone();
    view! {
        <section class="service-detail" data-service-detail=key>
            <h2>{format!("Tasks of {name}")}</h2>
            <table class="list" data-tasks="">
                <thead><tr><th>"Task"</th><th>"Node"</th><th>"Desired"</th><th>"State"</th><th>"Error or message"</th><th>"Since"</th></tr></thead>
                <tbody>
                    <For each=move || tasks.get() key=|t| t.clone() let:t>
                        <tr data-task-state=t.4.clone() class:muted=t.3 != "running">
                            <td data-label="Task">{format!("{}.{}", name.clone(), t.1)}</td>
                            <td data-label="Node">{t.2.clone()}</td>
                            <td data-label="Desired">{t.3.clone()}</td>
                            <td data-label="State"><span class=format!("state {}", t.4)>{t.4.clone()}</span></td>
                            <td data-label="Error" class:warn=t.4 == "failed" || t.4 == "rejected">{t.5.clone()}</td>
                            <td data-label="Since" class="muted">{t.6.split('.').next().unwrap_or_default().replace('T', " ")}</td>
                        </tr>
                    </For>
                </tbody>
            </table>
            <h2>{format!("Logs of {}", json_text(&service, "/Spec/Name"))}</h2>
            <LogWorkbench sources=source/>
        </section>
    }
}

#[component]
fn CreateService(change: impl Fn(String, Change) + Copy + Send + Sync + 'static) -> impl IntoView {
    let create_refused = refusal(expect_context::<Engine>(), |api| {
        api.service_create(&Value::Null)
    });
    let form = RwSignal::new(ServiceForm::default());
    let problems = RwSignal::new(Vec::<(ServiceField, String)>::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match form.with_untracked(ServiceForm::spec) {
            Ok(spec) => {
                problems.set(vec![]);
                let name = form.with_untracked(|f| f.name.clone());
                change(
                    format!("create the service {name}"),
                    Box::new(move |api| api.service_create(&spec)),
                );
                form.set(ServiceForm::default());
            }
            Err(p) => problems.set(p),
        }
    };
    let problem = move |f: ServiceField| {
        problems.with(|p| p.iter().find(|(x, _)| *x == f).map(|(_, m)| m.clone()))
    };
    let field = move |f: ServiceField,
                      id: &'static str,
                      label: &'static str,
                      hint: &'static str,
                      get: fn(&ServiceForm) -> String,
                      set: fn(&mut ServiceForm, String)| {
        view! {
            <div class="field" class:invalid=move || problem(f).is_some()>
                <label for=id>{label}</label>
                <input id=id placeholder=hint prop:value=move || form.with(get)
                    on:input=move |ev| { let v = event_target_value(&ev); form.update(|s| set(s, v)); }/>
                {move || problem(f).map(|m| view! { <p class="field-error" data-error-for=id>{m}</p> })}
            </div>
        }
    };
    view! {
        <details class="create-service">
            <summary data-new-service="">"New service"</summary>
            <form class="create" on:submit=submit novalidate>
                <div class="grid">
                    {field(ServiceField::Name, "service-name", "Name", "optional", |s| s.name.clone(), |s, v| s.name = v)}
                    {field(ServiceField::Image, "service-image", "Image", "busybox:latest", |s| s.image.clone(), |s, v| s.image = v)}
                    {field(ServiceField::Replicas, "service-replicas", "Replicas", "1, or global", |s| s.replicas.clone(), |s, v| s.replicas = v)}
                    {field(ServiceField::Command, "service-command", "Command", "as in a shell: sh -c 'echo hi'", |s| s.command.clone(), |s, v| s.command = v)}
                    {field(ServiceField::Ports, "service-ports", "Ports", "8080:80, 53/udp", |s| s.ports.clone(), |s, v| s.ports = v)}
                    <div class="field">
                        <label for="service-env">"Environment"</label>
                        <textarea id="service-env" rows="2" placeholder="NAME=value, one a line" prop:value=move || form.with(|s| s.env.clone())
                            on:input=move |ev| { let v = event_target_value(&ev); form.update(|s| s.env = v); }></textarea>
                    </div>
                </div>
                <div class="buttons"><button type="submit" class="primary" data-action="create-service"
                    title=create_refused aria-description=create_refused disabled=move || create_refused.get().is_some()>"Create"</button></div>
            </form>
        </details>
    }
}
