//! Images, a row per tag as `docker images` lists them (repo:tag, id,
//! size, age, which containers use the image) with
//! a filter and a dangling toggle, kept current by the engine's events;
//! pull with a bar per layer; load from a tar with upload progress; save to
//! a tar; tag, history, inspect and remove (with force).

use std::collections::HashMap;

use berth_engine::endpoints::Prune;
use berth_engine::models::ContainerSummary;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, ApiError, Engine};
use crate::live::{follow_events, of_types};
use crate::state::containers::container_name;
use crate::state::create::Pull;
use crate::state::json::{json_items, json_number, json_strings, json_text, label_matches};
use crate::ui::dialog::{Confirm, Dialog};
use crate::ui::pull::{pull, PullView};
use crate::ui::{act_then, ago, bytes, named, refusal, save_as, Notices, Problem, Reconnecting};

/// One row: an image under one of its tags (or none, when dangling).
#[derive(Clone, PartialEq)]
struct Image {
    id: String,
    /// This row's tag; empty when dangling.
    tag: String,
    /// How many tags the image has in all.
    tags: usize,
    size: i64,
    created: i64,
    used_by: Vec<String>,
    labels: serde_json::Map<String, Value>,
}

impl Image {
    /// What to call it in calls and messages: a tag, else the short id.
    fn reference(&self) -> String {
        Some(self.tag.clone())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| self.short_id())
    }

    fn short_id(&self) -> String {
        self.id
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect()
    }

    fn dangling(&self) -> bool {
        self.tag.is_empty()
    }
}

async fn load_images(engine: Engine) -> Result<Vec<Image>, ApiError> {
    let api = engine.api().await?;
    let list = api::call(api.images()).await?;
    let containers = api::call(api.containers::<ContainerSummary>(true)).await?;
    let mut users: HashMap<String, Vec<String>> = HashMap::new();
    for c in &containers {
        if let Some(image) = &c.image_id {
            users
                .entry(image.clone())
                .or_default()
                .push(container_name(c.names.as_deref()));
        }
    }
    let mut images: Vec<Image> = vec![];
    for i in json_items(&list, "") {
        let id = json_text(i, "/Id");
        let mut tags: Vec<String> = json_strings(i, "/RepoTags")
            .into_iter()
            .filter(|t| t != "<none>:<none>")
            .collect();
        tags.sort();
        let n = tags.len();
        if tags.is_empty() {
            tags.push(String::new());
        }
        let used_by = users.get(&id).cloned().unwrap_or_default();
        for tag in tags {
            images.push(Image {
                id: id.clone(),
                tag,
                tags: n,
                size: json_number(i, "/Size"),
                created: json_number(i, "/Created"),
                used_by: used_by.clone(),
                labels: i["Labels"].as_object().cloned().unwrap_or_default(),
            });
        }
    }
    images.sort_by(|a, b| b.created.cmp(&a.created).then(a.tag.cmp(&b.tag)));
    Ok(images)
}

/// What an image prune would remove: a name per image (its tags, or its
/// short id when dangling) and their total size. The engine prunes images
/// no container uses: dangling ones, or with `every` tagged ones too.
fn prune_preview(all: &[Image], every: bool, label: &str) -> (Vec<String>, i64) {
    let mut by_id: Vec<(&str, Vec<&Image>)> = vec![];
    for i in all {
        match by_id.iter_mut().find(|(id, _)| *id == i.id) {
            Some((_, rows)) => rows.push(i),
            None => by_id.push((&i.id, vec![i])),
        }
    }
    let mut names = vec![];
    let mut size = 0;
    for (_, rows) in by_id {
        let first = rows[0];
        let dangling = rows.iter().all(|r| r.dangling());
        if first.used_by.is_empty()
            && (every || dangling)
            && label_matches(Some(&first.labels), label)
        {
            names.push(if dangling {
                first.short_id()
            } else {
                rows.iter()
                    .map(|r| r.tag.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            size += first.size;
        }
    }
    (names, size)
}

#[derive(Clone, PartialEq)]
enum Busy {
    Pulling(Option<Pull>),
    Loading(String, f64),
}

#[component]
pub fn Images() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let notices = expect_context::<Notices>();
    let images = LocalResource::new(move || load_images(engine));
    let live = follow_events(engine, of_types(&["image", "container"]), move || {
        images.refetch()
    });
    let text = RwSignal::new(String::new());
    let dangling_only = RwSignal::new(false);
    let busy = RwSignal::new(None::<Busy>);
    let pulled = RwSignal::new(None::<Pull>);
    let reference = RwSignal::new(String::new());
    let pull_error = RwSignal::new(None::<String>);
    let detail = RwSignal::new(None::<(String, Result<Value, String>, Result<Value, String>)>);
    let removing = RwSignal::new(None::<Image>);
    // Prune: dangling only or every unused image, optionally by label.
    let prune_all = RwSignal::new(false);
    let prune_label = RwSignal::new(String::new());
    let pruning = RwSignal::new(false);
    let pruned = RwSignal::new(None::<String>);
    let doomed = Memo::new(move |_| {
        let all = images.get().and_then(Result::ok).unwrap_or_default();
        prune_preview(&all, prune_all.get(), &prune_label.get())
    });
    let prune = move || {
        pruning.set(false);
        let (every, label) = (prune_all.get_untracked(), prune_label.get_untracked());
        let mut filters = std::collections::BTreeMap::new();
        if !label.trim().is_empty() {
            filters.insert("label".to_owned(), vec![label.trim().to_owned()]);
        }
        let what = if every {
            Prune::AllUnusedImages
        } else {
            Prune::DanglingImages
        };
        act_then(
            engine,
            notices,
            "prune images".into(),
            move |api| api.prune(what, &filters),
            move |answer| {
                if let Some(answer) = answer {
                    let gone = json_items(&answer, "/ImagesDeleted");
                    let deleted = gone.iter().filter(|g| g.get("Deleted").is_some()).count();
                    let untagged = gone.iter().filter(|g| g.get("Untagged").is_some()).count();
                    pruned.set(Some(format!(
                        "Pruned: {deleted} layers deleted, {untagged} tags removed, {} reclaimed.",
                        bytes(json_number(&answer, "/SpaceReclaimed"))
                    )));
                }
                images.refetch();
            },
        );
    };

    let do_pull = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let r = reference.get_untracked().trim().to_owned();
        if r.is_empty() {
            return;
        }
        pull_error.set(None);
        busy.set(Some(Busy::Pulling(None)));
        spawn_local(async move {
            let result = async {
                let api = engine.api().await.map_err(|e| e.to_string())?;
                pull(api, &r, pulled).await
            }
            .await;
            busy.set(None);
            match result {
                Ok(()) => {
                    reference.set(String::new());
                    images.refetch();
                }
                Err(e) => pull_error.set(Some(format!("Could not pull {r}: {e}"))),
            }
        });
    };

    let file_input = NodeRef::<leptos::html::Input>::new();
    let on_load = move |_| {
        let Some(input) = file_input.get_untracked() else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        spawn_local(async move {
            let name = file.name();
            match load_tar(engine, &file, busy).await {
                Ok(loaded) => notices.info(format!("Loaded from {name}: {loaded}")),
                Err(e) => notices.error(format!("Could not load {name}: {e}")),
            }
            busy.set(None);
            images.refetch();
        });
    };

    let open_detail = move |image: Image| {
        let r = image.reference();
        spawn_local(async move {
            let got = async {
                let api = engine.api().await?;
                let history = api::call(api.image_history(&r))
                    .await
                    .map_err(|e| e.to_string());
                let inspect = api::call(api.image_inspect(&r))
                    .await
                    .map_err(|e| e.to_string());
                Ok::<_, ApiError>((history, inspect))
            }
            .await;
            match got {
                Ok((h, i)) => detail.set(Some((r, h, i))),
                Err(e) => notices.error(e.to_string()),
            }
        });
    };
    let save = move |image: Image| {
        let r = image.reference();
        let file = format!("{}.tar", r.replace(['/', ':'], "_"));
        save_as(
            engine,
            notices,
            format!("save {r}"),
            move |api| api.image_save(&r),
            file,
        );
    };
    let tag = move |image: Image| {
        let Some(target) = web_sys::window()
            .and_then(|w| {
                w.prompt_with_message(&format!("New tag for {} (repo:tag)", image.reference()))
                    .ok()
                    .flatten()
            })
            .filter(|t| !t.trim().is_empty())
        else {
            return;
        };
        let what = format!("tag {}", image.reference());
        act_then(
            engine,
            notices,
            what,
            move |api| api.image_tag(&image.id, target.trim()),
            move |_| images.refetch(),
        );
    };
    let remove = move |image: Image, force: bool| {
        removing.set(None);
        // A tag is untagged (the image goes with its last tag); a dangling
        // image goes by id.
        let target = if image.dangling() {
            image.id.clone()
        } else {
            image.tag.clone()
        };
        let what = format!("remove {}", image.reference());
        act_then(
            engine,
            notices,
            what,
            move |api| api.image_remove(&target, force),
            move |_| images.refetch(),
        );
    };

    // Rows are keyed, so a reload (any image or container event) keeps
    // the rows that did not change, and a click never lands on a row being
    // replaced. The last list stays up while a reload is under way.
    let shown = Memo::new(
        move |prev: Option<&Option<Vec<Image>>>| match images.get() {
            Some(Ok(all)) => {
                let t = text.get().to_lowercase();
                Some(
                    all.into_iter()
                        .filter(|i| !dangling_only.get() || i.dangling())
                        .filter(|i| {
                            t.is_empty() || i.tag.to_lowercase().contains(&t) || i.id.contains(&t)
                        })
                        .collect(),
                )
            }
            Some(Err(_)) => None,
            None => prev.cloned().flatten(),
        },
    );
    let failed = Memo::new(move |_| images.get().and_then(Result::err));
    let tag_refused = refusal(engine, |api| api.image_tag("x", "y"));
    let save_refused = refusal(engine, |api| api.image_save("x"));
    let remove_refused = refusal(engine, |api| api.image_remove("x", false));
    let row = move |i: Image| {
        let (a, b, c, d) = (i.clone(), i.clone(), i.clone(), i.clone());
        let tags = if i.dangling() {
            "<none>".to_owned()
        } else {
            i.tag.clone()
        };
        let r = i.reference();
        view! {
            <tr data-image=i.reference()>
                <td data-label="Repository:tag" class="name">{tags}</td>
                <td data-label="ID"><code>{i.short_id()}</code></td>
                <td data-label="Size">{bytes(i.size)}</td>
                <td data-label="Created">{ago(i.created)}</td>
                <td data-label="Used by">{if i.used_by.is_empty() { "—".to_owned() } else { i.used_by.join(", ") }}</td>
                <td data-label="Actions"><div class="actions">
                    <button aria-label=format!("History and inspect of {r}") on:click=move |_| open_detail(a.clone())>"history / inspect"</button>
                    <button aria-label=named("tag", &r) title=tag_refused aria-description=tag_refused
                        disabled=move || tag_refused.get().is_some() on:click=move |_| tag(b.clone())>"tag"</button>
                    <button data-action="save" aria-label=named("save", &r) title=save_refused aria-description=save_refused
                        disabled=move || save_refused.get().is_some() on:click=move |_| save(c.clone())>"save"</button>
                    <button class="danger" data-action="remove" aria-label=named("remove", &r) title=remove_refused aria-description=remove_refused
                        disabled=move || remove_refused.get().is_some() on:click=move |_| removing.set(Some(d.clone()))>"remove"</button>
                </div></td>
            </tr>
        }
    };
    let list = move || {
        view! {
            {move || failed.get().map(|err| view! { <Problem err retry=move || images.refetch()/> })}
            {move || (shown.with(Option::is_none) && failed.with(Option::is_none)).then(|| view! { <p class="loading">"Loading images…"</p> })}
            {move || shown.with(|s| s.as_ref().is_some_and(Vec::is_empty)).then(|| view! { <p class="empty">"No images match."</p> })}
            <table class="list" data-images="" hidden=move || shown.with(|s| s.as_ref().is_none_or(Vec::is_empty))>
                <thead><tr><th>"Repository:tag"</th><th>"ID"</th><th>"Size"</th><th>"Created"</th><th>"Used by"</th><th>"Actions"</th></tr></thead>
                <tbody>
                    <For each=move || shown.get().unwrap_or_default()
                        key=|i| (i.id.clone(), i.tag.clone(), i.used_by.clone(), i.size, i.tags) let:i>
                        {row(i)}
                    </For>
                </tbody>
            </table>
        }
    };

    let pull_refused = refusal(engine, |api| api.image_pull("x"));
    let load_refused = refusal(engine, |api| api.image_load());
    let prune_refused = refusal(engine, |api| {
        api.prune(Prune::DanglingImages, &Default::default())
    });
    view! {
        <h1>"Images"</h1>
        <form class="toolbar" on:submit=do_pull>
            <input placeholder="image to pull, e.g. nginx:1.27" aria-label="Image to pull" data-pull-ref=""
                prop:value=move || reference.get() on:input=move |ev| reference.set(event_target_value(&ev))/>
            <button type="submit" class="primary" data-action="pull" title=pull_refused aria-description=pull_refused
                disabled=move || busy.get().is_some() || pull_refused.get().is_some()>"Pull"</button>
            <label class="button" class:disabled=move || load_refused.get().is_some() title=load_refused>"Load from a tar…"
                <input type="file" accept=".tar,application/x-tar" class="hidden-input" data-load-tar="" node_ref=file_input on:change=on_load
                    disabled=move || load_refused.get().is_some() aria-description=load_refused/></label>
        </form>
        {move || pull_error.get().map(|e| view! { <p class="warn" data-pull-error="" role="alert">{e}</p> })}
        {move || match busy.get() {
            Some(Busy::Pulling(_)) => pulled.get().map(|p| view! { <PullView pull=p/> }.into_any()),
            Some(Busy::Loading(name, f)) => Some(view! {
                <p class="progress-line" data-loading="">{format!("Loading {name}… ")}<progress max="1" value=f.to_string()></progress></p>
            }.into_any()),
            None => None,
        }}
        <div class="toolbar">
            <input type="search" placeholder="Filter by tag or id" aria-label="Filter images" on:input=move |ev| text.set(event_target_value(&ev))/>
            <label class="check"><input type="checkbox" on:change=move |ev| dangling_only.set(event_target_checked(&ev))/>" dangling only"</label>
        </div>
        <Reconnecting live/>
        {list}
        {move || removing.get().map(|image| {
            let (a, b) = (image.clone(), image.clone());
            view! {
                <Dialog title=format!("Remove {}?", image.reference()) on_close=move || removing.set(None)>
                    {(image.tags > 1).then(|| view! { <p>"The image has other tags: only this tag goes."</p> })}
                    {(!image.used_by.is_empty() && image.tags <= 1).then(|| view! { <p class="warn">{format!("Used by {}: only force removes it.", image.used_by.join(", "))}</p> })}
                    <div class="buttons">
                        <button autofocus on:click=move |_| removing.set(None)>"Cancel"</button>
                        <button class="danger" on:click=move |_| remove(a.clone(), true)>"Force remove"</button>
                        <button class="danger" data-action="confirm-remove" on:click=move |_| remove(b.clone(), false)>"Remove"</button>
                    </div>
                </Dialog>
            }
        })}
        <h2>"Prune"</h2>
        <div class="toolbar">
            <label class="check"><input type="radio" name="prune-images" checked=true on:change=move |_| prune_all.set(false)/>" dangling only"</label>
            <label class="check"><input type="radio" name="prune-images" data-prune-all="" on:change=move |_| prune_all.set(true)/>" every unused image"</label>
            <input placeholder="only with label k or k=v" aria-label="Only images with this label" data-prune-label=""
                on:input=move |ev| prune_label.set(event_target_value(&ev))/>
        </div>
        <p data-prune-preview="">{move || doomed.with(|(names, size)| if names.is_empty() {
            "Nothing would go.".to_owned()
        } else {
            format!("Would go ({}, up to {}): {}", names.len(), bytes(*size), names.join(", "))
        })}</p>
        <button class="danger" data-action="prune" title=prune_refused aria-description=prune_refused
            disabled=move || doomed.with(|d| d.0.is_empty()) || prune_refused.get().is_some() on:click=move |_| pruning.set(true)>"Prune…"</button>
        {move || pruned.get().map(|s| view! { <p class="ok" data-pruned="">{s}</p> })}
        {move || pruning.get().then(|| {
            let n = doomed.with_untracked(|d| d.0.len());
            view! {
                <Confirm title=format!("Prune {n} images?")
                    body="They are deleted for good; pulling or loading them again is the only way back."
                    yes="Yes, prune" action="confirm-prune" on_cancel=move || pruning.set(false) on_confirm=prune/>
            }
        })}
        {move || detail.get().map(|(r, history, inspect)| view! {
            <section class="detail" data-image-detail=r.clone()>
                <h2>{r.clone()} " " <button class="ghost" aria-label="Close" on:click=move |_| detail.set(None)>"×"</button></h2>
                <h3>"History"</h3>
                {match history {
                    Ok(h) => view! {
                        <table class="list"><thead><tr><th>"Created by"</th><th>"Size"</th></tr></thead><tbody>
                            {json_items(&h, "").iter().map(|l| view! {
                                <tr><td><code>{json_text(l, "/CreatedBy")}</code></td><td>{bytes(json_number(l, "/Size"))}</td></tr>
                            }).collect_view()}
                        </tbody></table>
                    }.into_any(),
                    Err(e) => view! { <p class="warn">{e}</p> }.into_any(),
                }}
                <h3>"Inspect"</h3>
                <pre class="inspect-hits">{inspect.map(|v| serde_json::to_string_pretty(&v).unwrap_or_default()).unwrap_or_else(|e| e)}</pre>
            </section>
        })}
    }
}

/// POSTs a tar to `/images/load`, streamed by the browser from disk with
/// its progress shown; returns what the engine says it loaded, or its error.
async fn load_tar(
    engine: Engine,
    file: &web_sys::File,
    busy: RwSignal<Option<Busy>>,
) -> Result<String, String> {
    let api = engine.api().await.map_err(|e| e.to_string())?;
    let name = file.name();
    busy.set(Some(Busy::Loading(name.clone(), 0.0)));
    let progress = move |f| busy.set(Some(Busy::Loading(name.clone(), f)));
    let body = api::upload(&api.image_load(), file, progress)
        .await
        .map_err(|e| e.to_string())?;
    // The answer is JSON lines; an error can arrive inside the 200.
    let mut loaded = vec![];
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_default();
        if let Some(e) = v
            .pointer("/errorDetail/message")
            .or(v.get("error"))
            .and_then(Value::as_str)
        {
            return Err(e.to_owned());
        }
        if let Some(s) = v.get("stream").and_then(Value::as_str) {
            loaded.push(s.trim().to_owned());
        }
    }
    Ok(loaded.join("; "))
}
