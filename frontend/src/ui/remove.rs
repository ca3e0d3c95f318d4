//! Removing a container (or several, or a stack), asked about first.

use leptos::prelude::*;

use super::dialog::Dialog;

/// What the remove dialog is asking about.
#[derive(Clone, Debug, PartialEq)]
pub struct Removal {
    /// What it is called in the question.
    pub name: String,
    /// Whether something in it runs (it is killed first).
    pub running: bool,
}

#[component]
pub fn RemoveDialog(
    removal: Removal,
    on_cancel: impl Fn() + Copy + Send + Sync + 'static,
    /// Called with whether to remove the anonymous volumes too.
    on_confirm: impl Fn(bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let volumes = RwSignal::new(false);
    view! {
        <Dialog title=format!("Remove {}?", removal.name) on_close=on_cancel>
            {removal.running.then(|| view! { <p class="warn">"It is running: it will be killed first."</p> })}
            <label><input type="checkbox" on:change=move |ev| volumes.set(event_target_checked(&ev))/>" Also remove its anonymous volumes"</label>
            <div class="buttons">
                <button autofocus on:click=move |_| on_cancel()>"Cancel"</button>
                <button class="danger" data-action="confirm-remove" on:click=move |_| on_confirm(volumes.get_untracked())>"Remove"</button>
            </div>
        </Dialog>
    }
}
