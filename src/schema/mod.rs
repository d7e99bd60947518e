//! Schema-driven body conversion (in progress).
