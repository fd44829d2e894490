//! Argument and record types of the built-in modules, shared by node and clients.

pub mod accounts;
pub mod dkg;
pub mod governance;
pub mod history;
pub mod identity;
pub mod notary;
pub mod payment;
pub mod tender;
pub mod validators;
