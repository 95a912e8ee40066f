//! The rules file. (placeholder)
