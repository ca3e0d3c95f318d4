//! The log workbench: live logs of one container or several interleaved by
//! time (a container's logs tab, merged logs, a stack, a Swarm service),
//! streamed through the relay's fan-in, or a container's record from the
//! flight recorder (opened at a moment, that line marked); decoded here
//! (stdout and stderr apart, ANSI colours), filtered as they arrive, drawn
//! virtually so 100,000 lines scroll as lightly as 100, and sized to fit
//! the window.

use std::cell::RefCell;
use std::rc::Rc;

use berth_engine::endpoints::LogsOptions;
use berth_engine::{relay, Fanned};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::api::{self, Engine};
use crate::live::StreamSlot;
use crate::state::ansi;
use crate::state::history::around;
use crate::state::logs::{count_text, Decoder, Filter, Line, Matcher, Regex, Status, Store};

use super::{local_input, local_seconds};

/// Where a source's log comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A container's, live: `/containers/{id}/logs`.
    Container,
    /// A Swarm service's, every task's: `/services/{id}/logs`.
    Service,
    /// The flight recorder's record of a container, which outlives it:
    /// `/_berth/history/{id}/logs`. It ends where the record does.
    Record,
}

/// One container (or Swarm service, or record) whose logs are shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: String,
    pub name: String,
    pub kind: Kind,
}

impl Source {
    pub fn container(id: String, name: String) -> Source {
        Source {
            id,
            name,
            kind: Kind::Container,
        }
    }
}

/// Height of one line in pixels; `.log-row` in the CSS says the same.
const ROW: f64 = 20.0;
/// Lines drawn beyond the visible ones, above and below.
const OVERSCAN: usize = 20;
/// Space kept below the workbench, in pixels.
const GAP: f64 = 12.0;
/// Below this, the workbench does not squeeze under what is above it: it
/// takes the window's height, below the header, and the page scrolls to it.
const LEAST: f64 = 288.0;

#[wasm_bindgen]
extern "C" {
    /// The browser's own regular expressions: no regex engine in the wasm.
    #[wasm_bindgen(js_name = RegExp)]
    type Re;
    #[wasm_bindgen(constructor, js_class = "RegExp", catch)]
    fn new(pattern: &str, flags: &str) -> Result<Re, JsValue>;
    #[wasm_bindgen(method)]
    fn test(this: &Re, text: &str) -> bool;
}

fn browser_regex(pattern: &str, case: bool) -> Result<Regex, String> {
    let re = Re::new(pattern, if case { "" } else { "i" }).map_err(|e| {
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "not a regular expression".into())
    })?;
    Ok(Box::new(move |text: &str| re.test(text)))
}

fn raf(f: impl FnOnce() + 'static) {
    if let Some(w) = web_sys::window() {
        let cb = Closure::once_into_js(f);
        let _ = w.request_animation_frame(cb.unchecked_ref());
    }
}

/// The workbench's height so that it ends inside the window: what is left
/// below its top, or (when too little is left) the window's height below
/// the sticky header, for when the page is scrolled to it.
fn fitting_height(el: &web_sys::HtmlElement) -> Option<f64> {
    let window = web_sys::window()?;
    let inner = window.inner_height().ok()?.as_f64()?;
    let top = el.get_bounding_client_rect().top() + window.scroll_y().unwrap_or(0.0);
    let left = inner - top - GAP;
    if left >= LEAST {
        return Some(left.floor());
    }
    let header = window
        .document()?
        .query_selector("header.top")
        .ok()??
        .get_bounding_client_rect()
        .height();
    Some((inner - header - 2.0 * GAP).max(LEAST).floor())
}

/// Keeps `height` at what fits while the workbench is on the page: on
/// resizes of the window, and of the page (something above it appearing).
fn fit_to_window(frame: NodeRef<leptos::html::Div>, height: RwSignal<Option<f64>>) {
    let fit = move || {
        if let Some(h) = frame.get_untracked().and_then(|el| fitting_height(&el)) {
            if height.get_untracked() != Some(h) {
                height.set(Some(h));
            }
        }
    };
    Effect::new(move |_| {
        if frame.get().is_some() {
            raf(fit);
        }
    });
    let on_resize = Closure::<dyn FnMut()>::new(fit);
    let observer = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()).ok();
    if let (Some(o), Some(body)) = (
        &observer,
        web_sys::window().and_then(|w| w.document()?.body()),
    ) {
        o.observe(&body);
    }
    let resize = window_event_listener(leptos::ev::resize, move |_| fit());
    let kept = send_wrapper::SendWrapper::new((observer, on_resize));
    on_cleanup(move || {
        resize.remove();
        if let Some(o) = &kept.0 {
            o.disconnect();
        }
    });
}

/// The workbench, on `sources`: live logs (containers, services), or
/// records, which are read to their end, not followed. `at` (nanoseconds
/// since the epoch) opens it at a moment: the log around it, its line
/// marked and scrolled to.
#[component]
pub fn LogWorkbench(
    sources: Vec<Source>,
    #[prop(optional_no_strip)] at: Option<i64>,
) -> impl IntoView {
    let engine = expect_context::<Engine>();
    let merged = sources.len() > 1;
    let records = sources.iter().all(|s| s.kind == Kind::Record);
    let label = match sources.as_slice() {
        [one] => format!("Log of {}", one.name),
        _ => "Merged log".to_owned(),
    };
    let sources = StoredValue::new(sources);
    let names =
        move || sources.with_value(|s| s.iter().map(|s| s.name.clone()).collect::<Vec<_>>());

    // What to ask the engine for: at a moment, the minutes around it.
    let window = at.map(around);
    let tail = RwSignal::new(if at.is_some() { "" } else { "1000" }.to_owned());
    let since = RwSignal::new(window.map(|(s, _)| local_input(s)).unwrap_or_default());
    let until = RwSignal::new(window.map(|(_, u)| local_input(u)).unwrap_or_default());
    // The moment's line is yet to be scrolled to.
    let to_mark = StoredValue::new(at.is_some());
    // What to show of it.
    let filter = RwSignal::new(Filter::default());
    let timestamps = RwSignal::new(false);
    let filter_error = RwSignal::new(None::<String>);
    // The options beyond the filter: shown at first on wide screens.
    let wide = web_sys::window()
        .and_then(|w| w.inner_width().ok()?.as_f64())
        .is_some_and(|w| w > 720.0);
    let more = RwSignal::new(wide);

    let store = StoredValue::new_local(Store::default());
    let matcher = StoredValue::new_local(Matcher::All);
    // Bumped when the store changes; the view reads the store through it.
    let version = RwSignal::new(0u64);
    let status = RwSignal::new(Vec::<Status>::new());
    let follow = RwSignal::new(at.is_none());
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = NodeRef::<leptos::html::Div>::new();
    let frame = NodeRef::<leptos::html::Div>::new();
    let height = RwSignal::new(None::<f64>);
    fit_to_window(frame, height);

    // New filter: refilter everything once.
    Effect::new(move |_| {
        let f = filter.get();
        match Matcher::new(&f, browser_regex) {
            Ok(m) => {
                filter_error.set(None);
                store.update_value(|s| s.refilter(&m, &f));
                matcher.set_value(m);
            }
            Err(e) => filter_error.set(Some(e)),
        }
        version.update(|v| *v += 1);
    });

    // Lines arrive in bursts; they are added once a frame.
    let pending = Rc::new(RefCell::new(Vec::<Line>::new()));
    let scheduled = Rc::new(std::cell::Cell::new(false));
    let flush = {
        let pending = pending.clone();
        let scheduled = scheduled.clone();
        move || {
            if scheduled.replace(true) {
                return;
            }
            let pending = pending.clone();
            let scheduled = scheduled.clone();
            raf(move || {
                scheduled.set(false);
                let batch = std::mem::take(&mut *pending.borrow_mut());
                let f = filter.get_untracked();
                let dropped = matcher.with_value(|m| {
                    store
                        .try_update_value(|s| s.add(batch, m, &f, merged))
                        .unwrap_or(0)
                });
                // Reading above the newest lines: keep the same lines in view.
                if dropped > 0 && !follow.get_untracked() {
                    if let Some(el) = viewport.get_untracked() {
                        let shown_drop = dropped as f64 * ROW;
                        el.set_scroll_top((f64::from(el.scroll_top()) - shown_drop).max(0.0) as i32);
                    }
                }
                version.update(|v| *v += 1);
                // The moment's line, once it has come: in the middle of
                // the view (after the view has grown to hold it).
                let found = at
                    .filter(|_| to_mark.get_value())
                    .and_then(|ns| store.with_value(|s| s.first_at(ns)));
                if let Some(i) = found {
                    to_mark.set_value(false);
                    raf(move || {
                        if let Some(el) = viewport.get_untracked() {
                            let top = i as f64 * ROW - (f64::from(el.client_height()) - ROW) / 2.0;
                            el.set_scroll_top(top.max(0.0) as i32);
                            // And the page to the workbench, should it be
                            // below the fold.
                            let opts = web_sys::ScrollIntoViewOptions::new();
                            opts.set_block(web_sys::ScrollLogicalPosition::End);
                            el.scroll_into_view_with_scroll_into_view_options(&opts);
                        }
                    });
                }
            });
        }
    };

    // (Re)opens the streams whenever what is asked of the engine changes.
    let slot = StreamSlot::new();
    Effect::new(move |_| {
        let opts = LogsOptions {
            follow: until.with(String::is_empty) && !records,
            stdout: true,
            stderr: true,
            timestamps: true,
            tail: tail.with(|t| t.trim().parse::<u64>().ok()),
            since: since.with(|s| local_seconds(s)),
            until: until.with(|u| local_seconds(u)),
        };
        let Some(signal) = slot.renew() else { return };
        store.set_value(Store::default());
        pending.borrow_mut().clear();
        follow.set(!to_mark.get_value());
        version.update(|v| *v += 1);
        let n = sources.with_value(Vec::len);
        status.set(vec![Status::Opening; n]);
        let pending = pending.clone();
        let flush = flush.clone();
        spawn_local(async move {
            let Ok(api) = engine.api().await else { return };
            let paths: Vec<String> = sources.with_value(|s| {
                s.iter()
                    .map(|src| match src.kind {
                        Kind::Container => api.container_logs(&src.id, &opts).path,
                        Kind::Service => api.service_logs(&src.id, &opts).path,
                        Kind::Record => relay::history_logs(&src.id, &opts).path,
                    })
                    .collect()
            });
            let mut decoders: Vec<Decoder> = (0..n).map(|_| Decoder::default()).collect();
            let opened = move || status.set(vec![Status::Live; n]);
            let mut each = |frame: Fanned| {
                let mut out = pending.borrow_mut();
                match frame {
                    Fanned::Data { source, bytes } => {
                        if let Some(d) = decoders.get_mut(usize::from(source)) {
                            d.push(&bytes, source, &mut out);
                        }
                    }
                    Fanned::End { source } => {
                        if let Some(d) = decoders.get_mut(usize::from(source)) {
                            d.finish(source, &mut out);
                        }
                        status.update(|s| s[usize::from(source)] = Status::Ended);
                    }
                    Fanned::Error { source, message } => {
                        status.update(|s| s[usize::from(source)] = Status::Failed(message));
                    }
                }
                drop(out);
                flush();
            };
            // The fan-in carries the engine's streams; a record is the
            // relay's own answer, read to its end one at a time.
            let result = if records {
                opened();
                let mut result = Ok(());
                for (i, path) in paths.iter().enumerate() {
                    let source = i as u8;
                    let read = api::read(path, &signal, |bytes| {
                        each(Fanned::Data {
                            source,
                            bytes: bytes.to_vec(),
                        })
                    })
                    .await;
                    match read {
                        Ok(()) => each(Fanned::End { source }),
                        Err(e) => result = Err(e),
                    }
                }
                result
            } else {
                api::fanin(&paths, &signal, opened, each).await
            };
            if let Err(e) = result {
                if !signal.aborted() {
                    status.set(vec![Status::Failed(e.to_string()); n]);
                }
            }
        });
    });
    // Follows the newest line while `follow` is on, and when the view's
    // height changes.
    Effect::new(move |_| {
        version.track();
        height.track();
        if follow.get_untracked() {
            raf(move || {
                if let Some(el) = viewport.get_untracked() {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        }
    });
    // Following stops only when the view moves up. A scroll event can arrive
    // after more lines made the view taller, which is not the person leaving
    // the bottom.
    let on_scroll = move |_| {
        if let Some(el) = viewport.get_untracked() {
            let top = f64::from(el.scroll_top());
            let before = scroll_top.get_untracked();
            scroll_top.set(top);
            let bottom = top + f64::from(el.client_height()) >= f64::from(el.scroll_height()) - ROW;
            let following = follow.get_untracked();
            if bottom && !following {
                follow.set(true);
            } else if !bottom && following && top < before - 1.0 {
                follow.set(false);
            }
        }
    };
    let jump_to_end = move |_| {
        follow.set(true);
        if let Some(el) = viewport.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };

    let counts = move || {
        version.track();
        store.with_value(Store::counts)
    };
    let spacer = move || format!("height:{}px", counts().0 as f64 * ROW);
    let rows = move || {
        version.track();
        height.track();
        let top = scroll_top.get();
        let visible = viewport
            .get_untracked()
            .map_or(40.0, |el| f64::from(el.client_height()) / ROW)
            .ceil() as usize;
        let show_ts = timestamps.get();
        let names = names();
        store.with_value(|s| {
            let first = ((top / ROW) as usize).saturating_sub(OVERSCAN);
            let marked = at.and_then(|ns| s.first_at(ns));
            s.shown(first, visible + 2 * OVERSCAN)
                .enumerate()
                .map(|(k, line)| {
                    let pos = format!("top:{}px", (first + k) as f64 * ROW);
                    let class = if line.stderr { "log-row err" } else { "log-row" };
                    let mark = (marked == Some(first + k)).then_some("true");
                    view! {
                        <div class=class class:marked=mark.is_some() aria-current=mark style=pos data-stream=if line.stderr { "stderr" } else { "stdout" }>
                            {show_ts.then(|| view! { <span class="ts">{line.time().to_owned()}</span> })}
                            {merged.then(|| {
                                let src = usize::from(line.source);
                                view! { <span class=format!("src src-{}", src % 8)>{names.get(src).cloned().unwrap_or_default()}</span> }
                            })}
                            <span class="msg">
                                {ansi::spans(&line.text).into_iter().map(|(text, style)| {
                                    let css = style.css();
                                    if css.is_empty() { view! { <span>{text}</span> }.into_any() }
                                    else { view! { <span style=css>{text}</span> }.into_any() }
                                }).collect_view()}
                            </span>
                        </div>
                    }
                })
                .collect_view()
        })
    };

    let download = move |_| {
        let names = names();
        let text = store.with_value(|s| {
            s.text(
                timestamps.get_untracked(),
                merged.then_some(names.as_slice()),
            )
        });
        let parts = js_sys::Array::of1(&JsValue::from_str(&text));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("text/plain;charset=utf-8");
        if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) {
            if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
                let name = match names.as_slice() {
                    [one] => format!("{one}.log"),
                    _ => "merged.log".to_owned(),
                };
                api::save_url(&url, &name);
                // Let go of the text once the browser has saved it.
                set_timeout(
                    move || {
                        let _ = web_sys::Url::revoke_object_url(&url);
                    },
                    std::time::Duration::from_secs(60),
                );
            }
        }
    };

    let status_line = move || {
        let names = names();
        status
            .get()
            .into_iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let name = names.get(i).cloned().unwrap_or_default();
                match s {
                    Status::Failed(why) => Some(view! { <p class="warn" data-log-error="">{format!("{name}: {why}")}</p> }.into_any()),
                    Status::Ended if until.with(String::is_empty) && !records => Some(view! { <p class="muted" data-log-ended="">{format!("{name}: the log stream ended (the container stopped).")}</p> }.into_any()),
                    _ => None,
                }
            })
            .collect_view()
    };
    // A filter's checkbox.
    let toggle = move |set: fn(&mut Filter, bool)| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            filter.update(|f| set(f, on))
        }
    };

    view! {
        <div class="logs" node_ref=frame style=move || height.get().map(|h| format!("height:{h}px"))>
            <div class="toolbar">
                <input type="search" placeholder="Filter lines" aria-label="Filter log lines" data-log-filter=""
                    prop:value=move || filter.with(|f| f.text.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); filter.update(|f| f.text = v) }/>
                <label class="check"><input type="checkbox" data-log-regex="" prop:checked=move || filter.with(|f| f.regex)
                    on:change=toggle(|f, on| f.regex = on)/>" regex"</label>
                <label class="check"><input type="checkbox" prop:checked=move || filter.with(|f| f.case)
                    on:change=toggle(|f, on| f.case = on)/>" case"</label>
                <label class="check"><input type="checkbox" data-log-stdout="" prop:checked=move || filter.with(|f| f.stdout)
                    on:change=toggle(|f, on| f.stdout = on)/>" stdout"</label>
                <label class="check"><input type="checkbox" data-log-stderr="" prop:checked=move || filter.with(|f| f.stderr)
                    on:change=toggle(|f, on| f.stderr = on)/>" stderr"</label>
                <button aria-expanded=move || more.get().to_string() aria-controls="log-options" data-log-more=""
                    on:click=move |_| more.update(|m| *m = !*m)>"Options"</button>
            </div>
            <div class="toolbar" id="log-options" hidden=move || !more.get()>
                <label class="check"><input type="checkbox" prop:checked=move || timestamps.get()
                    on:change=move |ev| timestamps.set(event_target_checked(&ev))/>" timestamps"</label>
                <label>"Tail "<input class="narrow" type="number" min="0" placeholder="all" aria-label="Lines from the end"
                    prop:value=move || tail.get() on:change=move |ev| tail.set(event_target_value(&ev))/></label>
                <label>"Since "<input type="datetime-local" step="1" prop:value=move || since.get() on:change=move |ev| since.set(event_target_value(&ev))/></label>
                <label>"Until "<input type="datetime-local" step="1" prop:value=move || until.get() on:change=move |ev| until.set(event_target_value(&ev))/></label>
                <button on:click=download data-log-download="" title="Save the lines shown (filter applied) as a text file">"Download shown"</button>
            </div>
            {move || filter_error.get().map(|e| view! { <p class="warn" data-filter-error="" role="alert">{format!("Not a regular expression: {e}")}</p> })}
            <p class="count" data-log-count="" aria-live="polite">{move || filter.with(|f| count_text(counts(), f))}</p>
            {status_line}
            <div class="log-view" node_ref=viewport on:scroll=on_scroll tabindex="0" role="log" aria-label=label>
                <div class="log-spacer" style=spacer>{rows}</div>
            </div>
            <Show when=move || !follow.get()>
                <button class="jump" on:click=jump_to_end data-log-jump="">"Paused: jump to the newest ↓"</button>
            </Show>
            {move || (counts().1 == 0 && status.with(|s| s.iter().all(|s| *s != Status::Opening))).then(|| view! {
                <p class="empty">{if records { "The record has no lines in this window." } else { "No log lines yet." }}</p>
            })}
        </div>
    }
}
