//! Terminals in the browser: xterm.js drawing, a session the relay holds
//! carrying the bytes (`berth_engine::relay`: pages join a session by
//! WebSocket; leaving the page leaves it running, to be joined again). An
//! exec runs a chosen command; attach joins the container's main process,
//! and ending that session only detaches.
//!
//! xterm.js is loaded when a terminal first opens, so pages without one
//! don't pay for it.

use berth_engine::models::ExecConfig;
use berth_engine::relay::{ws, Control, Mode, Open, Session};
use berth_engine::MuxDecoder;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::api::{self, href, ApiError, Engine};
use crate::ui::current::Current;
use crate::ui::{ago, named};

#[wasm_bindgen]
extern "C" {
    /// xterm.js's `Terminal` (global once `vendor/xterm.js` has loaded).
    #[wasm_bindgen(js_name = Terminal)]
    type XTerm;
    #[wasm_bindgen(constructor, js_class = "Terminal")]
    fn new(options: &JsValue) -> XTerm;
    #[wasm_bindgen(method)]
    fn open(this: &XTerm, parent: &web_sys::HtmlElement);
    #[wasm_bindgen(method, js_name = write)]
    fn write_bytes(this: &XTerm, data: &js_sys::Uint8Array);
    #[wasm_bindgen(method, js_name = write)]
    fn write_str(this: &XTerm, data: &str);
    #[wasm_bindgen(method, js_name = onData)]
    fn on_data(this: &XTerm, f: &Closure<dyn FnMut(String)>) -> JsValue;
    #[wasm_bindgen(method, js_name = onResize)]
    fn on_resize(this: &XTerm, f: &Closure<dyn FnMut(JsValue)>) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn rows(this: &XTerm) -> u32;
    #[wasm_bindgen(method, getter)]
    fn cols(this: &XTerm) -> u32;
    #[wasm_bindgen(method, js_name = loadAddon)]
    fn load_addon(this: &XTerm, addon: &Fit);
    #[wasm_bindgen(method)]
    fn focus(this: &XTerm);
    #[wasm_bindgen(method)]
    fn dispose(this: &XTerm);

}

#[wasm_bindgen]
extern "C" {
    /// `@xterm/addon-fit` (global `FitAddon.FitAddon`): sizes the terminal
    /// to its element.
    #[wasm_bindgen(js_namespace = FitAddon, js_name = FitAddon)]
    type Fit;
    #[wasm_bindgen(constructor, js_namespace = FitAddon, js_class = "FitAddon")]
    fn new() -> Fit;
    #[wasm_bindgen(method)]
    fn fit(this: &Fit);
}

/// Adds a script or stylesheet once and waits for it.
async fn load(tag: &str, url: &str) -> Result<(), String> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let id = format!("vendor:{url}");
    if doc.get_element_by_id(&id).is_some() {
        return Ok(());
    }
    let el = doc.create_element(tag).map_err(|_| "cannot add a tag")?;
    el.set_id(&id);
    if tag == "script" {
        let _ = el.set_attribute("src", url);
    } else {
        let _ = el.set_attribute("rel", "stylesheet");
        let _ = el.set_attribute("href", url);
    }
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let _ = el.add_event_listener_with_callback("load", &resolve);
        let _ = el.add_event_listener_with_callback("error", &reject);
    });
    doc.head()
        .ok_or("no head")?
        .append_child(&el)
        .map_err(|_| "cannot add a tag")?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(drop)
        .map_err(|_| format!("could not load {url}"))
}

async fn load_xterm() -> Result<(), String> {
    load("link", &href("/vendor/xterm.css")).await?;
    load("script", &href("/vendor/xterm.js")).await?;
    load("script", &href("/vendor/addon-fit.js")).await
}

/// What to start a session on.
#[derive(Debug, Clone, PartialEq)]
enum Start {
    Exec {
        cmd: Vec<String>,
        user: String,
        workdir: String,
        tty: bool,
    },
    Attach,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Idle,
    Connecting,
    Open,
    Exited(Option<i64>),
    Detached,
    Failed(String),
}

/// The page's view of a session: the session, and the live parts that
/// show it, dropped together (the session stays).
struct Joined {
    session: Session,
    term: XTerm,
    socket: WebSocket,
    _closures: Vec<Box<dyn std::any::Any>>,
    observer: Option<web_sys::ResizeObserver>,
}

impl Drop for Joined {
    fn drop(&mut self) {
        if let Some(o) = &self.observer {
            o.disconnect();
        }
        let _ = self.socket.close();
        self.term.dispose();
    }
}

fn control(socket: &WebSocket, message: &Control) {
    let _ = socket.send_with_str(&message.to_text());
}

#[component]
pub fn Terminal() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let current = expect_context::<Current>();
    let kind = RwSignal::new("exec".to_owned());
    let shell = RwSignal::new("sh".to_owned());
    let custom = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let workdir = RwSignal::new(String::new());
    let tty = RwSignal::new(true);
    let phase = RwSignal::new(Phase::Idle);
    let size = RwSignal::new((0u32, 0u32));
    let holder = NodeRef::<leptos::html::Div>::new();
    let joined = StoredValue::new_local(None::<Joined>);
    // Sessions ended from here (the relay lets go of them a moment later).
    let ended = RwSignal::new(Vec::<String>::new());
    on_cleanup(move || joined.set_value(None));
    // The container's sessions, read again as this page's change.
    let sessions = LocalResource::new(move || {
        phase.track();
        let id = current.id.get();
        async move { api::sessions(&id).await }
    });

    let join = move |start: Result<Session, Start>| {
        joined.set_value(None);
        phase.set(Phase::Connecting);
        spawn_local(async move {
            let opened = async {
                let session = match start {
                    Ok(s) => s,
                    Err(start) => begin(engine, current, start).await?,
                };
                show(session, holder, joined, phase, size).await
            };
            if let Err(e) = opened.await {
                phase.set(Phase::Failed(e));
            }
        });
    };
    let connect = move || {
        let start = if kind.get_untracked() == "attach" {
            Start::Attach
        } else {
            let cmd = match shell.get_untracked().as_str() {
                "custom" => custom
                    .get_untracked()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
                s => vec![s.to_owned()],
            };
            Start::Exec {
                cmd,
                user: user.get_untracked(),
                workdir: workdir.get_untracked(),
                tty: tty.get_untracked(),
            }
        };
        join(Err(start));
    };
    // Ends a session (this page's, or one listed): its process is killed,
    // or an attach detached.
    let end = move |id: String, attach: bool| {
        let ours = joined.with_value(|j| j.as_ref().is_some_and(|j| j.session.id == id));
        spawn_local(async move {
            let result = api::end_session(&id).await;
            if result.is_ok() {
                ended.update(|e| e.push(id.clone()));
            }
            if ours {
                joined.set_value(None);
                phase.set(match result {
                    Ok(()) if attach => Phase::Detached,
                    Ok(()) => Phase::Exited(None),
                    Err(e) => Phase::Failed(e.to_string()),
                });
            } else {
                sessions.refetch();
            }
        });
    };

    let send_eof = move |_| {
        joined.with_value(|j| {
            if let Some(j) = j {
                control(&j.socket, &Control::Eof);
            }
        })
    };

    let status = move || {
        match phase.get() {
        Phase::Idle => String::new(),
        Phase::Connecting => "Connecting…".into(),
        Phase::Open => "Connected.".into(),
        Phase::Exited(Some(code @ (126 | 127))) => format!(
            "Exited with code {code}: the container has no such command. Try sh, or a custom command that exists in the image."
        ),
        Phase::Exited(Some(code)) => format!("Exited with code {code}."),
        Phase::Exited(None) => "The session ended.".into(),
        Phase::Detached => "Detached; the container keeps running.".into(),
        Phase::Failed(why) => why,
    }
    };
    let open_now = move || phase.with(|p| matches!(p, Phase::Open | Phase::Connecting));
    let attaching = move || kind.get() == "attach";
    // Why the button can't connect, if it can't: the relay's policy first.
    let refused = move || {
        if attaching() {
            engine.refusal(|api| api.container_attach("x"))
        } else {
            engine
                .refusal(|api| api.exec_create("x", &ExecConfig::default()))
                .or_else(|| engine.refusal(|api| api.exec_start("x")))
        }
    };
    let why_not = move || {
        refused().or_else(|| {
            (current.state().to_string() != "running")
                .then(|| "The container must be running".to_owned())
        })
    };
    let close = move |_| {
        if let Some((id, attach)) =
            joined.with_value(|j| j.as_ref().map(|j| (j.session.id.clone(), j.session.attach)))
        {
            end(id, attach);
        }
    };
    // Sessions this page is not showing, to join or end.
    let others = move || {
        let mine = joined.with_value(|j| j.as_ref().map(|j| j.session.id.clone()));
        sessions
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| Some(&s.id) != mine.as_ref() && !ended.with(|e| e.contains(&s.id)))
            .collect::<Vec<_>>()
    };

    view! {
        <div class="toolbar term-options">
            <select aria-label="Terminal kind" data-term-mode="" prop:value=move || kind.get() on:change=move |ev| kind.set(event_target_value(&ev)) disabled=open_now>
                <option value="exec">"Run a command (exec)"</option>
                <option value="attach">"Attach to the main process"</option>
            </select>
            <Show when=move || !attaching()>
                <select aria-label="Command" data-term-shell="" prop:value=move || shell.get() on:change=move |ev| shell.set(event_target_value(&ev)) disabled=open_now>
                    <option value="sh">"sh"</option>
                    <option value="bash">"bash"</option>
                    <option value="custom">"custom…"</option>
                </select>
                <Show when=move || shell.get() == "custom">
                    <input placeholder="command and arguments" aria-label="Custom command" data-term-custom=""
                        prop:value=move || custom.get() on:input=move |ev| custom.set(event_target_value(&ev))/>
                </Show>
                <input class="narrow" placeholder="user" aria-label="User" prop:value=move || user.get() on:input=move |ev| user.set(event_target_value(&ev))/>
                <input placeholder="working directory" aria-label="Working directory" prop:value=move || workdir.get() on:input=move |ev| workdir.set(event_target_value(&ev))/>
                <label class="check"><input type="checkbox" data-term-tty="" prop:checked=move || tty.get() on:change=move |ev| tty.set(event_target_checked(&ev))/>" TTY"</label>
            </Show>
            <Show when=open_now fallback=move || view! {
                <button data-term-connect="" on:click=move |_| connect() disabled=move || why_not().is_some()
                    title=why_not aria-description=refused>{move || if attaching() { "Attach" } else { "Connect" }}</button>
            }>
                <button data-term-eof="" on:click=send_eof title="End the process's input (Ctrl-D without a TTY)">"Send EOF"</button>
                <button data-term-close="" on:click=close title="End the session (leaving the page keeps it running)">
                    {move || if attaching() { "Detach" } else { "Close" }}</button>
            </Show>
        </div>
        <p class="term-status" data-term-status="" role="status">{status}</p>
        {move || {
            let others = others();
            (!others.is_empty()).then(|| view! {
                <section class="term-sessions" aria-label="Running sessions">
                    <p class="muted">"Running on this container, kept by the relay:"</p>
                    <ul class="plain" data-term-sessions="">
                        {others.into_iter().map(|s| {
                            let what = format!("{} (started {}, {} viewing)", s.command, ago(s.started), s.viewers);
                            let (label, attach, id) = (s.command.clone(), s.attach, s.id.clone());
                            let session = s.clone();
                            view! {
                                <li data-term-session=s.id.clone()>
                                    <code>{what}</code>" "
                                    <button aria-label=named("join", &label) disabled=open_now on:click=move |_| join(Ok(session.clone()))>"join"</button>
                                    <button class="danger" aria-label=named("end", &label) on:click=move |_| end(id.clone(), attach)>"end"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            })
        }}
        <div class="term" node_ref=holder data-rows=move || size.get().0.to_string() data-cols=move || size.get().1.to_string()></div>
    }
}

/// Starts a session on the container: an exec of the chosen command, or
/// an attach.
async fn begin(engine: Engine, current: Current, start: Start) -> Result<Session, String> {
    let api = engine.api().await.map_err(|e| e.to_string())?;
    let id = current.id.get_untracked();
    let open = match start {
        Start::Exec {
            cmd,
            user,
            workdir,
            tty,
        } => {
            if cmd.is_empty() {
                return Err("Type the command to run.".into());
            }
            let config = ExecConfig {
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                tty: Some(tty),
                cmd: Some(cmd.clone()),
                user: Some(user).filter(|u| !u.is_empty()),
                working_dir: Some(workdir).filter(|w| !w.is_empty()),
                env: Some(vec!["TERM=xterm-256color".into()]),
                ..Default::default()
            };
            let exec = api::call(api.exec_create(&id, &config))
                .await
                .map_err(|e: ApiError| format!("Could not start {}: {e}", cmd.join(" ")))?;
            Open::Exec(exec.id)
        }
        Start::Attach => Open::Attach(id),
    };
    api::open_session(&open)
        .await
        .map_err(|e| format!("Could not open the terminal: {e}"))
}

/// Joins `session` and shows it in `holder`: its last output first, then
/// what comes; keys go to the process.
async fn show(
    session: Session,
    holder: NodeRef<leptos::html::Div>,
    joined: StoredValue<Option<Joined>, LocalStorage>,
    phase: RwSignal<Phase>,
    size: RwSignal<(u32, u32)>,
) -> Result<(), String> {
    load_xterm().await?;
    let tty = session.tty;
    let ticket = api::ticket().await.map_err(|e| e.to_string())?;
    let Some(el) = holder.get_untracked() else {
        return Ok(());
    };
    el.set_inner_html("");

    let options = js_sys::Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v);
    };
    set("cursorBlink", true.into());
    // Screen readers read what the terminal shows.
    set("screenReaderMode", true.into());
    set("convertEol", (!tty).into());
    set("scrollback", 5000.into());
    set(
        "fontFamily",
        "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace".into(),
    );
    let term = XTerm::new(&options);
    let fit = Fit::new();
    term.load_addon(&fit);
    let el: &web_sys::HtmlElement = &el;
    term.open(el);
    fit.fit();

    let socket = WebSocket::new(&api::ws_url(&ws::session(
        &session.id,
        &ticket,
        Mode::Write,
    )))
    .map_err(|_| "Could not open the terminal's connection".to_owned())?;
    socket.set_binary_type(BinaryType::Arraybuffer);

    let mut closures: Vec<Box<dyn std::any::Any>> = vec![];
    // Output: bytes as they come; without a TTY, stdout and stderr frames.
    let term_out: XTerm = term.clone().unchecked_into();
    let mut mux = (!tty).then(MuxDecoder::new);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        if let Some(text) = data.as_string() {
            if let Ok(Control::Exit { code }) = serde_json::from_str(&text) {
                phase.set(Phase::Exited(code));
            }
            return;
        }
        let bytes = js_sys::Uint8Array::new(&data);
        match mux.as_mut() {
            None => term_out.write_bytes(&bytes),
            Some(m) => {
                m.push(&bytes.to_vec());
                while let Some(Ok(frame)) = m.next_frame() {
                    term_out.write_bytes(&js_sys::Uint8Array::from(frame.payload.as_slice()));
                }
            }
        }
    });
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    closures.push(Box::new(on_message));

    let sock = socket.clone();
    let term_size: XTerm = term.clone().unchecked_into();
    let on_open = Closure::<dyn FnMut()>::new(move || {
        phase.set(Phase::Open);
        let (rows, cols) = (term_size.rows(), term_size.cols());
        size.set((rows, cols));
        control(&sock, &Control::Resize { rows, cols });
        term_size.focus();
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    closures.push(Box::new(on_open));

    let on_close = Closure::<dyn FnMut()>::new(move || {
        phase.update(|p| {
            if matches!(p, Phase::Open | Phase::Connecting) {
                *p = Phase::Exited(None);
            }
        });
    });
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    closures.push(Box::new(on_close));

    // Input: keys as bytes. Without a TTY, Ctrl-D is the end of input.
    let sock = socket.clone();
    let on_data = Closure::<dyn FnMut(String)>::new(move |s: String| {
        if !tty && s == "\u{4}" {
            control(&sock, &Control::Eof);
        } else {
            let _ = sock.send_with_u8_array(s.as_bytes());
        }
    });
    term.on_data(&on_data);
    closures.push(Box::new(on_data));

    let sock = socket.clone();
    let on_resize = Closure::<dyn FnMut(JsValue)>::new(move |dims: JsValue| {
        let get = |k: &str| {
            js_sys::Reflect::get(&dims, &k.into())
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0) as u32
        };
        let (rows, cols) = (get("rows"), get("cols"));
        size.set((rows, cols));
        if sock.ready_state() == WebSocket::OPEN {
            control(&sock, &Control::Resize { rows, cols });
        }
    });
    term.on_resize(&on_resize);
    closures.push(Box::new(on_resize));

    // The terminal follows its element's size.
    let on_box = Closure::<dyn FnMut()>::new(move || fit.fit());
    let observer = web_sys::ResizeObserver::new(on_box.as_ref().unchecked_ref()).ok();
    if let Some(o) = &observer {
        o.observe(el);
    }
    closures.push(Box::new(on_box));

    joined.set_value(Some(Joined {
        session,
        term,
        socket,
        _closures: closures,
        observer,
    }));
    Ok(())
}
