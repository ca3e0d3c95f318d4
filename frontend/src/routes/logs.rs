//! The log workbench: live logs of one container or several interleaved by
//! time, streamed through the relay's fan-in and decoded here (stdout and
//! stderr apart, ANSI colours), filtered as they arrive, and drawn
//! virtually so 100,000 lines scroll as lightly as 100.

use std::cell::RefCell;
use std::rc::Rc;

use berth_engine::endpoints::LogsOptions;
use berth_engine::{Fanned, MuxDecoder, StreamKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::ansi;
use crate::api;
use crate::app::Engine;
use crate::live::StreamSlot;
use crate::ui::local_seconds;

/// One container (or Swarm service) whose logs are shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: String,
    pub name: String,
    /// A Swarm service: every task's logs, from `/services/{id}/logs`.
    pub service: bool,
}

impl Source {
    pub fn container(id: String, name: String) -> Source {
        Source {
            id,
            name,
            service: false,
        }
    }
}

/// Height of one line in pixels; `.log-row` in the CSS says the same.
const ROW: f64 = 20.0;
/// Lines kept; beyond, the oldest go (and the page says so).
pub const CAP: usize = 200_000;
/// Lines drawn beyond the visible ones, above and below.
const OVERSCAN: usize = 20;

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

pub struct Line {
    /// The engine's timestamp with the fraction padded to nine digits, so
    /// that text order is time order.
    key: String,
    source: u8,
    stderr: bool,
    /// As the container wrote it, escape sequences included.
    text: String,
    /// Without escape sequences: what filters and downloads see.
    plain: String,
}

impl Line {
    fn new(source: u8, stderr: bool, raw: &str) -> Line {
        let (key, text) = match raw.split_once(' ') {
            Some((ts, rest)) if ts.ends_with('Z') && ts.len() >= 20 => (sort_key(ts), rest),
            _ => (String::new(), raw),
        };
        let text = text.strip_suffix('\r').unwrap_or(text).to_owned();
        Line {
            key,
            source,
            stderr,
            plain: ansi::strip(&text),
            text,
        }
    }

    /// `2026-11-23 02:12:24.214`, UTC.
    fn time(&self) -> &str {
        self.key.get(..23).unwrap_or("")
    }
}

/// `2026-11-23T02:12:24.2Z` → `2026-11-23 02:12:24.200000000`.
fn sort_key(ts: &str) -> String {
    let ts = ts.trim_end_matches('Z');
    let (whole, frac) = ts.split_once('.').unwrap_or((ts, ""));
    format!("{} {frac:0<9}", whole.replace('T', " "))
}

/// What the person asked to see.
#[derive(Debug, Clone, PartialEq, Default)]
struct Filter {
    text: String,
    regex: bool,
    case: bool,
    stdout: bool,
    stderr: bool,
}

enum Matcher {
    All,
    Text { needle: String, case: bool },
    Re(Re),
}

impl Matcher {
    fn new(f: &Filter) -> Result<Matcher, String> {
        if f.text.is_empty() {
            Ok(Matcher::All)
        } else if f.regex {
            Re::new(&f.text, if f.case { "" } else { "i" })
                .map(Matcher::Re)
                .map_err(|e| {
                    e.dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                        .unwrap_or_else(|| "not a regular expression".into())
                })
        } else if f.case {
            Ok(Matcher::Text {
                needle: f.text.clone(),
                case: true,
            })
        } else {
            Ok(Matcher::Text {
                needle: f.text.to_lowercase(),
                case: false,
            })
        }
    }

    fn matches(&self, line: &Line) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Text { needle, case: true } => line.plain.contains(needle.as_str()),
            Matcher::Text {
                needle,
                case: false,
            } => {
                if line.plain.is_ascii() && needle.is_ascii() {
                    contains_ignore_ascii_case(&line.plain, needle)
                } else {
                    line.plain.to_lowercase().contains(needle.as_str())
                }
            }
            Matcher::Re(re) => re.test(&line.plain),
        }
    }
}

fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Per source: how its bytes are framed, and the unfinished line of each
/// of its streams.
#[derive(Default)]
struct Decoder {
    /// `None` until the first bytes tell (a TTY's stream is not framed).
    mux: Option<Option<MuxDecoder>>,
    sniff: Vec<u8>,
    partial: [Vec<u8>; 2],
}

impl Decoder {
    fn push(&mut self, bytes: &[u8], source: u8, out: &mut Vec<Line>) {
        if self.mux.is_none() {
            self.sniff.extend_from_slice(bytes);
            if self.sniff.len() < 8 {
                return;
            }
            let framed = self.sniff[0] <= 2 && self.sniff[1..4] == [0, 0, 0];
            self.mux = Some(framed.then(MuxDecoder::new));
            let bytes = std::mem::take(&mut self.sniff);
            return self.push(&bytes, source, out);
        }
        match self.mux.as_mut().and_then(Option::as_mut) {
            Some(mux) => {
                mux.push(bytes);
                let mut frames = vec![];
                while let Some(Ok(f)) = mux.next_frame() {
                    frames.push(f);
                }
                for f in frames {
                    self.lines(f.stream == StreamKind::Stderr, &f.payload, source, out);
                }
            }
            None => self.lines(false, bytes, source, out),
        }
    }

    fn lines(&mut self, stderr: bool, bytes: &[u8], source: u8, out: &mut Vec<Line>) {
        let partial = &mut self.partial[usize::from(stderr)];
        partial.extend_from_slice(bytes);
        if let Some(last) = partial.iter().rposition(|&b| b == b'\n') {
            let rest = partial.split_off(last + 1);
            let done = std::mem::replace(partial, rest);
            for raw in done[..done.len() - 1].split(|&b| b == b'\n') {
                out.push(Line::new(source, stderr, &String::from_utf8_lossy(raw)));
            }
        }
    }

    /// The stream ended: an unfinished last line is still a line.
    fn finish(&mut self, source: u8, out: &mut Vec<Line>) {
        for (i, partial) in self.partial.iter_mut().enumerate() {
            if !partial.is_empty() {
                let raw = String::from_utf8_lossy(partial).into_owned();
                out.push(Line::new(source, i == 1, &raw));
                partial.clear();
            }
        }
    }
}

/// Every line received, and which of them the filter lets through.
#[derive(Default)]
pub struct Store {
    lines: Vec<Line>,
    shown: Vec<u32>,
    dropped: usize,
}

impl Store {
    fn refilter(&mut self, m: &Matcher, f: &Filter) {
        self.shown = (0..self.lines.len() as u32)
            .filter(|&i| passes(&self.lines[i as usize], m, f))
            .collect();
    }

    /// Adds lines in time order; only new lines are filtered unless some
    /// arrived older than what is there (merged sources catching up).
    /// Returns how many old lines the cap dropped.
    fn add(&mut self, mut batch: Vec<Line>, m: &Matcher, f: &Filter, merged: bool) -> usize {
        if batch.is_empty() {
            return 0;
        }
        if merged {
            batch.sort_by(|a, b| a.key.cmp(&b.key));
        }
        let in_order = !merged
            || self
                .lines
                .last()
                .is_none_or(|last| last.key <= batch[0].key);
        if in_order {
            let start = self.lines.len() as u32;
            for (i, line) in batch.iter().enumerate() {
                if passes(line, m, f) {
                    self.shown.push(start + i as u32);
                }
            }
            self.lines.extend(batch);
        } else {
            let old = std::mem::take(&mut self.lines);
            let mut merged_lines = Vec::with_capacity(old.len() + batch.len());
            let (mut a, mut b) = (old.into_iter().peekable(), batch.into_iter().peekable());
            while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
                merged_lines
                    .push(if x.key <= y.key { a.next() } else { b.next() }.expect("peeked"));
            }
            merged_lines.extend(a);
            merged_lines.extend(b);
            self.lines = merged_lines;
            self.refilter(m, f);
        }
        let over = self.lines.len().saturating_sub(CAP);
        if over > 0 {
            // Drop a tenth more than needed, so this happens rarely.
            let drop = (over + CAP / 10).min(self.lines.len());
            self.lines.drain(..drop);
            self.dropped += drop;
            let d = drop as u32;
            self.shown.retain(|&i| i >= d);
            for i in &mut self.shown {
                *i -= d;
            }
            return drop;
        }
        0
    }
}

fn passes(line: &Line, m: &Matcher, f: &Filter) -> bool {
    (if line.stderr { f.stderr } else { f.stdout }) && m.matches(line)
}

/// The state of each source's stream.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    Opening,
    Live,
    Ended,
    Failed(String),
}

fn raf(f: impl FnOnce() + 'static) {
    if let Some(w) = web_sys::window() {
        let cb = Closure::once_into_js(f);
        let _ = w.request_animation_frame(cb.unchecked_ref());
    }
}

#[component]
pub fn LogWorkbench(sources: Vec<Source>) -> impl IntoView {
    let engine = expect_context::<Engine>();
    let merged = sources.len() > 1;
    let sources = StoredValue::new(sources);

    // What to ask the engine for.
    let tail = RwSignal::new("1000".to_owned());
    let since = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    // What to show of it.
    let filter = RwSignal::new(Filter {
        stdout: true,
        stderr: true,
        ..Default::default()
    });
    let timestamps = RwSignal::new(false);
    let filter_error = RwSignal::new(None::<String>);

    let store = StoredValue::new_local(Store::default());
    let matcher = StoredValue::new_local(Matcher::All);
    // Bumped when the store changes; the view reads the store through it.
    let version = RwSignal::new(0u64);
    let status = RwSignal::new(Vec::<Status>::new());
    let follow = RwSignal::new(true);
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = NodeRef::<leptos::html::Div>::new();

    // New filter: refilter everything once.
    Effect::new(move |_| {
        let f = filter.get();
        match Matcher::new(&f) {
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
            });
        }
    };

    // (Re)opens the streams whenever what is asked of the engine changes.
    let slot = StreamSlot::new();
    Effect::new(move |_| {
        let opts = LogsOptions {
            follow: until.with(String::is_empty),
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
        follow.set(true);
        version.update(|v| *v += 1);
        let n = sources.with_value(Vec::len);
        status.set(vec![Status::Opening; n]);
        let pending = pending.clone();
        let flush = flush.clone();
        spawn_local(async move {
            let Ok(api) = engine.api().await else { return };
            let paths: Vec<String> = sources.with_value(|s| {
                s.iter()
                    .map(|src| {
                        if src.service {
                            api.service_logs(&src.id, &opts).path
                        } else {
                            api.container_logs(&src.id, &opts).path
                        }
                    })
                    .collect()
            });
            let mut decoders: Vec<Decoder> = (0..n).map(|_| Decoder::default()).collect();
            let opened = move || status.set(vec![Status::Live; n]);
            let each = |frame: Fanned| {
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
            let result = api::fanin(&paths, &signal, opened, each).await;
            if let Err(e) = result {
                if !signal.aborted() {
                    status.set(vec![Status::Failed(e.to_string()); n]);
                }
            }
        });
    });
    // Follows the newest line while `follow` is on.
    Effect::new(move |_| {
        version.track();
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
        store.with_value(|s| (s.shown.len(), s.lines.len(), s.dropped))
    };
    let height = move || format!("height:{}px", counts().0 as f64 * ROW);
    let rows = move || {
        version.track();
        let top = scroll_top.get();
        let visible = viewport
            .get_untracked()
            .map_or(40.0, |el| f64::from(el.client_height()) / ROW)
            .ceil() as usize;
        let show_ts = timestamps.get();
        let names: Vec<String> = sources.with_value(|s| s.iter().map(|s| s.name.clone()).collect());
        store.with_value(|s| {
            let first = ((top / ROW) as usize).saturating_sub(OVERSCAN);
            let last = (first + visible + 2 * OVERSCAN).min(s.shown.len());
            let first = first.min(last);
            s.shown[first..last]
                .iter()
                .enumerate()
                .map(|(k, &i)| {
                    let line = &s.lines[i as usize];
                    let pos = format!("top:{}px", (first + k) as f64 * ROW);
                    let class = if line.stderr { "log-row err" } else { "log-row" };
                    view! {
                        <div class=class style=pos data-stream=if line.stderr { "stderr" } else { "stdout" }>
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
        let show_ts = timestamps.get_untracked();
        let names: Vec<String> = sources.with_value(|s| s.iter().map(|s| s.name.clone()).collect());
        let text = store.with_value(|s| {
            let mut out = String::new();
            for &i in &s.shown {
                let l = &s.lines[i as usize];
                if show_ts {
                    out.push_str(l.time());
                    out.push(' ');
                }
                if merged {
                    out.push_str(names.get(usize::from(l.source)).map_or("", String::as_str));
                    out.push(' ');
                }
                out.push_str(&l.plain);
                out.push('\n');
            }
            out
        });
        let parts = js_sys::Array::of1(&JsValue::from_str(&text));
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type("text/plain;charset=utf-8");
        if let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) {
            if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
                let name = sources.with_value(|s| {
                    if s.len() == 1 {
                        format!("{}.log", s[0].name)
                    } else {
                        "merged.log".to_owned()
                    }
                });
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

    let set_filter = move |f: fn(&mut Filter, String), v: String| filter.update(|x| f(x, v));
    let status_line = move || {
        let st = status.get();
        let names: Vec<String> = sources.with_value(|s| s.iter().map(|s| s.name.clone()).collect());
        st.iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let name = names.get(i).cloned().unwrap_or_default();
                match s {
                    Status::Failed(why) => Some(view! { <p class="warn" data-log-error="">{format!("{name}: {why}")}</p> }.into_any()),
                    Status::Ended if until.with(String::is_empty) => Some(view! { <p class="muted" data-log-ended="">{format!("{name}: the log stream ended (the container stopped).")}</p> }.into_any()),
                    _ => None,
                }
            })
            .collect_view()
    };

    view! {
        <div class="logs">
            <div class="toolbar">
                <input type="search" placeholder="Filter lines" aria-label="Filter log lines" data-log-filter=""
                    prop:value=move || filter.with(|f| f.text.clone())
                    on:input=move |ev| set_filter(|f, v| f.text = v, event_target_value(&ev))/>
                <label class="check"><input type="checkbox" data-log-regex="" prop:checked=move || filter.with(|f| f.regex)
                    on:change=move |ev| { let on = event_target_checked(&ev); filter.update(|f| f.regex = on) }/>" regex"</label>
                <label class="check"><input type="checkbox" prop:checked=move || filter.with(|f| f.case)
                    on:change=move |ev| { let on = event_target_checked(&ev); filter.update(|f| f.case = on) }/>" case"</label>
                <label class="check"><input type="checkbox" data-log-stdout="" prop:checked=move || filter.with(|f| f.stdout)
                    on:change=move |ev| { let on = event_target_checked(&ev); filter.update(|f| f.stdout = on) }/>" stdout"</label>
                <label class="check"><input type="checkbox" data-log-stderr="" prop:checked=move || filter.with(|f| f.stderr)
                    on:change=move |ev| { let on = event_target_checked(&ev); filter.update(|f| f.stderr = on) }/>" stderr"</label>
                <label class="check"><input type="checkbox" prop:checked=move || timestamps.get()
                    on:change=move |ev| timestamps.set(event_target_checked(&ev))/>" timestamps"</label>
            </div>
            <div class="toolbar">
                <label>"Tail "<input class="narrow" type="number" min="0" placeholder="all" aria-label="Lines from the end"
                    prop:value=move || tail.get() on:change=move |ev| tail.set(event_target_value(&ev))/></label>
                <label>"Since "<input type="datetime-local" step="1" prop:value=move || since.get() on:change=move |ev| since.set(event_target_value(&ev))/></label>
                <label>"Until "<input type="datetime-local" step="1" prop:value=move || until.get() on:change=move |ev| until.set(event_target_value(&ev))/></label>
                <button on:click=download data-log-download="" title="Save the lines shown (filter applied) as a text file">"Download shown"</button>
            </div>
            {move || filter_error.get().map(|e| view! { <p class="warn" data-filter-error="">{format!("Not a regular expression: {e}")}</p> })}
            <p class="count" data-log-count="">{move || {
                let (shown, total, dropped) = counts();
                let mut s = if filter.with(|f| f.text.is_empty() && f.stdout && f.stderr) {
                    format!("{total} lines")
                } else {
                    format!("{shown} of {total} lines match")
                };
                if dropped > 0 {
                    s += &format!("; the oldest {dropped} were let go to stay fast (at most {CAP} are kept; narrow the time window to see them)");
                }
                s
            }}</p>
            {status_line}
            <div class="log-view" node_ref=viewport on:scroll=on_scroll tabindex="0" aria-label="Log lines">
                <div class="log-spacer" style=height>{rows}</div>
            </div>
            <Show when=move || !follow.get()>
                <button class="jump" on:click=jump_to_end data-log-jump="">"Paused: jump to the newest ↓"</button>
            </Show>
            {move || (counts().1 == 0 && status.with(|s| s.iter().all(|s| *s != Status::Opening))).then(|| view! {
                <p class="empty">"No log lines yet."</p>
            })}
        </div>
    }
}

/// `/logs?ids=a,b,c`: several containers' logs interleaved by time, each
/// with its own colour and name.
#[component]
pub fn MergedLogs() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let query = leptos_router::hooks::use_query_map();
    let ids = Memo::new(move |_| {
        query
            .read()
            .get("ids")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    let sources = LocalResource::new(move || {
        let ids = ids.get();
        async move {
            let api = engine.api().await?;
            let all = api::call(api.containers(true)).await?;
            Ok::<_, api::ApiError>(
                ids.iter()
                    .map(|id| {
                        // Ids or names, as the link gave them.
                        let found = all.iter().find(|c| {
                            c.id.as_deref().is_some_and(|i| i.starts_with(id.as_str()))
                                || c.names.as_ref().is_some_and(|n| {
                                    n.iter().any(|n| n.trim_start_matches('/') == id)
                                })
                        });
                        let name = found
                            .map(crate::ui::container_name)
                            .unwrap_or_else(|| id.clone());
                        Source::container(
                            found
                                .and_then(|c| c.id.clone())
                                .unwrap_or_else(|| id.clone()),
                            name,
                        )
                    })
                    .collect::<Vec<_>>(),
            )
        }
    });
    view! {
        <h1>"Merged logs"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sources.await {
                    Ok(s) if s.is_empty() => view! { <p class="empty">"No containers chosen: select some in the containers list."</p> }.into_any(),
                    Ok(s) => view! {
                        <p class="muted">{s.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(", ")}</p>
                        <LogWorkbench sources=s/>
                    }.into_any(),
                    Err(err) => view! { <p class="warn">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
