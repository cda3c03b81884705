//! Ready tools, used by the examples and useful as models for your own.

pub mod files;
pub mod research;
pub mod travel;
