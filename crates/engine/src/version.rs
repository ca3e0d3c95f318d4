//! API version negotiation from the `API-Version` header of `/_ping`.

use std::fmt;
use std::str::FromStr;

/// An Engine API version such as `1.41`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub major: u16,
    pub minor: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("the engine reported API version {0:?}, which is not of the form 1.41")]
    Malformed(String),
    #[error(
        "the engine speaks API {engine}; Berth needs at least {}",
        ApiVersion::MIN
    )]
    TooOld { engine: ApiVersion },
}

impl ApiVersion {
    /// Docker 20.10, the oldest engine the console supports.
    pub const MIN: ApiVersion = ApiVersion::new(1, 41);
    /// The specification the models were generated from.
    pub const MAX: ApiVersion = ApiVersion::new(1, 53);

    pub const fn new(major: u16, minor: u16) -> Self {
        ApiVersion { major, minor }
    }

    /// The version to use with an engine that reported `engine` in its
    /// `API-Version` header: the engine's own, capped at the newest this
    /// crate's models describe.
    pub fn negotiate(engine: &str) -> Result<ApiVersion, VersionError> {
        let engine: ApiVersion = engine.parse()?;
        if engine < Self::MIN {
            return Err(VersionError::TooOld { engine });
        }
        Ok(engine.min(Self::MAX))
    }

    /// The path prefix, e.g. `/v1.41`.
    pub fn prefix(self) -> String {
        format!("/v{self}")
    }
}

impl FromStr for ApiVersion {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = || VersionError::Malformed(s.to_owned());
        let (major, minor) = s.trim().split_once('.').ok_or_else(malformed)?;
        Ok(ApiVersion {
            major: major.parse().map_err(|_| malformed())?,
            minor: minor.parse().map_err(|_| malformed())?,
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_down_to_what_both_speak() {
        assert_eq!(ApiVersion::negotiate("1.41"), Ok(ApiVersion::new(1, 41)));
        assert_eq!(ApiVersion::negotiate("1.47"), Ok(ApiVersion::new(1, 47)));
        assert_eq!(ApiVersion::negotiate("1.60"), Ok(ApiVersion::MAX));
    }

    #[test]
    fn refuses_old_and_malformed_versions() {
        assert_eq!(
            ApiVersion::negotiate("1.40"),
            Err(VersionError::TooOld {
                engine: ApiVersion::new(1, 40)
            })
        );
        assert!(matches!(
            ApiVersion::negotiate("one.41"),
            Err(VersionError::Malformed(_))
        ));
        assert!(matches!(
            ApiVersion::negotiate(""),
            Err(VersionError::Malformed(_))
        ));
        // Minor versions compare as numbers, not strings.
        assert!(ApiVersion::new(1, 9) < ApiVersion::new(1, 41));
    }

    #[test]
    fn prefix_is_the_versioned_path() {
        assert_eq!(ApiVersion::new(1, 41).prefix(), "/v1.41");
    }
}
