//! autumn
