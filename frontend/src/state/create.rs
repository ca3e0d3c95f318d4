//! The create form's model: what was typed (a [`RunSpec`]), which fields
//! have been left (their problems show from then on), the engine's
//! refusals by field, where the form is, and a pull's progress.

use std::collections::{BTreeMap, HashSet};

use berth_engine::models::CreateImageInfo;
use berth_engine::run::{Field, Problems, RunSpec};

/// Where the form is.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    Editing,
    Pulling,
    Creating,
    Failed(String),
}

/// The form.
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub spec: RunSpec,
    /// Start the container once made.
    pub start: bool,
    /// Fields the person has left: their problems show.
    pub touched: HashSet<Field>,
    /// Submitted once: every problem shows.
    pub submitted: bool,
    /// What the engine refused, on the field it was about.
    pub refused: Problems,
    pub phase: Phase,
}

impl Default for Form {
    fn default() -> Form {
        Form {
            spec: RunSpec::default(),
            start: true,
            touched: HashSet::new(),
            submitted: false,
            refused: vec![],
            phase: Phase::Editing,
        }
    }
}

impl Form {
    /// The problem to show on `field`: the form's own (once the field was
    /// left or the form submitted), else the engine's.
    pub fn problem(
        &self,
        checked: &Result<serde_json::Value, Problems>,
        field: Field,
    ) -> Option<String> {
        let shown = self.submitted || self.touched.contains(&field);
        let find = |ps: &Problems| ps.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone());
        match checked {
            Err(ps) if shown => find(ps),
            _ => None,
        }
        .or_else(|| find(&self.refused))
    }

    pub fn busy(&self) -> bool {
        matches!(self.phase, Phase::Pulling | Phase::Creating)
    }

    /// The submit button's words.
    pub fn submit_label(&self) -> &'static str {
        match self.phase {
            Phase::Pulling => "Pulling the image…",
            Phase::Creating => "Creating…",
            _ if self.start => "Create and start",
            _ => "Create",
        }
    }
}

/// One layer's progress while pulling.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    pub status: String,
    pub current: i64,
    pub total: i64,
}

/// A pull as it goes: layers by id, and the last overall status line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pull {
    pub layers: BTreeMap<String, Layer>,
    pub status: String,
}

impl Pull {
    /// Takes one line of the pull's stream; an error (which arrives inside
    /// the 200 stream) comes back as `Err`.
    pub fn apply(&mut self, info: CreateImageInfo) -> Result<(), String> {
        if let Some(e) = info.error_detail.and_then(|d| d.message) {
            return Err(e);
        }
        let status = info.status.unwrap_or_default();
        match info.id {
            Some(id) if !id.is_empty() && !status.starts_with("Pulling from") => {
                let layer = self.layers.entry(id).or_default();
                if let Some(d) = info.progress_detail {
                    layer.current = d.current.unwrap_or(layer.current);
                    layer.total = d.total.unwrap_or(layer.total);
                }
                if status.starts_with("Pull complete") || status.starts_with("Already exists") {
                    layer.current = layer.total.max(1);
                    layer.total = layer.total.max(1);
                }
                layer.status = status;
            }
            _ => self.status = status,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_engine::models::{ErrorDetail, ProgressDetail};

    #[test]
    fn problems_show_once_a_field_is_left_or_the_form_sent() {
        let mut form = Form::default();
        form.spec.image = String::new();
        let checked = form.spec.body();
        assert!(checked.is_err(), "an image is needed");
        assert_eq!(form.problem(&checked, Field::Image), None, "not yet");
        form.touched.insert(Field::Image);
        assert!(form.problem(&checked, Field::Image).is_some());
        assert_eq!(form.problem(&checked, Field::Name), None);

        let mut form = Form {
            submitted: true,
            ..Form::default()
        };
        form.spec.image = "busybox".into();
        form.spec.ports = "8080:99999".into();
        let checked = form.spec.body();
        assert!(form
            .problem(&checked, Field::Ports)
            .unwrap()
            .contains("65535"));

        form.spec.ports.clear();
        form.refused = vec![(Field::Name, "name already in use".into())];
        let checked = form.spec.body();
        assert!(checked.is_ok());
        assert_eq!(
            form.problem(&checked, Field::Name).as_deref(),
            Some("name already in use")
        );
    }

    #[test]
    fn the_button_says_what_happens() {
        let mut form = Form::default();
        assert_eq!(form.submit_label(), "Create and start");
        form.start = false;
        assert_eq!(form.submit_label(), "Create");
        form.phase = Phase::Pulling;
        assert!(form.busy());
        assert_eq!(form.submit_label(), "Pulling the image…");
    }

    fn line(id: Option<&str>, status: &str, progress: Option<(i64, i64)>) -> CreateImageInfo {
        CreateImageInfo {
            id: id.map(str::to_owned),
            status: Some(status.into()),
            progress_detail: progress.map(|(current, total)| ProgressDetail {
                current: Some(current),
                total: Some(total),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_pull_tracks_each_layer_and_stops_at_an_error() {
        let mut pull = Pull::default();
        pull.apply(line(Some("latest"), "Pulling from library/busybox", None))
            .unwrap();
        pull.apply(line(Some("a1"), "Downloading", Some((10, 100))))
            .unwrap();
        pull.apply(line(Some("b2"), "Already exists", None))
            .unwrap();
        assert_eq!(pull.status, "Pulling from library/busybox");
        assert_eq!(
            pull.layers["a1"],
            Layer {
                status: "Downloading".into(),
                current: 10,
                total: 100
            }
        );
        assert_eq!((pull.layers["b2"].current, pull.layers["b2"].total), (1, 1));
        pull.apply(line(Some("a1"), "Pull complete", None)).unwrap();
        assert_eq!(pull.layers["a1"].current, 100);
        let failed = CreateImageInfo {
            error_detail: Some(ErrorDetail {
                message: Some("manifest unknown".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(pull.apply(failed), Err("manifest unknown".into()));
    }
}
