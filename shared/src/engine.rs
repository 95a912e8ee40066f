//! (owned by a work stream; see lib.rs for the role of this module)
