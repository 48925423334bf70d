//! The periods platform KPIs are computed over.

use std::time::Duration;

/// The window and the tick of a platform KPI stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Minute,
    Hour,
    Day,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Minute, Period::Hour, Period::Day];

    /// The position in [`Period::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn duration(self) -> Duration {
        Duration::from_secs(match self {
            Period::Minute => 60,
            Period::Hour => 3600,
            Period::Day => 86_400,
        })
    }
}
