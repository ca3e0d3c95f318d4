//! The one dialog: a modal box over the page, named by its heading, that
//! Escape and a click beside it close. Focus starts on what is marked
//! `autofocus` (Cancel, for a destructive step: Enter alone must not
//! destroy anything), an input's text selected, and goes back to where it
//! was when the dialog closes.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn Dialog(
    /// The heading, which names it.
    #[prop(into)]
    title: String,
    on_close: impl Fn() + Copy + Send + Sync + 'static,
    /// More classes for the box.
    #[prop(optional)]
    class: &'static str,
    children: Children,
) -> impl IntoView {
    thread_local! {
        static NEXT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }
    let id = format!("dialog-{}", NEXT.with(|n| n.replace(n.get() + 1)));
    // Focus goes back where it was when the dialog closes.
    let opener = web_sys::window()
        .and_then(|w| w.document()?.active_element())
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        .map(send_wrapper::SendWrapper::new);
    on_cleanup(move || {
        if let Some(el) = opener {
            let _ = el.focus();
        }
    });
    let node = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let Some(el) = node.get() else { return };
        if let Some(first) = el.query_selector("[autofocus]").ok().flatten() {
            if let Some(input) = first.dyn_ref::<web_sys::HtmlInputElement>() {
                let _ = input.focus();
                input.select();
            } else if let Some(el) = first.dyn_ref::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    });
    let heading = id.clone();
    view! {
        <div class="backdrop" on:click=move |_| on_close()>
            <div class=format!("dialog {class}") role="dialog" aria-modal="true" aria-labelledby=heading
                node_ref=node on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { on_close() }>
                <h2 id=id>{title}</h2>
                {children()}
            </div>
        </div>
    }
}

/// A destructive step, asked about first.
#[component]
pub fn Confirm(
    #[prop(into)] title: String,
    #[prop(into)] body: String,
    /// The confirming button's words.
    #[prop(default = "Yes, remove")]
    yes: &'static str,
    /// Its `data-action`, for tests and scripts.
    #[prop(default = "confirm")]
    action: &'static str,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
    on_confirm: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <Dialog title on_close=on_cancel>
            <p>{body}</p>
            <div class="buttons">
                <button autofocus on:click=move |_| on_cancel()>"Cancel"</button>
                <button class="danger" data-action=action on:click=move |_| on_confirm()>{yes}</button>
            </div>
        </Dialog>
    }
}
