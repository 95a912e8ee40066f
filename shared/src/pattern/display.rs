//! Canonical printing of the syntax tree. The output parses back to the same tree: compound
//! sub-expressions are always parenthesised, strings keep their quoting, numbers their spelling.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::*;

fn quoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

impl Display for Ast {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Ast::Empty => Ok(()),
            Ast::Terms(terms) => {
                for (i, t) in terms.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    write!(f, "{t}")?;
                }
                Ok(())
            }
            Ast::Regex(r) => write!(f, "{r}"),
            Ast::Json(e) => write!(f, "{{ {e} }}"),
            Ast::Delimited(fields) => {
                f.write_char('[')?;
                for (i, field) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{field}")?;
                }
                f.write_char(']')
            }
        }
    }
}

impl Display for Term {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.mode {
            TermMode::Include => {}
            TermMode::Exclude => f.write_char('-')?,
            TermMode::Optional => f.write_char('?')?,
        }
        if self.quoted {
            quoted(f, &self.text)
        } else {
            f.write_str(&self.text)
        }
    }
}

impl Display for RegexLit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "%{}%", self.body)
    }
}

/// Writes `e`, parenthesised when it is compound.
fn operand<T: Display>(f: &mut Formatter<'_>, e: &T, compound: bool) -> fmt::Result {
    if compound {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl Display for JsonExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (items, op) = match self {
            JsonExpr::Cond(c) => return write!(f, "{c}"),
            JsonExpr::Or(items) => (items, " || "),
            JsonExpr::And(items) => (items, " && "),
        };
        for (i, e) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(op)?;
            }
            operand(f, e, !matches!(e, JsonExpr::Cond(_)))?;
        }
        Ok(())
    }
}

impl Display for JsonCond {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.selector)?;
        match &self.test {
            JsonTest::Compare { op, value } => write!(f, " {} {value}", op.as_str()),
            JsonTest::IsNull => f.write_str(" IS NULL"),
            JsonTest::IsTrue => f.write_str(" IS TRUE"),
            JsonTest::IsFalse => f.write_str(" IS FALSE"),
            JsonTest::NotExists => f.write_str(" NOT EXISTS"),
        }
    }
}

impl Display for Selector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("$.")?;
        for (i, seg) in self.segments.iter().enumerate() {
            let first = i == 0;
            match seg {
                Segment::Key {
                    name,
                    bracketed: false,
                } => {
                    if !first {
                        f.write_char('.')?;
                    }
                    f.write_str(name)?;
                }
                Segment::Key {
                    name,
                    bracketed: true,
                } => write!(f, "['{name}']")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Wildcard { bracketed: true } => f.write_str("[*]")?,
                Segment::Wildcard { bracketed: false } => {
                    if !first {
                        f.write_char('.')?;
                    }
                    f.write_char('*')?;
                }
            }
        }
        Ok(())
    }
}

impl Display for Value {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number { text, .. } => f.write_str(text),
            Value::Str { text, quoted: true } => quoted(f, text),
            Value::Str {
                text,
                quoted: false,
            } => f.write_str(text),
            Value::Regex(r) => write!(f, "{r}"),
        }
    }
}

impl Display for Field {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Field::Ellipsis { .. } => f.write_str("..."),
            Field::Unnamed { .. } => Ok(()),
            Field::Named {
                name, cond: None, ..
            } => f.write_str(name),
            Field::Named {
                cond: Some(cond), ..
            } => write!(f, "{cond}"),
        }
    }
}

impl Display for FieldExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (items, op) = match self {
            FieldExpr::Cond {
                name, op, value, ..
            } => return write!(f, "{name} {} {value}", op.as_str()),
            FieldExpr::Or(items) => (items, " || "),
            FieldExpr::And(items) => (items, " && "),
        };
        for (i, e) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(op)?;
            }
            operand(f, e, !matches!(e, FieldExpr::Cond { .. }))?;
        }
        Ok(())
    }
}
