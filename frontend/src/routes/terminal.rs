//! Terminals in the browser: xterm.js drawing, the relay's WebSocket bridge
//! carrying the bytes. An exec runs a chosen command; attach joins the
//! container's main process and leaves it running on detach.
//!
//! xterm.js is loaded when a terminal first opens, so pages without one
//! don't pay for it.

use berth_engine::models::ExecConfig;
use berth_engine::MuxDecoder;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::api::{self, ApiError};
use crate::app::{href, Engine};
use crate::routes::container::Current;

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

/// What a terminal connects to.
#[derive(Debug, Clone, PartialEq)]
enum Mode {
    Exec {
        cmd: Vec<String>,
        user: String,
        workdir: String,
        tty: bool,
    },
    Attach {
        tty: bool,
    },
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

/// The live parts of one session, dropped together.
struct Session {
    term: XTerm,
    socket: WebSocket,
    _closures: Vec<Box<dyn std::any::Any>>,
    observer: Option<web_sys::ResizeObserver>,
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(o) = &self.observer {
            o.disconnect();
        }
        let _ = self.socket.close();
        self.term.dispose();
    }
}

/// The WebSocket URL of a relay path, at the current relay.
fn ws_url(path: &str) -> String {
    let base = crate::engines::current().url;
    if let Some(rest) = base.strip_prefix("https://") {
        return format!("wss://{rest}{path}");
    }
    if let Some(rest) = base.strip_prefix("http://") {
        return format!("ws://{rest}{path}");
    }
    let loc = web_sys::window().map(|w| w.location());
    let scheme = match loc.as_ref().and_then(|l| l.protocol().ok()).as_deref() {
        Some("https:") => "wss",
        _ => "ws",
    };
    let host = loc.and_then(|l| l.host().ok()).unwrap_or_default();
    format!("{scheme}://{host}{}{path}", crate::app::prefix())
}

fn control(socket: &WebSocket, json: &serde_json::Value) {
    let _ = socket.send_with_str(&json.to_string());
}

#[component]
pub fn Terminal() -> impl IntoView {
    let engine = expect_context::<Engine>();
    let current = expect_context::<Current>();
    let mode = RwSignal::new("exec".to_owned());
    let shell = RwSignal::new("sh".to_owned());
    let custom = RwSignal::new(String::new());
    let user = RwSignal::new(String::new());
    let workdir = RwSignal::new(String::new());
    let tty = RwSignal::new(true);
    let phase = RwSignal::new(Phase::Idle);
    let size = RwSignal::new((0u32, 0u32));
    let holder = NodeRef::<leptos::html::Div>::new();
    let session = StoredValue::new_local(None::<Session>);
    on_cleanup(move || session.set_value(None));

    let disconnect = move || {
        session.set_value(None);
    };

    let connect = move || {
        let chosen = if mode.get_untracked() == "attach" {
            Mode::Attach { tty: current.tty() }
        } else {
            let cmd = match shell.get_untracked().as_str() {
                "custom" => custom
                    .get_untracked()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
                s => vec![s.to_owned()],
            };
            Mode::Exec {
                cmd,
                user: user.get_untracked(),
                workdir: workdir.get_untracked(),
                tty: tty.get_untracked(),
            }
        };
        session.set_value(None);
        phase.set(Phase::Connecting);
        spawn_local(async move {
            if let Err(e) = open(engine, current, chosen, holder, session, phase, size).await {
                phase.set(Phase::Failed(e));
            }
        });
    };

    let send_eof = move |_| {
        session.with_value(|s| {
            if let Some(s) = s {
                control(&s.socket, &serde_json::json!({"type": "eof"}));
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
    let attaching = move || mode.get() == "attach";

    view! {
        <div class="toolbar term-options">
            <select aria-label="Terminal kind" data-term-mode="" prop:value=move || mode.get() on:change=move |ev| mode.set(event_target_value(&ev)) disabled=open_now>
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
                <button data-term-connect="" on:click=move |_| connect() disabled=move || current.state().to_string() != "running"
                    title="The container must be running">{move || if attaching() { "Attach" } else { "Connect" }}</button>
            }>
                <button data-term-eof="" on:click=send_eof title="End the process's input (Ctrl-D without a TTY)">"Send EOF"</button>
                <button data-term-close="" on:click=move |_| { disconnect(); phase.set(if attaching() { Phase::Detached } else { Phase::Exited(None) }); }>
                    {move || if attaching() { "Detach" } else { "Close" }}</button>
            </Show>
        </div>
        <p class="term-status" data-term-status="" role="status">{status}</p>
        <div class="term" node_ref=holder data-rows=move || size.get().0.to_string() data-cols=move || size.get().1.to_string()></div>
    }
}

async fn open(
    engine: Engine,
    current: Current,
    mode: Mode,
    holder: NodeRef<leptos::html::Div>,
    session: StoredValue<Option<Session>, LocalStorage>,
    phase: RwSignal<Phase>,
    size: RwSignal<(u32, u32)>,
) -> Result<(), String> {
    load_xterm().await?;
    let api = engine.api().await.map_err(|e| e.to_string())?;
    let id = current.id.get_untracked();
    let (path, tty) = match &mode {
        Mode::Exec {
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
                tty: Some(*tty),
                cmd: Some(cmd.clone()),
                user: Some(user.clone()).filter(|u| !u.is_empty()),
                working_dir: Some(workdir.clone()).filter(|w| !w.is_empty()),
                env: Some(vec!["TERM=xterm-256color".into()]),
                ..Default::default()
            };
            let exec = api::call(api.exec_create(&id, &config))
                .await
                .map_err(|e: ApiError| format!("Could not start {}: {e}", cmd.join(" ")))?;
            (format!("/_berth/exec/{}/ws", exec.id), *tty)
        }
        Mode::Attach { tty } => {
            let full = Some(current.text("/Id"))
                .filter(|i| !i.is_empty())
                .unwrap_or(id);
            (format!("/_berth/attach/{full}/ws"), *tty)
        }
    };
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

    let socket = WebSocket::new(&ws_url(&format!("{path}?ticket={ticket}")))
        .map_err(|_| "Could not open the terminal's connection".to_owned())?;
    socket.set_binary_type(BinaryType::Arraybuffer);

    let mut closures: Vec<Box<dyn std::any::Any>> = vec![];
    // Output: bytes as they come; without a TTY, stdout and stderr frames.
    let term_out: XTerm = term.clone().unchecked_into();
    let mut mux = (!tty).then(MuxDecoder::new);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = ev.data();
        if let Some(text) = data.as_string() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                if v["type"] == "exit" {
                    phase.set(Phase::Exited(v["code"].as_i64()));
                }
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
        control(
            &sock,
            &serde_json::json!({"type": "resize", "rows": rows, "cols": cols}),
        );
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
            control(&sock, &serde_json::json!({"type": "eof"}));
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
            control(
                &sock,
                &serde_json::json!({"type": "resize", "rows": rows, "cols": cols}),
            );
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

    session.set_value(Some(Session {
        term,
        socket,
        _closures: closures,
        observer,
    }));
    Ok(())
}
