//! Running one call over many containers (a selection, a stack): a few at
//! a time, each item's outcome shown as it lands, then a summary.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use berth_engine::models::ContainerSummaryStateEnum;
use berth_engine::{Api, ContainerAction, Endpoint};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::Engine;

/// How many calls run at once.
const AT_ONCE: usize = 4;

/// What a bulk run does to each container.
#[derive(Clone, Copy, PartialEq)]
pub enum BulkAction {
    Act(ContainerAction),
    Remove { volumes: bool },
}

impl BulkAction {
    pub fn endpoint(self, api: &Api, id: &str) -> Endpoint<()> {
        match self {
            BulkAction::Act(a) => api.container_action(id, a),
            BulkAction::Remove { volumes } => api.container_remove(id, true, volumes),
        }
    }
}

#[derive(Clone, PartialEq)]
pub enum Outcome {
    Waiting,
    Running,
    Done,
    Skipped(String),
    Failed(String),
}

#[derive(Clone, PartialEq)]
pub struct BulkItem {
    pub id: String,
    pub name: String,
    pub outcome: Outcome,
}

#[derive(Clone, PartialEq)]
pub struct Bulk {
    pub verb: &'static str,
    pub items: Vec<BulkItem>,
}

/// A bulk run's progress, item by item, then its summary.
#[component]
pub fn BulkPanel(bulk: Bulk, on_close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let total = bulk.items.len();
    let finished = bulk
        .items
        .iter()
        .filter(|i| !matches!(i.outcome, Outcome::Waiting | Outcome::Running))
        .count();
    let failed: Vec<&BulkItem> = bulk
        .items
        .iter()
        .filter(|i| matches!(i.outcome, Outcome::Failed(_)))
        .collect();
    let summary = if finished < total {
        format!("{} {finished} of {total}…", bulk.verb)
    } else if failed.is_empty() {
        format!("{}: all {total} done.", bulk.verb)
    } else {
        format!("{}: {} of {total} failed.", bulk.verb, failed.len())
    };
    view! {
        <section class="bulk" data-bulk-done=(finished == total).to_string() aria-live="polite">
            <div class="bulk-head">
                <strong>{summary}</strong>
                <progress max=total.to_string() value=finished.to_string()></progress>
                <button class="ghost" aria-label="Close" on:click=move |_| on_close()>"×"</button>
            </div>
            <ul class="plain">
                {bulk.items.iter().map(|i| {
                    let (class, what) = match &i.outcome {
                        Outcome::Waiting => ("muted", "waiting".to_owned()),
                        Outcome::Running => ("muted", "working…".to_owned()),
                        Outcome::Done => ("ok", "done".to_owned()),
                        Outcome::Skipped(why) => ("muted", format!("skipped: {why}")),
                        Outcome::Failed(why) => ("warn", format!("failed: {why}")),
                    };
                    view! { <li data-bulk-item=i.name.clone()><span>{i.name.clone()}</span>" "<span class=class>{what}</span></li> }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The items of a run: those already in the state asked for are skipped.
pub fn items(
    targets: impl IntoIterator<Item = (String, String, Option<ContainerSummaryStateEnum>)>,
    action: BulkAction,
) -> Vec<BulkItem> {
    targets
        .into_iter()
        .map(|(id, name, state)| {
            let outcome = match (action, state) {
                (BulkAction::Act(a), Some(s)) if !a.applies_to(s) => {
                    Outcome::Skipped(format!("already {s}"))
                }
                _ => Outcome::Waiting,
            };
            BulkItem { id, name, outcome }
        })
        .collect()
}

/// Runs `action` on every waiting item of `items`, shown through `bulk`;
/// `done` runs once all have landed.
pub fn run(
    engine: Engine,
    bulk: RwSignal<Option<Bulk>>,
    verb: &'static str,
    items: Vec<BulkItem>,
    action: BulkAction,
    done: impl FnOnce() + 'static,
) {
    // Called by the last worker to finish.
    let done = Rc::new(Cell::new(Some(done)));
    let queue: Rc<RefCell<Vec<usize>>> = Rc::new(RefCell::new(
        items
            .iter()
            .enumerate()
            .filter(|(_, i)| i.outcome == Outcome::Waiting)
            .map(|(n, _)| n)
            .rev()
            .collect(),
    ));
    bulk.set(Some(Bulk { verb, items }));
    let workers = Rc::new(Cell::new(AT_ONCE));
    for _ in 0..AT_ONCE {
        let queue = queue.clone();
        let workers = workers.clone();
        let done = done.clone();
        spawn_local(async move {
            let api = engine.api().await;
            loop {
                let Some(n) = queue.borrow_mut().pop() else {
                    break;
                };
                let set = |o: Outcome| {
                    bulk.update(|b| {
                        if let Some(b) = b {
                            b.items[n].outcome = o;
                        }
                    })
                };
                set(Outcome::Running);
                let Some(id) = bulk.with_untracked(|b| b.as_ref().map(|b| b.items[n].id.clone()))
                else {
                    break;
                };
                let result = match &api {
                    Ok(api) => api::act(action.endpoint(api, &id)).await,
                    Err(e) => Err(e.clone()),
                };
                set(match result {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::Failed(e.to_string()),
                });
            }
            workers.set(workers.get() - 1);
            if workers.get() == 0 {
                if let Some(done) = done.take() {
                    done();
                }
            }
        });
    }
}
