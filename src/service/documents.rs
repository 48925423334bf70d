//! The downloadable report: cached per (analysis, format, sections, dashboard version), rate
//! limited per client and per analysis, rendered off the async workers.

use std::net::IpAddr;
use std::num::NonZeroU32;

use crate::domain::ids::AnalysisId;
use chrono::{DateTime, Utc};

use crate::cache::ttl;
use crate::domain::reports::{DocumentFormat, Lang, Section};
use crate::error::{AppError, AppResult};
use crate::reports::content::ReportContent;
use crate::reports::render;
use crate::series;
use crate::service::limiter::{client_key, KeyedLimit, MAX_KEYS};
use crate::service::Services;

/// `pdf` or `html`; PDF when absent or empty.
pub fn parse_format(value: Option<&str>) -> AppResult<DocumentFormat> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(DocumentFormat::default()),
        Some(v) => DocumentFormat::parse(v).ok_or_else(|| {
            let shown: String = v.chars().take(40).collect();
            AppError::invalid_input(format!("format must be pdf or html, got {shown:?}"))
        }),
    }
}

/// `fr` or `en`; French when absent or empty.
pub fn parse_lang(value: Option<&str>) -> AppResult<Lang> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(Lang::default()),
        Some(v) => Lang::parse(v).ok_or_else(|| AppError::invalid_input("lang must be fr or en")),
    }
}

/// `summary,badges` → the known sections in document order; all of them when absent, empty or
/// `all` (the specification's default). Names are exact and comma-separated (the pattern
/// `generateReport` declares in the OpenAPI document).
pub fn parse_sections(value: Option<&str>) -> AppResult<Vec<Section>> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(Section::ALL.to_vec());
    };
    let mut asked = Vec::new();
    for name in value.split(',') {
        if name == "all" {
            return Ok(Section::ALL.to_vec());
        }
        let section = Section::parse(name).ok_or_else(|| {
            let names: Vec<&str> = Section::ALL.iter().map(|s| s.as_str()).collect();
            let shown: String = name.chars().take(40).collect();
            AppError::invalid_input(format!(
                "unknown section {shown:?}: choose from all, {} (comma-separated)",
                names.join(", ")
            ))
        })?;
        asked.push(section);
    }
    asked.sort();
    asked.dedup();
    Ok(asked)
}

/// The document limits of one instance: per client first, then a generous one per analysis
/// (all clients together), so that no one client can lock an analysis's downloads. Checked only
/// when a document is about to be rendered: after the analysis is known to exist and the cache
/// had no copy.
pub struct DocumentLimits {
    per_client: KeyedLimit<IpAddr>,
    per_analysis: KeyedLimit<AnalysisId>,
}

impl DocumentLimits {
    pub fn new(per_client: NonZeroU32, per_analysis: NonZeroU32) -> Self {
        Self {
            per_client: KeyedLimit::per_minute(per_client, MAX_KEYS),
            per_analysis: KeyedLimit::per_minute(per_analysis, MAX_KEYS),
        }
    }

    pub fn check(&self, client: IpAddr, analysis_id: AnalysisId) -> AppResult<()> {
        let refused = |scope| {
            move |retry_after_secs| {
                series::rate_limited(scope);
                AppError::RateLimited { retry_after_secs }
            }
        };
        self.per_client
            .check(&client_key(client))
            .map_err(refused("report_client"))?;
        self.per_analysis
            .check(&analysis_id)
            .map_err(refused("report_analysis"))
    }
}

pub struct Document {
    pub bytes: Vec<u8>,
    pub format: DocumentFormat,
    pub cached: bool,
}

pub async fn document(
    services: &Services,
    client: IpAddr,
    analysis_id: AnalysisId,
    format: DocumentFormat,
    sections: Vec<Section>,
    lang: Lang,
    now: DateTime<Utc>,
) -> AppResult<Document> {
    let data = services
        .dashboards
        .load(&[analysis_id])
        .await?
        .remove(&analysis_id)
        .ok_or(AppError::AnalysisNotFound(analysis_id))?;
    let version = data.analysis.version;
    // its date and its weekly chart move on with the local day, whatever the version
    let day = data.analysis.time_zone.day_of(now);
    let key = services.dashboards.cache().map(|c| {
        c.key(&format!(
            "report:{analysis_id}:{}:{}:{}:{version}:{day}",
            format.as_str(),
            lang.as_str(),
            sections
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ))
    });
    if let (Some(cache), Some(key)) = (services.dashboards.cache(), &key) {
        if let Some(bytes) = cache
            .get_many(std::slice::from_ref(key))
            .await
            .pop()
            .flatten()
        {
            return Ok(Document {
                bytes,
                format,
                cached: true,
            });
        }
    }
    services.document_limits.check(client, analysis_id)?;
    let log = crate::service::history::log(services, analysis_id, data.analysis.version).await?;
    let content = ReportContent::new(&data, lang, now, None, None)
        .with_history(&data, &log, None, now)
        .with_sections(&sections);
    let bytes = match format {
        DocumentFormat::Html => render::html_document(&content)
            .map_err(AppError::Internal)?
            .into_bytes(),
        DocumentFormat::Pdf => {
            // the render's span goes under this request's, on the blocking thread too
            let span = tracing::Span::current();
            tokio::task::spawn_blocking(move || span.in_scope(|| render::pdf_document(&content)))
        }
        .await
        .map_err(AppError::internal)?
        .ok_or_else(|| {
            AppError::invalid_input("this server was built without PDF support; use format=html")
        })?
        .map_err(AppError::Internal)?,
    };
    if let (Some(cache), Some(key)) = (services.dashboards.cache(), &key) {
        cache.put(key, version, bytes.clone(), ttl::REPORT).await;
    }
    Ok(Document {
        bytes,
        format,
        cached: false,
    })
}
