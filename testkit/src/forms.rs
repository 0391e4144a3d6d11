//! The portal's HTML forms read the way a browser without JavaScript reads them: the form's
//! `action` and its hidden fields (`csrf_token`, `request`, a link's `token`), entities decoded.
//! The one form parser of the tests, the end-to-end browser and the load generator.

/// The value of the hidden (or any) input named `name`, HTML entities decoded.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let at = html.find(&needle)?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    attribute(&html[tag_start..tag_end], "value")
}

/// The `action` of the page's first form.
pub fn form_action(html: &str) -> Option<String> {
    let start = html.find("<form")?;
    let end = start + html[start..].find('>')?;
    attribute(&html[start..end], "action")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(decode_entities(&tag[start..end]))
}

/// Decodes the entities a template engine writes into attribute values.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let Some(semi) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = &after[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<main><h1>Sign in</h1><form method="post" action="login">
<input type="hidden" name="csrf_token" value="abc_-123">
<input type="hidden" name="request" value="k1.a&#43;b&amp;c">
<input type="email" id="email" name="email" value="" required></form></main>"#;

    #[test]
    fn hidden_fields_and_the_action_are_scraped_and_decoded() {
        assert_eq!(
            hidden_field(PAGE, "csrf_token").as_deref(),
            Some("abc_-123")
        );
        assert_eq!(hidden_field(PAGE, "request").as_deref(), Some("k1.a+b&c"));
        assert_eq!(hidden_field(PAGE, "email").as_deref(), Some(""));
        assert_eq!(hidden_field(PAGE, "missing"), None);
        assert_eq!(form_action(PAGE).as_deref(), Some("login"));
    }

    #[test]
    fn entities_decode_and_stray_ampersands_survive() {
        assert_eq!(
            decode_entities("a&#60;b&#x3E;&quot;&bogus;&"),
            "a<b>\"&bogus;&"
        );
    }
}
