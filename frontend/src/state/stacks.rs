//! Compose stacks, found from the `com.docker.compose.*` labels whichever
//! tool created them.

use std::collections::{BTreeMap, BTreeSet};

use berth_engine::models::{ContainerSummary, ContainerSummaryStateEnum as State};

use super::containers::{container_name, PROJECT_LABEL};

const SERVICE_LABEL: &str = "com.docker.compose.service";
const CONFIG_LABEL: &str = "com.docker.compose.project.config_files";
const WORKDIR_LABEL: &str = "com.docker.compose.project.working_dir";

/// One container of a stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub service: String,
    pub image: String,
    pub state: State,
    pub status: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    pub name: String,
    pub config_files: String,
    pub working_dir: String,
    /// By service, then name.
    pub members: Vec<Member>,
}

impl Stack {
    pub fn services(&self) -> BTreeSet<&str> {
        self.members.iter().map(|m| m.service.as_str()).collect()
    }

    /// "2 running, 1 exited": running first, the rest by name.
    pub fn states(&self) -> String {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for m in &self.members {
            *counts.entry(m.state.to_string()).or_default() += 1;
        }
        let mut parts: Vec<(String, usize)> = counts.into_iter().collect();
        parts.sort_by_key(|(s, _)| (s != "running", s.clone()));
        parts
            .into_iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Its containers as a bulk run takes them.
    pub fn targets(&self) -> Vec<(String, String, Option<State>)> {
        self.members
            .iter()
            .map(|m| (m.id.clone(), m.name.clone(), Some(m.state)))
            .collect()
    }

    pub fn running(&self) -> bool {
        self.members.iter().any(|m| m.state == State::RUNNING)
    }
}

/// The stacks among `containers`, by name.
pub fn stacks_of(containers: Vec<ContainerSummary>) -> Vec<Stack> {
    let mut by_name: BTreeMap<String, Stack> = BTreeMap::new();
    for c in containers {
        let labels = c.labels.clone().unwrap_or_default();
        let Some(project) = labels.get(PROJECT_LABEL).filter(|p| !p.is_empty()) else {
            continue;
        };
        let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
        let stack = by_name.entry(project.clone()).or_insert_with(|| Stack {
            name: project.clone(),
            config_files: label(CONFIG_LABEL),
            working_dir: label(WORKDIR_LABEL),
            members: vec![],
        });
        stack.members.push(Member {
            name: container_name(c.names.as_deref()),
            id: c.id.unwrap_or_default(),
            service: label(SERVICE_LABEL),
            image: c.image.unwrap_or_default(),
            state: c.state.unwrap_or(State::EMPTY),
            status: c.status.unwrap_or_default(),
        });
    }
    let mut out: Vec<Stack> = by_name.into_values().collect();
    for s in &mut out {
        s.members
            .sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    }
    out
}

/// The engine's filter for a label (`key` or `key=value`).
pub fn label_filter(value: String) -> BTreeMap<String, Vec<String>> {
    BTreeMap::from([("label".to_owned(), vec![value])])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, project: &str, service: &str, state: State) -> ContainerSummary {
        ContainerSummary {
            id: Some(format!("id-{name}")),
            names: Some(vec![format!("/{name}")]),
            state: Some(state),
            labels: Some(
                [
                    (PROJECT_LABEL.to_owned(), project.to_owned()),
                    (SERVICE_LABEL.to_owned(), service.to_owned()),
                    (CONFIG_LABEL.to_owned(), "/srv/compose.yml".to_owned()),
                ]
                .into(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn stacks_group_by_project_with_their_services_and_states() {
        let stacks = stacks_of(vec![
            member("shop-web-2", "shop", "web", State::EXITED),
            member("shop-web-1", "shop", "web", State::RUNNING),
            member("shop-db-1", "shop", "db", State::RUNNING),
            member("blog-1", "blog", "app", State::CREATED),
            ContainerSummary::default(),
        ]);
        let names: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["blog", "shop"]);
        let shop = &stacks[1];
        assert_eq!(
            shop.services().into_iter().collect::<Vec<_>>(),
            ["db", "web"]
        );
        assert_eq!(shop.states(), "2 running, 1 exited");
        assert_eq!(shop.members[0].name, "shop-db-1");
        assert_eq!(shop.config_files, "/srv/compose.yml");
        assert!(shop.running() && !stacks[0].running());
        assert_eq!(shop.targets()[1].0, "id-shop-web-1");
    }
}
