//! The containers list's model: a row per container, flattened for display
//! and filtering, where the list is (loading, failed, empty, listed), and
//! the order it shows rows in (by compose project when grouped).

use std::collections::HashMap;

use berth_engine::models::ContainerSummaryStateEnum as State;
use berth_engine::ContainerBrief;

/// The compose label every compose tool sets: the stack a container is in.
pub const PROJECT_LABEL: &str = "com.docker.compose.project";

/// The state filter's choices: value and label.
pub const STATES: [(&str, &str); 7] = [
    ("", "All states"),
    ("running", "Running"),
    ("exited", "Exited"),
    ("paused", "Paused"),
    ("created", "Created"),
    ("restarting", "Restarting"),
    ("dead", "Dead"),
];

/// A container's name as people know it (the engine's first name, without
/// its leading `/`).
pub fn container_name(names: Option<&[String]>) -> String {
    names
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_owned())
        .unwrap_or_default()
}

/// A row's worth of a container.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub image: String,
    pub state: State,
    pub status: String,
    pub ports: String,
    pub created: i64,
    /// The stack it belongs to ([`PROJECT_LABEL`]); empty if none.
    pub project: String,
}

impl Row {
    pub fn new(c: ContainerBrief) -> Row {
        let name = container_name(c.names.as_deref());
        let mut ports: Vec<String> = c
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let proto = p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
                match (p.ip, p.public_port) {
                    (Some(ip), Some(public)) => format!("{ip}:{public}→{}/{proto}", p.private_port),
                    _ => format!("{}/{proto}", p.private_port),
                }
            })
            .collect();
        ports.dedup();
        Row {
            id: c.id.unwrap_or_default(),
            name,
            image: c.image.unwrap_or_default(),
            state: c.state.unwrap_or(State::EMPTY),
            status: c.status.unwrap_or_default(),
            ports: ports.join(", "),
            created: c.created.unwrap_or_default(),
            project: c
                .labels
                .as_ref()
                .and_then(|l| l.get(PROJECT_LABEL))
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// Whether the row passes the text filter (in any of its fields, case
    /// aside) and the state filter (empty: any).
    pub fn matches(&self, text: &str, state: &str) -> bool {
        let state_ok = state.is_empty() || self.state.to_string() == state;
        let text = text.trim().to_lowercase();
        state_ok
            && (text.is_empty()
                || [
                    &self.name,
                    &self.image,
                    &self.id,
                    &self.status,
                    &self.ports,
                    &self.project,
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(&text)))
    }

    /// Running, restarting or paused: a removal must force it.
    pub fn is_up(&self) -> bool {
        matches!(
            self.state,
            State::RUNNING | State::RESTARTING | State::PAUSED
        )
    }
}

/// Where a list is. The table is built once it has rows and then only
/// updated row by row, so a click never lands on a node being replaced.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase<E> {
    Loading,
    Failed(E),
    Empty,
    Listed,
}

impl<E: Clone> Phase<E> {
    pub fn of<T>(loaded: &Option<Result<Vec<T>, E>>) -> Phase<E> {
        match loaded {
            None => Phase::Loading,
            Some(Err(e)) => Phase::Failed(e.clone()),
            Some(Ok(v)) if v.is_empty() => Phase::Empty,
            Some(Ok(_)) => Phase::Listed,
        }
    }
}

/// Every row's id in display order: as the engine listed them, or, when
/// grouped, by project (those in none last), then name.
pub fn order(rows: &[Row], grouped: bool) -> Vec<String> {
    let mut all: Vec<&Row> = rows.iter().collect();
    if grouped {
        all.sort_by(|a, b| {
            (a.project.is_empty(), &a.project, &a.name).cmp(&(
                b.project.is_empty(),
                &b.project,
                &b.name,
            ))
        });
    }
    all.into_iter().map(|row| row.id.clone()).collect()
}

/// The ids in `order` whose rows pass the filter, in that order.
pub fn shown(
    order: &[String],
    by_id: &HashMap<String, Row>,
    text: &str,
    state: &str,
) -> Vec<String> {
    order
        .iter()
        .filter(|id| by_id.get(*id).is_some_and(|row| row.matches(text, state)))
        .cloned()
        .collect()
}

/// What the table draws, keyed: the rows' ids, and when grouped a header
/// (`g:project`) before each project's rows.
pub fn items(order: &[String], by_id: &HashMap<String, Row>, grouped: bool) -> Vec<String> {
    if !grouped {
        return order.to_vec();
    }
    let mut out = vec![];
    let mut last = None;
    for id in order {
        let project = by_id.get(id).map(|r| r.project.clone()).unwrap_or_default();
        if last.as_ref() != Some(&project) {
            out.push(format!("g:{project}"));
            last = Some(project);
        }
        out.push(id.clone());
    }
    out
}

/// A project's members, by name: id and name.
pub fn members(by_id: &HashMap<String, Row>, project: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = by_id
        .values()
        .filter(|r| r.project == project)
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_engine::models::{PortSummary as Port, PortSummaryTypeEnum as PortType};

    fn summary(id: &str, name: &str, state: State, project: Option<&str>) -> ContainerBrief {
        ContainerBrief {
            id: Some(id.into()),
            names: Some(vec![format!("/{name}")]),
            image: Some("busybox".into()),
            state: Some(state),
            status: Some("Up 2 minutes".into()),
            labels: project.map(|p| [(PROJECT_LABEL.to_owned(), p.to_owned())].into()),
            ..Default::default()
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            Row::new(summary("c3", "zeta", State::RUNNING, None)),
            Row::new(summary("c1", "web", State::RUNNING, Some("shop"))),
            Row::new(summary("c2", "db", State::EXITED, Some("shop"))),
            Row::new(summary("c4", "cache", State::RUNNING, Some("blog"))),
        ]
    }

    #[test]
    fn a_row_flattens_a_summary() {
        let mut s = summary("abc", "web", State::RUNNING, Some("shop"));
        s.ports = Some(vec![
            Port {
                ip: Some("0.0.0.0".into()),
                private_port: 80,
                public_port: Some(8080),
                typ: Some(PortType::TCP),
            },
            Port {
                private_port: 53,
                typ: Some(PortType::UDP),
                ..Default::default()
            },
        ]);
        let row = Row::new(s);
        assert_eq!(row.name, "web");
        assert_eq!(row.ports, "0.0.0.0:8080→80/tcp, 53/udp");
        assert_eq!(row.project, "shop");
        assert!(row.is_up());
        assert_eq!(Row::new(ContainerBrief::default()).state, State::EMPTY);
    }

    #[test]
    fn the_filter_reads_every_field_and_the_state() {
        let r = &rows()[1];
        assert!(r.matches("", ""));
        assert!(r.matches(" WEB ", "running"));
        assert!(r.matches("shop", ""), "by project");
        assert!(r.matches("up 2", ""), "by status");
        assert!(!r.matches("web", "exited"));
        assert!(!r.matches("nope", ""));
    }

    #[test]
    fn grouping_orders_by_project_then_name_with_headers() {
        let rows = rows();
        let by_id: HashMap<String, Row> = rows.iter().map(|r| (r.id.clone(), r.clone())).collect();
        assert_eq!(order(&rows, false), ["c3", "c1", "c2", "c4"]);
        let grouped = order(&rows, true);
        assert_eq!(grouped, ["c4", "c2", "c1", "c3"]);
        assert_eq!(
            items(&grouped, &by_id, true),
            ["g:blog", "c4", "g:shop", "c2", "c1", "g:", "c3"]
        );
        assert_eq!(items(&grouped, &by_id, false), grouped);
        assert_eq!(shown(&grouped, &by_id, "", "running"), ["c4", "c1", "c3"]);
        assert_eq!(
            members(&by_id, "shop"),
            [("c2".into(), "db".into()), ("c1".into(), "web".into())]
        );
    }

    #[test]
    fn phases() {
        assert_eq!(Phase::<String>::of::<Row>(&None), Phase::Loading);
        assert_eq!(
            Phase::of::<Row>(&Some(Err("down".to_owned()))),
            Phase::Failed("down".to_owned())
        );
        assert_eq!(Phase::<String>::of::<Row>(&Some(Ok(vec![]))), Phase::Empty);
        assert_eq!(Phase::<String>::of(&Some(Ok(rows()))), Phase::Listed);
    }
}
