//! A container's inspect answer, as the engine sent it: in collapsible
//! sections, searchable, copyable.

use leptos::prelude::*;
use serde_json::Value;

use crate::ui::current::Current;
use crate::ui::inspect::InspectView;

#[component]
pub fn Inspect() -> impl IntoView {
    let current = expect_context::<Current>();
    let json = Memo::new(move |_| {
        current.inspect.with(|i| match i {
            Some(Ok(c)) => c.clone(),
            _ => Value::Null,
        })
    });
    view! { <InspectView json=json.into()/> }
}
