//! The downloadable report: cached per (analysis, format, sections, dashboard version), rate
//! limited per client and per analysis, rendered off the async workers.

use std::net::IpAddr;
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::app::Services;
use crate::cache::ttl;
use crate::error::{AppError, AppResult};
use crate::reports::content::{Lang, ReportContent, SECTIONS};
use crate::reports::render;
use crate::service::limiter::{client_key, KeyedLimit, MAX_KEYS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Html,
}

impl Format {
    pub fn parse(value: Option<&str>) -> AppResult<Self> {
        match value.unwrap_or("pdf") {
            "pdf" => Ok(Format::Pdf),
            "html" => Ok(Format::Html),
            other => Err(AppError::invalid_input(format!(
                "format must be pdf or html, got {other:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

/// `summary,badges` → the known sections in document order; all of them when absent.
pub fn parse_sections(value: Option<&str>) -> AppResult<Vec<String>> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(SECTIONS.iter().map(|s| s.to_string()).collect());
    };
    let asked: Vec<&str> = value.split(',').map(str::trim).collect();
    if let Some(bad) = asked.iter().find(|s| !SECTIONS.contains(s)) {
        return Err(AppError::invalid_input(format!(
            "unknown section {bad:?}: choose from {}",
            SECTIONS.join(", ")
        )));
    }
    Ok(SECTIONS
        .iter()
        .filter(|s| asked.contains(s))
        .map(|s| s.to_string())
        .collect())
}

/// The document limits of one instance: per client first, then a generous one per analysis
/// (all clients together), so that no one client can lock an analysis's downloads. Checked only
/// when a document is about to be rendered: after the analysis is known to exist and the cache
/// had no copy.
pub struct DocumentLimits {
    per_client: KeyedLimit<IpAddr>,
    per_analysis: KeyedLimit<Uuid>,
}

impl DocumentLimits {
    pub fn new(per_client: NonZeroU32, per_analysis: NonZeroU32) -> Self {
        Self {
            per_client: KeyedLimit::per_minute(per_client, MAX_KEYS),
            per_analysis: KeyedLimit::per_minute(per_analysis, MAX_KEYS),
        }
    }

    pub fn check(&self, client: IpAddr, analysis_id: Uuid) -> AppResult<()> {
        self.per_client
            .check(&client_key(client))
            .and_then(|()| self.per_analysis.check(&analysis_id))
            .map_err(|retry_after_secs| AppError::RateLimited { retry_after_secs })
    }
}

pub struct Document {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub cached: bool,
}

pub async fn document(
    services: &Services,
    client: IpAddr,
    analysis_id: Uuid,
    format: Format,
    sections: Vec<String>,
    lang: Lang,
    now: DateTime<Utc>,
) -> AppResult<Document> {
    let data = services
        .store
        .load(&[analysis_id])
        .await?
        .remove(&analysis_id)
        .ok_or(AppError::AnalysisNotFound(analysis_id))?;
    let version = data.analysis.version;
    let key = services.store.cache().map(|c| {
        c.key(&format!(
            "report:{analysis_id}:{}:{}:{}:{version}",
            format.as_str(),
            lang.as_str(),
            sections.join(",")
        ))
    });
    if let (Some(cache), Some(key)) = (services.store.cache(), &key) {
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
    let content = ReportContent::new(&data, lang, now, None, None).with_sections(sections);
    let bytes = match format {
        Format::Html => render::html_document(&content)
            .map_err(AppError::Internal)?
            .into_bytes(),
        Format::Pdf => tokio::task::spawn_blocking(move || render::pdf_document(&content))
            .await
            .map_err(AppError::internal)?
            .ok_or_else(|| {
                AppError::invalid_input(
                    "this server was built without PDF support; use format=html",
                )
            })?
            .map_err(AppError::Internal)?,
    };
    if let (Some(cache), Some(key)) = (services.store.cache(), &key) {
        cache.put(key, version, bytes.clone(), ttl::REPORT).await;
    }
    Ok(Document {
        bytes,
        format,
        cached: false,
    })
}
