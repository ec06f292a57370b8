//! Document-wide settings: the pricing procedure, rounding policies, currencies.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::compact;
use super::ids::{CurrencyId, IdVec, PolicyId};
use crate::model::{RoundingMode, RoundingStage, Select};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Settings {
    pub default_open: bool,
    #[serde(with = "compact")]
    pub timezone: Tz,
    pub steps: Vec<StepDef>,
    pub rounding: Option<PolicyId>,
    /// The first declared currency unless the settings name one; a document that declares
    /// no currency still has this id (0), which then names no row of the currency table.
    pub default_currency: CurrencyId,
    pub policies: IdVec<PolicyId, Policy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StepDef {
    pub name: Box<str>,
    pub select: Select,
    pub required: bool,
    pub always: bool,
}

/// A rounding policy with its defaults filled in, except the scale (currency-dependent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Policy {
    pub mode: RoundingMode,
    pub stage: RoundingStage,
    pub scale: Option<u32>,
    pub unit_scale: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CurrencyDef {
    pub code: Box<str>,
    pub scale: u32,
    pub rounding: Option<PolicyId>,
}
