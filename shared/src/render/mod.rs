//! Rendering shared by every destination.
//!
//! * [`text`] — the text-safety pipeline every destination runs untrusted text through: the text
//!   as a person will see it, then redaction, then (in the destination's own module) escaping.

pub mod text;
