//! One call over many containers (a selection, a stack): which call, and
//! each item's outcome as it lands.

use berth_engine::models::ContainerSummaryStateEnum as State;
use berth_engine::{Api, ContainerAction, Endpoint};

/// What a bulk run does to each container.
#[derive(Clone, Copy, Debug, PartialEq)]
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

    pub fn verb(self) -> &'static str {
        match self {
            BulkAction::Act(a) => a.verb(),
            BulkAction::Remove { .. } => "remove",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Waiting,
    Running,
    Done,
    Skipped(String),
    Failed(String),
}

impl Outcome {
    pub fn finished(&self) -> bool {
        !matches!(self, Outcome::Waiting | Outcome::Running)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BulkItem {
    pub id: String,
    pub name: String,
    pub outcome: Outcome,
}

/// A run: its action and its items.
#[derive(Clone, Debug, PartialEq)]
pub struct Bulk {
    pub action: BulkAction,
    pub items: Vec<BulkItem>,
}

impl Bulk {
    /// A run over `targets` (id, name, state if known): those already in
    /// the state asked for are skipped.
    pub fn new(
        action: BulkAction,
        targets: impl IntoIterator<Item = (String, String, Option<State>)>,
    ) -> Bulk {
        let items = targets
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
            .collect();
        Bulk { action, items }
    }

    /// The items still to run, first first.
    pub fn waiting(&self) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&n| self.items[n].outcome == Outcome::Waiting)
            .collect()
    }

    /// How many have finished, of how many.
    pub fn progress(&self) -> (usize, usize) {
        let finished = self.items.iter().filter(|i| i.outcome.finished()).count();
        (finished, self.items.len())
    }

    /// `stop 2 of 5…`, then `stop: all 5 done.` or how many failed.
    pub fn summary(&self) -> String {
        let verb = self.action.verb();
        let (finished, total) = self.progress();
        let failed = self
            .items
            .iter()
            .filter(|i| matches!(i.outcome, Outcome::Failed(_)))
            .count();
        if finished < total {
            format!("{verb} {finished} of {total}…")
        } else if failed == 0 {
            format!("{verb}: all {total} done.")
        } else {
            format!("{verb}: {failed} of {total} failed.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn those_already_there_are_skipped_and_the_summary_counts() {
        let stop = BulkAction::Act(ContainerAction::Stop);
        let mut bulk = Bulk::new(
            stop,
            [
                ("a".into(), "web".into(), Some(State::RUNNING)),
                ("b".into(), "db".into(), Some(State::EXITED)),
                ("c".into(), "gone".into(), None),
            ],
        );
        assert_eq!(
            bulk.items[1].outcome,
            Outcome::Skipped("already exited".into())
        );
        assert_eq!(bulk.waiting(), [0, 2]);
        assert_eq!(bulk.summary(), "stop 1 of 3…");
        bulk.items[0].outcome = Outcome::Done;
        bulk.items[2].outcome = Outcome::Failed("no such container".into());
        assert_eq!(bulk.summary(), "stop: 1 of 3 failed.");
        bulk.items[2].outcome = Outcome::Done;
        assert_eq!(bulk.summary(), "stop: all 3 done.");
        assert_eq!(bulk.progress(), (3, 3));
    }

    #[test]
    fn removes_force_and_take_volumes_if_asked() {
        let api = Api::new(berth_engine::ApiVersion::MIN);
        let rm = BulkAction::Remove { volumes: true };
        assert_eq!(rm.verb(), "remove");
        let bulk = Bulk::new(rm, [("a".into(), "web".into(), Some(State::RUNNING))]);
        assert_eq!(bulk.waiting(), [0], "a removal is never skipped");
        assert!(rm
            .endpoint(&api, "a")
            .path
            .ends_with("/containers/a?force=1&v=1"));
    }
}
