//! Rendering: minijinja templates from `templates/` for the emails and the HTML document, typst
//! for the PDF (behind the `pdf` feature).

use std::sync::LazyLock;

use minijinja::Environment;

use super::content::ReportContent;
use crate::error::BoxError;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        (
            "email.html",
            include_str!("../../templates/email/report.html.j2"),
        ),
        (
            "email.txt",
            include_str!("../../templates/email/report.txt.j2"),
        ),
        (
            "report.html",
            include_str!("../../templates/report/report.html.j2"),
        ),
    ] {
        env.add_template(name, source).expect("templates parse");
    }
    env
});

fn render(name: &str, content: &ReportContent) -> Result<String, BoxError> {
    Ok(TEMPLATES.get_template(name)?.render(content)?)
}

/// Runs one render, counted and timed under `format` (`report_renders_total`).
fn timed<T>(format: &'static str, render: impl FnOnce() -> T) -> T {
    let _span = tracing::debug_span!(
        "render",
        otel.name = %format_args!("render {format}"),
        report.format = format
    )
    .entered();
    let started = std::time::Instant::now();
    let out = render();
    crate::series::report_render(format, started.elapsed());
    out
}

/// The email's HTML and plain-text bodies.
pub fn email(content: &ReportContent) -> Result<(String, String), BoxError> {
    timed("email", || {
        Ok((
            render("email.html", content)?,
            render("email.txt", content)?,
        ))
    })
}

/// The downloadable report as an HTML page.
pub fn html_document(content: &ReportContent) -> Result<String, BoxError> {
    timed("html", || render("report.html", content))
}

#[cfg(feature = "pdf")]
mod pdf {
    use std::sync::LazyLock;

    use typst::foundations::{Dict, IntoValue};
    use typst_as_lib::typst_kit_options::TypstKitFontOptions;
    use typst_as_lib::{TypstEngine, TypstTemplateMainFile};
    use typst_layout::PagedDocument;

    use super::ReportContent;
    use crate::error::BoxError;

    /// Fonts are loaded once: the embedded typst fonts, no system fonts.
    static ENGINE: LazyLock<TypstEngine<TypstTemplateMainFile>> = LazyLock::new(|| {
        TypstEngine::builder()
            .main_file(include_str!("../../templates/report/report.typ"))
            .search_fonts_with(
                TypstKitFontOptions::default()
                    .include_system_fonts(false)
                    .include_embedded_fonts(true),
            )
            .build()
    });

    /// CPU work: call it from a blocking task.
    pub fn render(content: &ReportContent) -> Result<Vec<u8>, BoxError> {
        let mut inputs = Dict::new();
        inputs.insert("data".into(), serde_json::to_string(content)?.into_value());
        let doc: PagedDocument = ENGINE
            .compile_with_input(inputs)
            .output
            .map_err(|e| format!("typst: {e:?}"))?;
        typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
            .map_err(|e| format!("pdf: {e:?}").into())
    }
}

/// The downloadable report as a PDF; `None` when built without the `pdf` feature.
pub fn pdf_document(content: &ReportContent) -> Option<Result<Vec<u8>, BoxError>> {
    #[cfg(feature = "pdf")]
    return Some(timed("pdf", || pdf::render(content)));
    #[cfg(not(feature = "pdf"))]
    {
        let _ = content;
        None
    }
}
