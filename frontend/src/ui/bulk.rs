//! One call over many containers (a selection, a compose project, a
//! stack): the buttons that start one, the run (a few at a time), and its
//! progress, each item's outcome shown as it lands, then a summary.

use std::cell::Cell;
use std::rc::Rc;

use berth_engine::ContainerAction;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Engine};
use crate::state::bulk::{Bulk, BulkAction, Outcome};

use super::{named, refusal};

/// The actions on a compose project as a whole (remove aside).
pub const STACK: [ContainerAction; 3] = [
    ContainerAction::Start,
    ContainerAction::Stop,
    ContainerAction::Restart,
];

/// How many calls run at once.
const AT_ONCE: usize = 4;

/// Runs `run`'s waiting items, shown through `shown`; `done` runs once
/// all have landed.
pub fn run(
    engine: Engine,
    shown: RwSignal<Option<Bulk>>,
    run: Bulk,
    done: impl FnOnce() + 'static,
) {
    let action = run.action;
    let queue = Rc::new(std::cell::RefCell::new(
        run.waiting().into_iter().rev().collect::<Vec<_>>(),
    ));
    shown.set(Some(run));
    // Called by the last worker to finish.
    let done = Rc::new(Cell::new(Some(done)));
    let workers = Rc::new(Cell::new(AT_ONCE));
    for _ in 0..AT_ONCE {
        let (queue, workers, done) = (queue.clone(), workers.clone(), done.clone());
        spawn_local(async move {
            let api = engine.api().await;
            loop {
                let Some(n) = queue.borrow_mut().pop() else {
                    break;
                };
                let set = |o: Outcome| {
                    shown.update(|b| {
                        if let Some(b) = b {
                            b.items[n].outcome = o;
                        }
                    })
                };
                set(Outcome::Running);
                let Some(id) = shown.with_untracked(|b| b.as_ref().map(|b| b.items[n].id.clone()))
                else {
                    break;
                };
                let result = match &api {
                    Ok(api) => api::call(action.endpoint(api, &id)).await,
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

/// The buttons of a bulk run: each action, then remove (which asks
/// first), disabled when the relay's policy refuses them, and named for
/// what they act on (`Stop the 3 selected`).
#[component]
pub fn BulkButtons(
    /// What they act on, for their names.
    what: Signal<String>,
    actions: &'static [ContainerAction],
    on_act: impl Fn(BulkAction) + Copy + Send + Sync + 'static,
    on_remove: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let engine = expect_context::<Engine>();
    let buttons = actions
        .iter()
        .map(|&action| {
            let why = refusal(engine, move |api| api.container_action("x", action));
            view! {
                <button data-bulk=action.verb() aria-label=move || named(action.verb(), &what.get())
                    disabled=move || why.get().is_some() title=why aria-description=why
                    on:click=move |_| on_act(BulkAction::Act(action))>{action.verb()}</button>
            }
        })
        .collect_view();
    let why = refusal(engine, |api| api.container_remove("x", true, false));
    view! {
        {buttons}
        <button class="danger" data-bulk="remove" aria-label=move || named("remove", &what.get())
            disabled=move || why.get().is_some() title=why aria-description=why
            on:click=move |_| on_remove()>"remove…"</button>
    }
}

/// A run's progress, item by item, then its summary.
#[component]
pub fn BulkPanel(bulk: Bulk, on_close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let (finished, total) = bulk.progress();
    view! {
        <section class="bulk" data-bulk-done=(finished == total).to_string() aria-live="polite">
            <div class="bulk-head">
                <strong>{bulk.summary()}</strong>
                <progress max=total.to_string() value=finished.to_string() aria-label="Done so far"></progress>
                <button class="ghost" aria-label="Close" on:click=move |_| on_close()>"×"</button>
            </div>
            <ul class="plain">
                {bulk.items.into_iter().map(|i| {
                    let (class, what) = match i.outcome {
                        Outcome::Waiting => ("muted", "waiting".to_owned()),
                        Outcome::Running => ("muted", "working…".to_owned()),
                        Outcome::Done => ("ok", "done".to_owned()),
                        Outcome::Skipped(why) => ("muted", format!("skipped: {why}")),
                        Outcome::Failed(why) => ("warn", format!("failed: {why}")),
                    };
                    let key = i.name.clone();
                    view! { <li data-bulk-item=key><span>{i.name}</span>" "<span class=class>{what}</span></li> }
                }).collect_view()}
            </ul>
        </section>
    }
}
