//! Shared between the Berth console (wasm32) and relay (native): Engine API
//! models, the catalogue of endpoints the console calls, API version
//! negotiation and incremental decoders for the engine's streams.
//!
//! There is no I/O here: callers send the requests this crate describes and
//! feed the decoders whatever bytes arrive, split however the network split
//! them.

pub mod archive;
mod buffer;
pub mod endpoints;
pub mod error;
pub mod fanin;
pub mod gojson;
pub mod guard;
pub mod jsonlines;
pub mod logline;
pub mod mux;
pub mod policy;
pub mod relay;
pub mod route;
pub mod run;
pub mod stats;
pub mod swarm;
pub mod version;

/// Engine API models generated from the official Engine API specification.
pub use bollard_stubs::models;

pub use endpoints::{Api, ContainerAction, ContainerBrief, Endpoint, Method};
pub use error::{error_message, EngineError};
pub use fanin::{FaninDecoder, Fanned};
pub use jsonlines::JsonLines;
pub use mux::{Frame, MuxDecoder, MuxError, StreamKind};
pub use policy::Policy;
pub use route::{route, Class, RouteError, Routed};
pub use stats::Usage;
pub use version::{ApiVersion, VersionError};
