//! Pulling an image with a bar per layer (the create form pulls what is
//! missing; the images page pulls on request).

use berth_engine::models::CreateImageInfo;
use berth_engine::Api;
use leptos::prelude::*;

use crate::api;
use crate::state::create::Pull;

use super::bytes;

/// Pulls `reference`, reporting into `progress`. Errors arrive inside the
/// 200 stream; they come back here as the error.
pub async fn pull(
    api: Api,
    reference: &str,
    progress: RwSignal<Option<Pull>>,
) -> Result<(), String> {
    progress.set(Some(Pull::default()));
    let controller = web_sys::AbortController::new().map_err(|_| "cannot pull")?;
    let mut failure = None;
    let each = |info: CreateImageInfo| {
        if failure.is_some() {
            return;
        }
        progress.update(|p| {
            if let Err(e) = p.get_or_insert_with(Pull::default).apply(info) {
                failure = Some(e);
            }
        });
    };
    api::stream(api.image_pull(reference), &controller.signal(), || (), each)
        .await
        .map_err(|e| e.to_string())?;
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[component]
pub fn PullView(pull: Pull) -> impl IntoView {
    view! {
        <div class="pull" data-pull="" aria-live="polite">
            <p>{pull.status.clone()}</p>
            <ul class="plain">
                {pull.layers.into_iter().map(|(id, l)| {
                    let max = l.total.max(1);
                    let detail = if l.total > 0 { format!("{} / {}", bytes(l.current), bytes(l.total)) } else { String::new() };
                    view! {
                        <li class="layer" data-layer=id.clone()>
                            <code>{id.clone()}</code>
                            <progress max=max.to_string() value=l.current.min(max).to_string() aria-label=format!("Layer {id}")></progress>
                            <span class="muted">{l.status}" "{detail}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}
