//! The container a container page is about, shared by its tabs (a
//! context the page provides). Its inspect answer is kept as the engine's
//! JSON (see `Api::container_inspect`).

use berth_engine::models::ContainerSummaryStateEnum as State;
use leptos::prelude::*;
use serde_json::Value;

use crate::api::ApiError;
use crate::state::json::json_text;

#[derive(Clone, Copy)]
pub struct Current {
    /// The full id once known (the URL's name or id until then).
    pub id: Memo<String>,
    pub inspect: RwSignal<Option<Result<Value, ApiError>>>,
}

impl Current {
    /// A field of the inspect answer by JSON pointer (`/State/Status`).
    pub fn text(&self, pointer: &str) -> String {
        self.inspect.with(|i| match i {
            Some(Ok(c)) => json_text(c, pointer),
            _ => String::new(),
        })
    }

    pub fn name(&self) -> String {
        let name = self.text("/Name");
        if name.is_empty() {
            self.id.get_untracked()
        } else {
            name.trim_start_matches('/').to_owned()
        }
    }

    pub fn state(&self) -> State {
        self.text("/State/Status").parse().unwrap_or(State::EMPTY)
    }

    /// Running, restarting or paused: a removal must force it.
    pub fn is_up(&self) -> bool {
        matches!(
            self.state(),
            State::RUNNING | State::RESTARTING | State::PAUSED
        )
    }
}
