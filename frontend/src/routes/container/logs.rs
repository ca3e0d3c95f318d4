//! A container's logs, in the log workbench.

use leptos::prelude::*;

use crate::ui::current::Current;
use crate::ui::logs::{LogWorkbench, Source};

#[component]
pub fn Logs() -> impl IntoView {
    let current = expect_context::<Current>();
    // Rebuilt only if the container itself changes, not on its events.
    let source = Memo::new(move |_| Source::container(current.id.get(), current.name()));
    move || view! { <LogWorkbench sources=vec![source.get()]/> }
}
