//! Permission policies: who must sign for a module call to be allowed.
//!
//! A policy is data on chain (key [`policy_key`]`(module, method)`); when absent, the module's
//! declared default applies. It is short enough for a department administrator to read, and has
//! one canonical text form, accepted by [`Policy::from_str`](std::str::FromStr) and printed by
//! [`std::fmt::Display`] (JSON uses the same text):
//!
//! ```text
//! 1 of org_admin @ own
//! 2 of org_admin @ founding, distinct orgs
//! 1 of notary_officer|citizen|company @ any
//! 1 of any role @ any
//! 1 of any account @ any
//! 1 of org_admin @ own or 1 of chain_admin @ any
//! 2 of auditor @ housing|finance
//! ```
//!
//! # Meaning
//! A policy is one or more [`Rule`]s joined by `or`; the call is allowed when any rule is met.
//! A rule `T of ROLES @ ORGS[, distinct orgs]` is met when at least `T` distinct accounts have
//! authorized the call (the sender and co-signers of a transaction, or the approvers of a
//! governance proposal), each of them
//! - active, in an active organization,
//! - holding one of `ROLES` (`any role`: at least one role; `any account`: no role needed),
//! - in an organization within `ORGS`: `any`; `founding` (the founding organizations); `own`
//!   (the organization the call targets, which the module names, e.g. the organization an
//!   account is registered into); or a list of organization ids `a|b`,
//!
//! and, with `distinct orgs`, each from a different organization.

use crate::{ErrorCode, TxError};
use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Largest threshold a rule may require.
pub const MAX_THRESHOLD: u32 = 64;
/// Most rules in one policy.
pub const MAX_RULES: usize = 8;
/// Longest role name or organization id, in bytes.
pub const MAX_NAME: usize = 32;
/// Words of the policy language that cannot be organization ids.
pub const RESERVED_ORG_IDS: &[&str] = &["any", "founding", "own", "or", "of", "distinct"];

/// State key of the policy overriding the default of `module.method`: `policy/{module}/{method}`.
pub fn policy_key(module: &str, method: &str) -> Vec<u8> {
    format!("policy/{module}/{method}").into_bytes()
}

/// Which roles count.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum RoleSet {
    /// Any registered account, with or without roles (`any account`).
    AnyAccount,
    /// Any account holding at least one role (`any role`).
    AnyRole,
    /// An account holding one of these roles (`a|b|c`).
    List(Vec<String>),
}

/// Which organizations count.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum OrgScope {
    /// Any organization (`any`).
    Any,
    /// The founding organizations (`founding`).
    Founding,
    /// The organization the call targets, as the module declares it (`own`).
    Own,
    /// These organizations (`a|b`).
    List(Vec<String>),
}

/// One way of meeting a policy: `threshold` accounts with `roles` in `orgs`.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Rule {
    /// How many distinct qualifying accounts must authorize (at least 1).
    pub threshold: u32,
    /// Which roles qualify.
    pub roles: RoleSet,
    /// Which organizations qualify.
    pub orgs: OrgScope,
    /// Whether each qualifying account must come from a different organization.
    pub distinct_orgs: bool,
}

/// A permission policy: the call is allowed when any of its rules is met.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Policy {
    /// The alternatives (at least one).
    pub rules: Vec<Rule>,
}

impl Rule {
    /// A rule requiring `threshold` accounts holding one of `roles` in `orgs`.
    pub fn new(threshold: u32, roles: &[&str], orgs: OrgScope) -> Self {
        Self {
            threshold,
            roles: RoleSet::List(roles.iter().map(|r| r.to_string()).collect()),
            orgs,
            distinct_orgs: false,
        }
    }

    /// Whether an account holding `roles` qualifies by role.
    pub fn role_matches(&self, roles: &[String]) -> bool {
        match &self.roles {
            RoleSet::AnyAccount => true,
            RoleSet::AnyRole => !roles.is_empty(),
            RoleSet::List(list) => list.iter().any(|r| roles.contains(r)),
        }
    }

    fn validate(&self, field: &str) -> Result<(), TxError> {
        if self.threshold == 0 || self.threshold > MAX_THRESHOLD {
            return Err(invalid(format!(
                "{field}.threshold: must be between 1 and {MAX_THRESHOLD}, got {}",
                self.threshold
            )));
        }
        if let RoleSet::List(roles) = &self.roles {
            if roles.is_empty() {
                return Err(invalid(format!("{field}.roles: empty role list")));
            }
            for r in roles {
                validate_role(r).map_err(|e| invalid(format!("{field}.roles: {e}")))?;
            }
            if has_duplicates(roles) {
                return Err(invalid(format!("{field}.roles: a role is listed twice")));
            }
        }
        if let OrgScope::List(orgs) = &self.orgs {
            if orgs.is_empty() {
                return Err(invalid(format!("{field}.orgs: empty organization list")));
            }
            for o in orgs {
                validate_org_id(o).map_err(|e| invalid(format!("{field}.orgs: {e}")))?;
            }
            if has_duplicates(orgs) {
                return Err(invalid(format!(
                    "{field}.orgs: an organization is listed twice"
                )));
            }
        }
        Ok(())
    }
}

impl Policy {
    /// A policy of one rule.
    pub fn single(rule: Rule) -> Self {
        Self { rules: vec![rule] }
    }

    /// `1 of any account @ any`: any registered, active account.
    pub fn any_account() -> Self {
        Self::single(Rule {
            threshold: 1,
            roles: RoleSet::AnyAccount,
            orgs: OrgScope::Any,
            distinct_orgs: false,
        })
    }

    /// `1 of any role @ any`: any active account holding at least one role.
    pub fn any_role() -> Self {
        Self::single(Rule {
            threshold: 1,
            roles: RoleSet::AnyRole,
            orgs: OrgScope::Any,
            distinct_orgs: false,
        })
    }

    /// `1 of org_admin @ own`.
    pub fn own_org_admin() -> Self {
        Self::single(Rule::new(1, &["org_admin"], OrgScope::Own))
    }

    /// `T of org_admin @ founding, distinct orgs`: the governance default.
    pub fn founding_admins(threshold: u32) -> Self {
        Self::single(Rule {
            threshold,
            roles: RoleSet::List(vec!["org_admin".into()]),
            orgs: OrgScope::Founding,
            distinct_orgs: true,
        })
    }

    /// Add an alternative rule.
    pub fn or(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Check that the policy makes sense; the error is `INVALID_ARGUMENT` naming the field.
    pub fn validate(&self) -> Result<(), TxError> {
        if self.rules.is_empty() || self.rules.len() > MAX_RULES {
            return Err(invalid(format!(
                "policy.rules: must hold 1 to {MAX_RULES} rules"
            )));
        }
        for (i, r) in self.rules.iter().enumerate() {
            let field = if self.rules.len() == 1 {
                "policy".to_string()
            } else {
                format!("policy.rules[{i}]")
            };
            r.validate(&field)?;
        }
        Ok(())
    }
}

fn invalid(message: String) -> TxError {
    TxError::new(ErrorCode::InvalidArgument, message)
}

fn has_duplicates(v: &[String]) -> bool {
    let mut s: Vec<&String> = v.iter().collect();
    s.sort();
    s.windows(2).any(|w| w[0] == w[1])
}

fn name_ok(s: &str, extra: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b))
}

/// Check an organization id: 1 to 32 characters of `[a-z0-9-]`, not a reserved word.
pub fn validate_org_id(id: &str) -> Result<(), String> {
    if !name_ok(id, b"-") {
        return Err(format!(
            "'{id}' is not an organization id (1 to {MAX_NAME} characters of a-z, 0-9, -)"
        ));
    }
    if RESERVED_ORG_IDS.contains(&id) {
        return Err(format!("'{id}' is a reserved word"));
    }
    Ok(())
}

/// Check a role name: 1 to 32 characters of `[a-z0-9_-]`, not `any`.
pub fn validate_role(role: &str) -> Result<(), String> {
    if !name_ok(role, b"_-") {
        return Err(format!(
            "'{role}' is not a role name (1 to {MAX_NAME} characters of a-z, 0-9, _, -)"
        ));
    }
    if role == "any" || role == "or" {
        return Err(format!("'{role}' is a reserved word"));
    }
    Ok(())
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of ", self.threshold)?;
        match &self.roles {
            RoleSet::AnyAccount => f.write_str("any account")?,
            RoleSet::AnyRole => f.write_str("any role")?,
            RoleSet::List(l) => f.write_str(&l.join("|"))?,
        }
        f.write_str(" @ ")?;
        match &self.orgs {
            OrgScope::Any => f.write_str("any")?,
            OrgScope::Founding => f.write_str("founding")?,
            OrgScope::Own => f.write_str("own")?,
            OrgScope::List(l) => f.write_str(&l.join("|"))?,
        }
        if self.distinct_orgs {
            f.write_str(", distinct orgs")?;
        }
        Ok(())
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.rules.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

fn parse_list(s: &str) -> Vec<String> {
    s.split('|').map(|p| p.trim().to_string()).collect()
}

fn parse_rule(text: &str, field: &str) -> Result<Rule, TxError> {
    let Some((left, right)) = text.split_once('@') else {
        return Err(invalid(format!(
            "{field}: expected 'T of ROLES @ ORGS', missing '@' in '{text}'"
        )));
    };
    let mut words = left.split_whitespace();
    let threshold = words.next().unwrap_or_default();
    let threshold: u32 = threshold.parse().map_err(|_| {
        invalid(format!(
            "{field}.threshold: '{threshold}' is not a number (expected 'T of ROLES @ ORGS')"
        ))
    })?;
    if words.next() != Some("of") {
        return Err(invalid(format!(
            "{field}: expected 'of' after the threshold in '{}'",
            text.trim()
        )));
    }
    let roles_text = words.collect::<Vec<_>>().join(" ");
    let roles = match roles_text.as_str() {
        "" => return Err(invalid(format!("{field}.roles: missing"))),
        "any account" => RoleSet::AnyAccount,
        "any role" => RoleSet::AnyRole,
        list => RoleSet::List(parse_list(list)),
    };
    let (scope_text, rest) = match right.split_once(',') {
        Some((s, r)) => (s.trim(), Some(r.trim())),
        None => (right.trim(), None),
    };
    let distinct_orgs = match rest.map(|r| r.split_whitespace().collect::<Vec<_>>()) {
        None => false,
        Some(w) if w == ["distinct", "orgs"] => true,
        Some(w) => {
            return Err(invalid(format!(
                "{field}.distinct_orgs: expected 'distinct orgs', got '{}'",
                w.join(" ")
            )));
        }
    };
    let orgs = match scope_text {
        "" => return Err(invalid(format!("{field}.orgs: missing scope after '@'"))),
        "any" => OrgScope::Any,
        "founding" => OrgScope::Founding,
        "own" => OrgScope::Own,
        list => {
            let l = parse_list(list);
            if let Some(bad) = l.iter().find(|o| validate_org_id(o).is_err()) {
                return Err(invalid(format!(
                    "{field}.orgs: unknown scope '{bad}' (any, founding, own, or org ids a|b)"
                )));
            }
            OrgScope::List(l)
        }
    };
    let rule = Rule {
        threshold,
        roles,
        orgs,
        distinct_orgs,
    };
    rule.validate(field)?;
    Ok(rule)
}

impl std::str::FromStr for Policy {
    type Err = TxError;

    fn from_str(s: &str) -> Result<Self, TxError> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let parts: Vec<String> = words.split(|w| *w == "or").map(|p| p.join(" ")).collect();
        if parts.len() > MAX_RULES {
            return Err(invalid(format!(
                "policy.rules: must hold 1 to {MAX_RULES} rules"
            )));
        }
        let mut rules = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let field = if parts.len() == 1 {
                "policy".to_string()
            } else {
                format!("policy.rules[{i}]")
            };
            if p.is_empty() {
                return Err(invalid(format!("{field}: empty rule")));
            }
            rules.push(parse_rule(p, &field)?);
        }
        let policy = Policy { rules };
        policy.validate()?;
        Ok(policy)
    }
}

impl Serialize for Policy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        s.parse()
            .map_err(|e: TxError| serde::de::Error::custom(e.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for text in [
            "1 of org_admin @ own",
            "2 of org_admin @ founding, distinct orgs",
            "1 of notary_officer|citizen|company @ any",
            "1 of any role @ any",
            "1 of any account @ any",
            "1 of org_admin @ own or 1 of chain_admin @ any",
            "3 of auditor|bank @ housing|finance-2, distinct orgs",
        ] {
            let p: Policy = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(p.to_string(), text);
            let again: Policy = p.to_string().parse().expect("reparse");
            assert_eq!(again, p);
            let json = serde_json::to_string(&p).expect("json");
            assert_eq!(json, format!("\"{text}\""));
            let back: Policy = serde_json::from_str(&json).expect("json back");
            assert_eq!(back, p);
            let bin: Policy = crate::decode(&crate::encode(&p)).expect("borsh");
            assert_eq!(bin, p);
        }
        // Extra whitespace is tolerated and normalized.
        let p: Policy = "  2  of  org_admin | bank  @  founding ,  distinct   orgs "
            .parse()
            .expect("loose");
        assert_eq!(
            p.to_string(),
            "2 of org_admin|bank @ founding, distinct orgs"
        );
        assert_eq!(
            Policy::founding_admins(2),
            p_of("2 of org_admin @ founding, distinct orgs")
        );
        assert_eq!(Policy::any_role(), p_of("1 of any role @ any"));
        assert_eq!(Policy::own_org_admin(), p_of("1 of org_admin @ own"));
    }

    fn p_of(s: &str) -> Policy {
        s.parse().expect("policy")
    }

    #[test]
    fn nonsense_is_refused_naming_the_field() {
        for (text, field) in [
            ("0 of org_admin @ own", "policy.threshold"),
            ("65 of org_admin @ own", "policy.threshold"),
            ("x of org_admin @ own", "policy.threshold"),
            ("1 org_admin @ own", "policy:"),
            ("1 of org_admin own", "policy:"),
            ("1 of @ own", "policy.roles"),
            ("1 of Org_Admin @ own", "policy.roles"),
            ("1 of a|a @ own", "policy.roles"),
            ("1 of org_admin @ ", "policy.orgs"),
            ("1 of org_admin @ Everyone", "policy.orgs"),
            ("1 of org_admin @ a||b", "policy.orgs"),
            ("1 of org_admin @ own, distinct", "policy.distinct_orgs"),
            ("1 of org_admin @ own or", "policy.rules[1]"),
            (
                "1 of org_admin @ own or 0 of bank @ any",
                "policy.rules[1].threshold",
            ),
            ("", "policy"),
        ] {
            let e = text.parse::<Policy>().expect_err(text);
            assert_eq!(e.code, ErrorCode::InvalidArgument, "{text}");
            assert!(
                e.message.starts_with(field),
                "{text}: '{}' should name {field}",
                e.message
            );
        }
        assert!(Policy { rules: vec![] }.validate().is_err());
        let mut p = Policy::own_org_admin();
        p.rules[0].orgs = OrgScope::List(vec![]);
        assert!(
            p.validate()
                .expect_err("empty")
                .message
                .contains("policy.orgs")
        );
    }

    #[test]
    fn role_matching() {
        let roles = vec!["bank".to_string()];
        assert!(p_of("1 of any account @ any").rules[0].role_matches(&[]));
        assert!(!p_of("1 of any role @ any").rules[0].role_matches(&[]));
        assert!(p_of("1 of any role @ any").rules[0].role_matches(&roles));
        assert!(p_of("1 of citizen|bank @ any").rules[0].role_matches(&roles));
        assert!(!p_of("1 of citizen @ any").rules[0].role_matches(&roles));
    }
}
