//! Condition and update expressions. Every attribute name and value goes through a placeholder,
//! and every expression treats an expired item as absent, as
//! [`condition_holds`](crate::store::condition_holds) does.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::value_to_attribute;
use super::names::{Attributes, GSI1_PK, GSI1_SK, NOOP_ATTRIBUTE, PK, TTL};
use crate::store::{Condition, Update};

/// Collects the placeholders of one request: every attribute name becomes `#nI` and every value
/// `:vI`, so reserved words are never an issue and the maps hold exactly what the text uses.
pub(super) struct Expr {
    now: i64,
    names: HashMap<String, String>,
    placeholders: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    now_placeholder: Option<String>,
}

impl Expr {
    pub(super) fn new(now: i64) -> Self {
        Self {
            now,
            names: HashMap::new(),
            placeholders: HashMap::new(),
            values: HashMap::new(),
            now_placeholder: None,
        }
    }

    /// The placeholder of an attribute name (the same one each time for the same name).
    pub(super) fn name(&mut self, attribute: &str) -> String {
        if let Some(placeholder) = self.placeholders.get(attribute) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        self.placeholders
            .insert(attribute.to_owned(), placeholder.clone());
        placeholder
    }

    /// A fresh placeholder for a value.
    pub(super) fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// The placeholder of the current time, shared by every expiry test of the request.
    pub(super) fn now(&mut self) -> String {
        if let Some(placeholder) = &self.now_placeholder {
            return placeholder.clone();
        }
        let placeholder = self.value(AttributeValue::N(self.now.to_string()));
        self.now_placeholder = Some(placeholder.clone());
        placeholder
    }

    /// A live item is at the key: it exists and has no expiry or one in the future.
    pub(super) fn live(&mut self) -> String {
        let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.now());
        format!("(attribute_exists({pk}) AND (attribute_not_exists({ttl}) OR {ttl} > {now}))")
    }

    /// No live item is at the key: nothing, or an expired item.
    pub(super) fn gone(&mut self) -> String {
        let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.now());
        format!("(attribute_not_exists({pk}) OR {ttl} <= {now})")
    }

    /// Nothing or a live item is at the key, i.e. not an expired one.
    pub(super) fn not_expired(&mut self) -> String {
        let (pk, ttl, now) = (self.name(PK), self.name(TTL), self.now());
        format!("(attribute_not_exists({pk}) OR attribute_not_exists({ttl}) OR {ttl} > {now})")
    }

    /// The filter that keeps only unexpired items (of a query, where every item exists).
    pub(super) fn unexpired(&mut self) -> String {
        let (ttl, now) = (self.name(TTL), self.now());
        format!("(attribute_not_exists({ttl}) OR {ttl} > {now})")
    }

    /// An always-true condition (for a check with no guard).
    pub(super) fn always(&mut self) -> String {
        let pk = self.name(PK);
        format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
    }

    /// The two maps, each `None` when empty (DynamoDB rejects empty maps).
    pub(super) fn finish(self) -> (Option<HashMap<String, String>>, Option<Attributes>) {
        let names = (!self.names.is_empty()).then_some(self.names);
        let values = (!self.values.is_empty()).then_some(self.values);
        (names, values)
    }
}

/// The condition expression of a guard, or `None` for [`Condition::None`]. Mirrors
/// [`condition_holds`](crate::store::condition_holds) with expired items treated as absent.
pub(super) fn condition_expression(condition: &Condition, expr: &mut Expr) -> Option<String> {
    match condition {
        Condition::None => None,
        Condition::NotExists => Some(expr.gone()),
        Condition::Exists => Some(expr.live()),
        Condition::Equals(name, value) => {
            let live = expr.live();
            let name = expr.name(name);
            let value = expr.value(value_to_attribute(value));
            Some(format!("({live} AND {name} = {value})"))
        }
        Condition::AllEqual(pairs) => {
            let mut parts = vec![expr.live()];
            for (name, value) in pairs {
                let name = expr.name(name);
                let value = expr.value(value_to_attribute(value));
                parts.push(format!("{name} = {value}"));
            }
            Some(format!("({})", parts.join(" AND ")))
        }
        Condition::Below(name, limit) => {
            let gone = expr.gone();
            let name = expr.name(name);
            let number = expr.value(AttributeValue::S("N".into()));
            let limit = expr.value(AttributeValue::N(limit.to_string()));
            // A non-numeric attribute fails, as in `condition_holds`. The type test comes first so
            // the comparison only ever sees numbers (moto fails on a string compared with a number).
            Some(format!(
                "({gone} OR attribute_not_exists({name}) OR (attribute_type({name}, {number}) AND {name} < {limit}))"
            ))
        }
    }
}

/// An UpdateItem request's expressions: the update clauses and the caller's condition joined to
/// the implicit guard that the item is not expired.
#[derive(Debug)]
pub(super) struct UpdateRequest {
    pub(super) update: String,
    pub(super) condition: String,
    pub(super) names: Option<HashMap<String, String>>,
    pub(super) values: Option<Attributes>,
}

impl UpdateRequest {
    pub(super) fn new(update: &Update, condition: &Condition, now: i64) -> Self {
        let mut expr = Expr::new(now);
        let text = update_expression(update, &mut expr);
        let guard = expr.not_expired();
        let condition = match condition_expression(condition, &mut expr) {
            Some(own) => format!("{guard} AND {own}"),
            None => guard,
        };
        let (names, values) = expr.finish();
        Self {
            update: text,
            condition,
            names,
            values,
        }
    }
}

/// `SET … REMOVE … ADD …` for an update. One that changes nothing removes [`NOOP_ATTRIBUTE`], so an
/// absent item is still created with its key alone, as [`Update::apply`] does.
pub(super) fn update_expression(update: &Update, expr: &mut Expr) -> String {
    let mut set = Vec::new();
    let mut remove = Vec::new();
    let mut add = Vec::new();
    for (name, value) in &update.set {
        let name = expr.name(name);
        let value = expr.value(value_to_attribute(value));
        set.push(format!("{name} = {value}"));
    }
    match update.expires_at {
        Some(Some(at)) => {
            let name = expr.name(TTL);
            let value = expr.value(AttributeValue::N(at.to_string()));
            set.push(format!("{name} = {value}"));
        }
        Some(None) => remove.push(expr.name(TTL)),
        None => {}
    }
    if let Some(index) = &update.gsi1 {
        for (attribute, part) in [(GSI1_PK, &index.pk), (GSI1_SK, &index.sk)] {
            let name = expr.name(attribute);
            let value = expr.value(AttributeValue::S(part.clone()));
            set.push(format!("{name} = {value}"));
        }
    }
    for name in &update.remove {
        remove.push(expr.name(name));
    }
    if set.is_empty() && remove.is_empty() && update.add.is_empty() {
        remove.push(expr.name(NOOP_ATTRIBUTE));
    }
    for (name, delta) in &update.add {
        let name = expr.name(name);
        let value = expr.value(AttributeValue::N(delta.to_string()));
        add.push(format!("{name} {value}"));
    }
    let clauses: Vec<String> = [("SET", set), ("REMOVE", remove), ("ADD", add)]
        .into_iter()
        .filter(|(_, parts)| !parts.is_empty())
        .map(|(verb, parts)| format!("{verb} {}", parts.join(", ")))
        .collect();
    clauses.join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_exact, render, NOW};
    use super::*;
    use crate::store::{validate, Key, Value};

    fn condition(
        c: &Condition,
    ) -> (
        Option<String>,
        Option<HashMap<String, String>>,
        Option<Attributes>,
    ) {
        let mut expr = Expr::new(NOW);
        let text = condition_expression(c, &mut expr);
        let (names, values) = expr.finish();
        (text, names, values)
    }

    #[test]
    fn conditions_treat_expired_items_as_absent() {
        let (text, names, values) = condition(&Condition::None);
        assert!(text.is_none() && names.is_none() && values.is_none());

        let (text, names, values) = condition(&Condition::NotExists);
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!("(attribute_not_exists(pk) OR ttl <= {NOW})")
        );

        let (text, names, values) = condition(&Condition::Exists);
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!("(attribute_exists(pk) AND (attribute_not_exists(ttl) OR ttl > {NOW}))")
        );

        let (text, names, values) = condition(&Condition::Equals("status".into(), "open".into()));
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!(
                "((attribute_exists(pk) AND (attribute_not_exists(ttl) OR ttl > {NOW})) AND status = 'open')"
            )
        );

        let (text, names, values) = condition(&Condition::Below("count".into(), 5));
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!(
                "((attribute_not_exists(pk) OR ttl <= {NOW}) OR attribute_not_exists(count) OR (attribute_type(count, 'N') AND count < 5))"
            )
        );
    }

    #[test]
    fn all_equal_requires_a_live_item_and_every_value() {
        let (text, names, values) = condition(&Condition::AllEqual(vec![
            ("generation".into(), Value::N(3)),
            ("revoked".into(), Value::Bool(false)),
        ]));
        let text = text.unwrap();
        assert_exact(&[&text], &names, &values);
        assert_eq!(
            render(&text, &names, &values),
            format!(
                "((attribute_exists(pk) AND (attribute_not_exists(ttl) OR ttl > {NOW})) AND generation = 3 AND revoked = Bool(false))"
            )
        );
    }

    #[test]
    fn every_attribute_name_goes_through_a_placeholder() {
        // `name`, `status`, `count` and `ttl` are DynamoDB reserved words.
        let update = Update::default()
            .set("name", "x")
            .set("status", "y")
            .remove("comment")
            .add("count", 1);
        let request =
            UpdateRequest::new(&update, &Condition::Equals("name".into(), "x".into()), NOW);
        let texts = [request.update.as_str(), request.condition.as_str()];
        for text in texts {
            for word in ["name", "status", "count", "comment", "ttl", "pk"] {
                let bare = text
                    .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .any(|token| token == word);
                assert!(!bare, "`{word}` appears unescaped in {text}");
            }
        }
        assert_exact(&texts, &request.names, &request.values);
    }

    #[test]
    fn update_expression_has_set_remove_add_and_guard() {
        let update = Update::default()
            .set("a", "x")
            .set("b", 3_i64)
            .remove("c")
            .add("d", -2)
            .expire_at(NOW + 10)
            .index(Key::new("G", "H"));
        let request = UpdateRequest::new(&update, &Condition::None, NOW);
        let text = request.update.clone();
        assert_exact(
            &[&text, &request.condition],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&text, &request.names, &request.values),
            format!(
                "SET a = 'x', b = 3, ttl = {}, gsi1pk = 'G', gsi1sk = 'H' REMOVE c ADD d -2",
                NOW + 10
            )
        );
        assert_eq!(
            render(&request.condition, &request.names, &request.values),
            format!("(attribute_not_exists(pk) OR attribute_not_exists(ttl) OR ttl > {NOW})")
        );

        let clear = Update {
            expires_at: Some(None),
            ..Update::default()
        };
        let request = UpdateRequest::new(&clear, &Condition::NotExists, NOW);
        let text = request.update.clone();
        assert_exact(
            &[&text, &request.condition],
            &request.names,
            &request.values,
        );
        assert_eq!(render(&text, &request.names, &request.values), "REMOVE ttl");
        assert_eq!(
            render(&request.condition, &request.names, &request.values),
            format!(
                "(attribute_not_exists(pk) OR attribute_not_exists(ttl) OR ttl > {NOW}) AND (attribute_not_exists(pk) OR ttl <= {NOW})"
            )
        );
    }

    #[test]
    fn empty_update_removes_an_impossible_attribute() {
        let request = UpdateRequest::new(&Update::default(), &Condition::None, NOW);
        assert_exact(
            &[&request.update, &request.condition],
            &request.names,
            &request.values,
        );
        assert_eq!(
            render(&request.update, &request.names, &request.values),
            "REMOVE store-noop"
        );
        assert!(validate::attribute_name(NOOP_ATTRIBUTE).is_err());
        // The current time is one shared value, not one per use.
        assert_eq!(request.values.as_ref().map(HashMap::len), Some(1));
    }
}
