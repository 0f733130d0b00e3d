//! Markdown as HTML that is safe to put in a page: rendered with pulldown-cmark (tables,
//! strikethrough, task lists), then sanitized with ammonia (no scripts, no event handlers, no
//! `javascript:` links; links get `rel="noopener noreferrer"`).

use pulldown_cmark::{Options, Parser, html};

/// `source` rendered and sanitized.
pub fn render(source: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(source, options));
    // Task-list boxes are the one input kept: always a disabled checkbox, whatever was written.
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .add_tags(["input"])
        .add_tag_attributes("input", ["checked"])
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "")
        .clean(&unsafe_html)
        .to_string()
}

/// A search highlight (text with matched words in `<b>`) reduced to exactly that: any other
/// markup is dropped.
pub fn highlight(fragment: &str) -> String {
    ammonia::Builder::empty()
        .add_tags(["b"])
        .clean_content_tags(["script", "style"].into_iter().collect())
        .clean(fragment)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_scripts_do_not_survive() {
        let html = render(
            "# Title\n\n**bold** [x](javascript:alert(1)) <script>alert(1)</script> <img src=x onerror=alert(1)>",
        );
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
    }

    #[test]
    fn tables_and_task_lists_render() {
        let html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("checkbox") && html.contains("disabled"), "{html}");
        let forged = render("<input type=\"text\" name=\"password\" onfocus=\"x()\">");
        assert!(!forged.contains("text") && !forged.contains("onfocus") && !forged.contains("name="), "{forged}");
    }

    #[test]
    fn highlights_keep_only_bold() {
        assert_eq!(highlight("a <b>match</b> <i>x</i><script>y</script>"), "a <b>match</b> x");
    }
}
