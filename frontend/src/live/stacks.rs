//! The compose stacks, kept current by the engine's container events (the
//! stacks list and a stack's page show them).

use leptos::prelude::*;

use crate::api::{self, ApiError, Engine};
use crate::state::containers::PROJECT_LABEL;
use crate::state::stacks::{label_filter, stacks_of, Stack};

use super::{follow_events, latest};

/// The stacks (`None` until first loaded), whether the events stream is
/// live, and a reload.
#[allow(clippy::type_complexity)]
pub fn use_stacks(
    engine: Engine,
) -> (
    RwSignal<Option<Result<Vec<Stack>, ApiError>>>,
    RwSignal<bool>,
    impl Fn() + Copy + Send + Sync + 'static,
) {
    let (stacks, reload) = latest(move || async move {
        let api = engine.api().await?;
        let filters = label_filter(PROJECT_LABEL.to_owned());
        api::call(api.containers_where(true, &filters))
            .await
            .map(stacks_of)
    });
    reload();
    let mut filters = label_filter(PROJECT_LABEL.to_owned());
    filters.insert("type".into(), vec!["container".into()]);
    let live = follow_events(engine, filters, reload);
    (stacks, live, reload)
}
