//! Staging-label rules, as pure functions over a secret's label map.
//!
//! Every backend loads the current map inside its write transaction, asks these functions for
//! the new map, and writes the difference; so AWSCURRENT/AWSPREVIOUS move the same way on every
//! backend and a label is never on two versions.

use std::collections::BTreeMap;

use crate::model::VersionStage;

/// A secret's labels: staging label -> the version holding it.
pub type LabelMap = BTreeMap<String, String>;

/// AWS's quota of distinct staging labels across all versions of a secret.
pub const MAX_LABELS_PER_SECRET: usize = 20;

/// Which labels a new version should get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageRequest {
    /// No `VersionStages` given: the new version becomes AWSCURRENT.
    Default,
    /// Exactly these labels move to the new version.
    Explicit(Vec<String>),
}

/// Why a label change is refused. The API layer turns each into AWS's error and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageError {
    /// The change would leave more than [`MAX_LABELS_PER_SECRET`] labels on the secret.
    TooManyLabels,
    /// `MoveToVersionId` or `RemoveFromVersionId` names no version of the secret.
    VersionNotFound(String),
    /// The label is on another version, and `RemoveFromVersionId` does not name it.
    MustRemoveFrom {
        /// The label being moved.
        stage: String,
        /// The version that holds it now.
        current: String,
    },
    /// `RemoveFromVersionId` names a version that does not hold the label.
    NotAttached {
        /// The label.
        stage: String,
        /// The version named.
        version: String,
    },
    /// Removing AWSCURRENT without moving it would leave the secret with no current version.
    CannotRemoveCurrent,
}

/// The labels held by `version`, sorted as AWS returns them.
pub fn labels_of(map: &LabelMap, version: &str) -> Vec<String> {
    // BTreeMap iterates in key order, so the result is already sorted.
    map.iter()
        .filter(|(_, v)| v.as_str() == version)
        .map(|(k, _)| k.clone())
        .collect()
}

/// Version id -> its sorted labels, for `VersionIdsToStages`.
pub fn versions_to_stages(map: &LabelMap) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (stage, version) in map {
        out.entry(version.clone()).or_default().push(stage.clone());
    }
    out
}

fn check_count(map: LabelMap) -> Result<LabelMap, StageError> {
    if map.len() > MAX_LABELS_PER_SECRET {
        Err(StageError::TooManyLabels)
    } else {
        Ok(map)
    }
}

/// Moves AWSCURRENT to `new_version`, and AWSPREVIOUS to the version that lost AWSCURRENT.
fn move_current(map: &mut LabelMap, new_version: &str) {
    let old_current = map.insert(VersionStage::CURRENT.to_string(), new_version.to_string());
    match old_current {
        Some(old) if old != new_version => {
            map.insert(VersionStage::PREVIOUS.to_string(), old);
        }
        _ => {}
    }
}

/// The label map after a new version `new_version` is stored with `request`.
///
/// Default: the new version gets AWSCURRENT, the old current version gets AWSPREVIOUS (and
/// loses AWSPENDING, as AWS was observed to do), and the old AWSPREVIOUS holder loses it.
/// Explicit: each listed label moves to the new version; if AWSCURRENT is among them,
/// AWSPREVIOUS follows the version that lost it; unlisted labels stay where they are. A
/// secret's first version gets AWSCURRENT whatever the list says, as AWS documents for
/// PutSecretValue.
pub fn plan_put(
    current: &LabelMap,
    new_version: &str,
    request: &StageRequest,
) -> Result<LabelMap, StageError> {
    let mut map = current.clone();
    match request {
        StageRequest::Default => {
            if let Some(old) = map.get(VersionStage::CURRENT).cloned()
                && map.get(VersionStage::PENDING) == Some(&old)
            {
                map.remove(VersionStage::PENDING);
            }
            move_current(&mut map, new_version);
        }
        StageRequest::Explicit(stages) => {
            if !map.contains_key(VersionStage::CURRENT) {
                move_current(&mut map, new_version);
            }
            for stage in stages {
                if stage == VersionStage::CURRENT {
                    move_current(&mut map, new_version);
                } else {
                    map.insert(stage.clone(), new_version.to_string());
                }
            }
        }
    }
    check_count(map)
}

/// The label map after `UpdateSecretVersionStage(stage, move_to, remove_from)`.
/// `is_version` says whether a version id exists on the secret.
pub fn plan_update_stage(
    current: &LabelMap,
    is_version: &dyn Fn(&str) -> bool,
    stage: &str,
    move_to: Option<&str>,
    remove_from: Option<&str>,
) -> Result<LabelMap, StageError> {
    for v in [move_to, remove_from].into_iter().flatten() {
        if !is_version(v) {
            return Err(StageError::VersionNotFound(v.to_string()));
        }
    }
    let holder = current.get(stage).cloned();
    let mut map = current.clone();
    match move_to {
        Some(target) => {
            match (&holder, remove_from) {
                (Some(h), _) if h == target => {}
                (Some(h), Some(r)) if h == r => {}
                (Some(_), Some(r)) => {
                    return Err(StageError::NotAttached {
                        stage: stage.into(),
                        version: r.into(),
                    });
                }
                (Some(h), None) => {
                    return Err(StageError::MustRemoveFrom {
                        stage: stage.into(),
                        current: h.clone(),
                    });
                }
                (None, Some(r)) => {
                    return Err(StageError::NotAttached {
                        stage: stage.into(),
                        version: r.into(),
                    });
                }
                (None, None) => {}
            }
            if stage == VersionStage::CURRENT {
                move_current(&mut map, target);
            } else {
                map.insert(stage.to_string(), target.to_string());
            }
        }
        None => {
            let Some(r) = remove_from else {
                return Ok(map);
            };
            if holder.as_deref() != Some(r) {
                return Err(StageError::NotAttached {
                    stage: stage.into(),
                    version: r.into(),
                });
            }
            if stage == VersionStage::CURRENT {
                return Err(StageError::CannotRemoveCurrent);
            }
            map.remove(stage);
        }
    }
    check_count(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> LabelMap {
        pairs
            .iter()
            .map(|(s, v)| (s.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn default_put_rotates_current_and_previous() {
        let m = plan_put(&LabelMap::new(), "v1", &StageRequest::Default).unwrap();
        assert_eq!(m, map(&[("AWSCURRENT", "v1")]));
        let m = plan_put(&m, "v2", &StageRequest::Default).unwrap();
        assert_eq!(m, map(&[("AWSCURRENT", "v2"), ("AWSPREVIOUS", "v1")]));
        let m = plan_put(&m, "v3", &StageRequest::Default).unwrap();
        assert_eq!(m, map(&[("AWSCURRENT", "v3"), ("AWSPREVIOUS", "v2")]));
        assert_eq!(labels_of(&m, "v1"), Vec::<String>::new());
    }

    #[test]
    fn default_put_drops_pending_from_old_current() {
        let m = map(&[("AWSCURRENT", "v1"), ("AWSPENDING", "v1")]);
        let m = plan_put(&m, "v2", &StageRequest::Default).unwrap();
        assert_eq!(labels_of(&m, "v1"), vec!["AWSPREVIOUS"]);
        assert_eq!(labels_of(&m, "v2"), vec!["AWSCURRENT"]);
    }

    #[test]
    fn explicit_put_moves_only_listed_labels() {
        let m = map(&[
            ("AWSCURRENT", "v1"),
            ("one", "v2"),
            ("two", "v2"),
            ("three", "v2"),
        ]);
        let req = StageRequest::Explicit(vec!["four".into(), "one".into(), "two".into()]);
        let m = plan_put(&m, "v3", &req).unwrap();
        assert_eq!(labels_of(&m, "v2"), vec!["three"]);
        assert_eq!(labels_of(&m, "v3"), vec!["four", "one", "two"]);
        assert_eq!(labels_of(&m, "v1"), vec!["AWSCURRENT"]);

        let pending = StageRequest::Explicit(vec!["AWSPENDING".into()]);
        let m2 = plan_put(&m, "v4", &pending).unwrap();
        assert_eq!(m2.get("AWSCURRENT").unwrap(), "v1");
        let current = StageRequest::Explicit(vec!["AWSCURRENT".into()]);
        let m3 = plan_put(&m, "v4", &current).unwrap();
        assert_eq!(m3.get("AWSPREVIOUS").unwrap(), "v1");
    }

    #[test]
    fn a_first_version_gets_current_whatever_the_list_says() {
        let pending = StageRequest::Explicit(vec!["AWSPENDING".into()]);
        let m = plan_put(&LabelMap::new(), "v1", &pending).unwrap();
        assert_eq!(labels_of(&m, "v1"), vec!["AWSCURRENT", "AWSPENDING"]);
        assert_eq!(m.get("AWSPREVIOUS"), None);
        let m = plan_put(&m, "v2", &pending).unwrap();
        assert_eq!(labels_of(&m, "v1"), vec!["AWSCURRENT"]);
        assert_eq!(labels_of(&m, "v2"), vec!["AWSPENDING"]);
    }

    #[test]
    fn label_quota() {
        let mut m = LabelMap::new();
        for i in 0..20 {
            m.insert(format!("l{i}"), "v1".into());
        }
        let req = StageRequest::Explicit(vec!["extra".into()]);
        assert_eq!(plan_put(&m, "v2", &req), Err(StageError::TooManyLabels));
    }

    #[test]
    fn update_stage_rules() {
        let versions = |v: &str| ["v1", "v2", "v3"].contains(&v);
        let m = map(&[
            ("AWSCURRENT", "v1"),
            ("AWSPENDING", "v2"),
            ("AWSPREVIOUS", "v3"),
        ]);
        // AWSCURRENT elsewhere needs RemoveFromVersionId.
        assert_eq!(
            plan_update_stage(&m, &versions, "AWSCURRENT", Some("v2"), None),
            Err(StageError::MustRemoveFrom {
                stage: "AWSCURRENT".into(),
                current: "v1".into()
            })
        );
        let moved = plan_update_stage(&m, &versions, "AWSCURRENT", Some("v2"), Some("v1")).unwrap();
        assert_eq!(labels_of(&moved, "v2"), vec!["AWSCURRENT", "AWSPENDING"]);
        assert_eq!(labels_of(&moved, "v1"), vec!["AWSPREVIOUS"]);
        assert_eq!(labels_of(&moved, "v3"), Vec::<String>::new());
        // Remove only.
        let removed = plan_update_stage(&m, &versions, "AWSPENDING", None, Some("v2")).unwrap();
        assert!(!removed.contains_key("AWSPENDING"));
        assert_eq!(
            plan_update_stage(&m, &versions, "AWSCURRENT", None, Some("v1")),
            Err(StageError::CannotRemoveCurrent)
        );
        assert_eq!(
            plan_update_stage(&m, &versions, "AWSPENDING", None, Some("v1")),
            Err(StageError::NotAttached {
                stage: "AWSPENDING".into(),
                version: "v1".into()
            })
        );
        assert_eq!(
            plan_update_stage(&m, &versions, "x", Some("nope"), None),
            Err(StageError::VersionNotFound("nope".into()))
        );
        // A new custom label attaches freely; moving onto its own holder is a no-op.
        let custom = plan_update_stage(&m, &versions, "blue", Some("v3"), None).unwrap();
        assert_eq!(labels_of(&custom, "v3"), vec!["AWSPREVIOUS", "blue"]);
        assert_eq!(
            plan_update_stage(&m, &versions, "AWSCURRENT", Some("v1"), None).unwrap(),
            m
        );
    }
}
