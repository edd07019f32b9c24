//! corio-sync
