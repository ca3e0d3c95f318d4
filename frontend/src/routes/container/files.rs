//! The container's files, through the engine's archive endpoints: a folder
//! is listed from the tar of it as it streams (contents skipped, never
//! kept), files and folders download as tars, and uploads go in as a tar
//! the browser streams from disk.

use berth_engine::archive::{upload_header, upload_trailer, Entry, EntryKind, TarLister};
use berth_engine::Method;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;

use crate::api::{self, ApiError, Engine};
use crate::ui::current::Current;
use crate::ui::{bytes, named, refusal, save_as, Notices};

/// `/a/b` + `c` → `/a/b/c`.
fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

fn parent(dir: &str) -> String {
    match dir.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((p, _)) => p.into(),
    }
}

#[derive(Clone, PartialEq)]
enum Listing {
    Reading(usize),
    Done(Vec<Entry>),
    Failed(String),
}

/// The direct children of the archive's root item.
fn children(entries: Vec<Entry>) -> Vec<Entry> {
    let mut out: Vec<Entry> = entries
        .into_iter()
        .filter_map(|mut e| {
            let trimmed = e.path.trim_start_matches("./").trim_end_matches('/');
            let (_root, rest) = trimmed.split_once('/')?;
            if rest.is_empty() || rest.contains('/') {
                return None;
            }
            e.path = rest.to_owned();
            Some(e)
        })
        .collect();
    out.sort_by(|a, b| {
        (a.kind != EntryKind::Dir, &a.path).cmp(&(b.kind != EntryKind::Dir, &b.path))
    });
    out
}

#[component]
pub fn Files() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let current = expect_context::<Current>();
    let notices = expect_context::<Notices>();
    let dir = RwSignal::new("/".to_owned());
    let listing = RwSignal::new(Listing::Reading(0));
    let upload = RwSignal::new(None::<(String, f64)>);
    let generation = StoredValue::new(0u32);

    let list = move || {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        let path = dir.get_untracked();
        listing.set(Listing::Reading(0));
        spawn_local(async move {
            let result: Result<Vec<Entry>, ApiError> = async {
                let api = engine.api().await?;
                let endpoint =
                    api.container_archive(&current.id.get_untracked(), &path, Method::Get);
                let resp = api::raw(&endpoint).await?;
                let mut lister = TarLister::new();
                let mut entries = vec![];
                let mut failed = None;
                api::read_body(resp, |chunk| {
                    lister.push(chunk);
                    while let Some(e) = lister.next_entry() {
                        match e {
                            Ok(e) => entries.push(e),
                            Err(why) => failed = Some(why),
                        }
                    }
                    if generation.get_value() == mine {
                        listing.set(Listing::Reading(entries.len()));
                    }
                })
                .await?;
                match failed {
                    Some(why) => Err(ApiError::Unexpected(why)),
                    None => Ok(entries),
                }
            }
            .await;
            if generation.get_value() != mine {
                return;
            }
            listing.set(match result {
                Ok(entries) => Listing::Done(children(entries)),
                Err(e) => Listing::Failed(e.to_string()),
            });
        });
    };
    Effect::new(move |_| {
        dir.track();
        list();
    });

    let download = move |path: String, name: String| {
        let target = current.id.get_untracked();
        let what = format!("download {path}");
        save_as(
            engine,
            notices,
            what,
            move |api| api.container_archive(&target, &path, Method::Get),
            format!("{name}.tar"),
        );
    };
    let download_refused = refusal(engine, |api| api.container_archive("x", "/", Method::Get));
    let upload_refused = refusal(engine, |api| api.container_upload("x", "/"));

    let file_input = NodeRef::<leptos::html::Input>::new();
    let on_files = move |_| {
        let Some(input) = file_input.get_untracked() else {
            return;
        };
        let Some(files) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        input.set_value("");
        let target = dir.get_untracked();
        spawn_local(async move {
            for file in files {
                let name = file.name();
                match put_file(engine, current, &target, &file, upload).await {
                    Ok(()) => {}
                    Err(e) => notices.error(format!("Could not upload {name}: {e}")),
                }
            }
            upload.set(None);
            list();
        });
    };

    let crumbs = move || {
        let d = dir.get();
        let mut acc = String::new();
        let mut out = vec![("/".to_owned(), "/".to_owned())];
        for part in d.split('/').filter(|p| !p.is_empty()) {
            acc = join(&acc, part);
            out.push((acc.clone(), format!("{part}/")));
        }
        out.into_iter()
            .map(|(path, label)| view! { <button class="link" on:click=move |_| dir.set(path.clone())>{label}</button> })
            .collect_view()
    };

    view! {
        <div class="toolbar files-bar">
            <span class="crumbs" data-files-dir=move || dir.get()>{crumbs}</span>
            <button on:click=move |_| dir.set(parent(&dir.get_untracked())) disabled=move || dir.get() == "/">"Up"</button>
            <button title=download_refused aria-description=download_refused disabled=move || download_refused.get().is_some()
                on:click=move |_| { let d = dir.get_untracked(); let name = d.rsplit('/').find(|p| !p.is_empty()).unwrap_or("root").to_owned(); download(d, name) }>"Download this folder"</button>
            <label class="button" class:disabled=move || upload_refused.get().is_some() title=upload_refused>"Upload here…"
                <input type="file" multiple class="hidden-input" data-files-upload="" node_ref=file_input on:change=on_files
                    disabled=move || upload_refused.get().is_some() aria-description=upload_refused/></label>
        </div>
        {move || upload.get().map(|(name, fraction)| view! {
            <p class="progress-line" data-uploading="">{format!("Uploading {name}… ")}
                <progress max="1" value=fraction.to_string()></progress></p>
        })}
        {move || match listing.get() {
            Listing::Reading(n) => view! { <p class="loading">{format!("Reading the folder… {n} entries")}</p> }.into_any(),
            Listing::Failed(why) => view! { <p class="warn" data-problem="files">{why}</p> }.into_any(),
            Listing::Done(entries) if entries.is_empty() => view! { <p class="empty">"This folder is empty."</p> }.into_any(),
            Listing::Done(entries) => view! {
                <table class="list files" data-files="">
                    <thead><tr><th>"Name"</th><th>"Size"</th><th>"Mode"</th><th>"Modified"</th><th></th></tr></thead>
                    <tbody>{entries.into_iter().map(|e| {
                        let full = join(&dir.get_untracked(), &e.path);
                        let name = e.path.clone();
                        let (row_name, row_label) = (name.clone(), name.clone());
                        let is_dir = e.kind == EntryKind::Dir;
                        let label = match e.kind {
                            EntryKind::Dir => format!("{}/", e.path),
                            EntryKind::Symlink => format!("{} → {}", e.path, e.link),
                            _ => e.path.clone(),
                        };
                        let open = {
                            let full = full.clone();
                            move |_| dir.set(full.clone())
                        };
                        let mtime = js_sys::Date::new(&JsValue::from_f64(e.mtime as f64 * 1000.0));
                        view! {
                            <tr data-file=row_name>
                                <td data-label="Name">{if is_dir {
                                    view! { <button class="link" on:click=open>{label}</button> }.into_any()
                                } else { view! { <span>{label}</span> }.into_any() }}</td>
                                <td data-label="Size">{if is_dir { String::new() } else { bytes(e.size as i64) }}</td>
                                <td data-label="Mode"><code>{format!("{:o}", e.mode & 0o7777)}</code></td>
                                <td data-label="Modified">{String::from(mtime.to_iso_string()).replace('T', " ").chars().take(19).collect::<String>()}</td>
                                <td><button aria-label=named("download", &row_label) title=download_refused aria-description=download_refused
                                    disabled=move || download_refused.get().is_some() on:click=move |_| download(full.clone(), name.clone())>"Download"</button></td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            }.into_any(),
        }}
    }
}

/// PUTs one file into `dir` as a one-entry tar. The body is a Blob of the
/// header, the file and the trailer, so the browser streams the file from
/// disk, saying how far it got.
async fn put_file(
    engine: Engine,
    current: Current,
    dir: &str,
    file: &web_sys::File,
    progress: RwSignal<Option<(String, f64)>>,
) -> Result<(), String> {
    let api = engine.api().await.map_err(|e| e.to_string())?;
    let name = file.name();
    let size = file.size() as u64;
    let header = upload_header(&name, size, (file.last_modified() / 1000.0) as u64)?;
    let trailer = upload_trailer(size);
    let parts = js_sys::Array::new();
    parts.push(&js_sys::Uint8Array::from(header.as_slice()));
    parts.push(file);
    parts.push(&js_sys::Uint8Array::from(trailer.as_slice()));
    let blob =
        web_sys::Blob::new_with_blob_sequence(&parts).map_err(|_| "cannot build the upload")?;
    let endpoint = api.container_upload(&current.id.get_untracked(), dir);
    progress.set(Some((name.clone(), 0.0)));
    api::upload(&endpoint, &blob, move |f| {
        progress.set(Some((name.clone(), f)))
    })
    .await
    .map(drop)
    .map_err(|e| e.to_string())
}
