//! The exported schema is current, and covers the public contract.

use std::collections::HashMap;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

/// Contract parts not delivered yet: the catalog preview and publishing, Open Badges credentials
/// and webhooks (issue 36; its explained progress, `Achievement.conditions`, is served).
const LATER_TYPES: &[&str] = &[
    "CatalogChange",
    "WebhookEvent",
    "OpenBadgeCredential",
    "CatalogPreview",
    "BadgeChange",
    "WebhookInput",
    "Webhook",
    "WebhookDelivery",
];
const LATER_FIELDS: &[&str] = &[
    "Query.webhooks",
    "Badge.credential",
    "Mutation.previewBadgeCatalog",
    "Mutation.publishBadgeCatalog",
    "Mutation.createWebhook",
    "Mutation.deleteWebhook",
];

/// type name -> (member name -> signature); members are fields (with arguments) or enum values.
fn members(sdl: &str) -> HashMap<String, HashMap<String, String>> {
    let doc = parse_schema(sdl).expect("valid SDL");
    let mut out = HashMap::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = t.node;
        let mut m = HashMap::new();
        match t.kind {
            TypeKind::Object(o) => {
                for f in o.fields {
                    let f = f.node;
                    let args: Vec<_> = f
                        .arguments
                        .iter()
                        .map(|a| format!("{}: {}", a.node.name.node, a.node.ty.node))
                        .collect();
                    m.insert(
                        f.name.node.to_string(),
                        format!("({}) {}", args.join(", "), f.ty.node),
                    );
                }
            }
            TypeKind::InputObject(o) => {
                for f in o.fields {
                    m.insert(f.node.name.node.to_string(), f.node.ty.node.to_string());
                }
            }
            TypeKind::Enum(e) => {
                for v in e.values {
                    m.insert(v.node.value.node.to_string(), String::new());
                }
            }
            TypeKind::Scalar => {}
            other => panic!("unexpected kind {other:?}"),
        }
        out.insert(t.name.node.to_string(), m);
    }
    out
}

#[test]
fn schema_file_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == progress_dashboard::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- export-schema`"
    );
}

#[test]
fn schema_covers_the_contract() {
    let contract = members(include_str!("../contract.graphql"));
    let ours = members(&progress_dashboard::graphql::sdl());
    let mut missing = Vec::new();
    for (ty, fields) in &contract {
        if LATER_TYPES.contains(&ty.as_str()) {
            continue;
        }
        let Some(have) = ours.get(ty) else {
            missing.push(format!("type {ty}"));
            continue;
        };
        for (name, sig) in fields {
            if LATER_FIELDS.contains(&format!("{ty}.{name}").as_str()) {
                continue;
            }
            match have.get(name) {
                None => missing.push(format!("{ty}.{name}")),
                Some(s) if s != sig => {
                    missing.push(format!("{ty}.{name}: contract {sig}, ours {s}"))
                }
                _ => {}
            }
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "not as the contract says:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_field_is_described() {
    let sdl = progress_dashboard::graphql::sdl();
    let doc = parse_schema(&sdl).unwrap();
    let mut bare = Vec::new();
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = t.node;
        if let TypeKind::Object(o) = &t.kind {
            for f in &o.fields {
                if f.node.description.is_none() {
                    bare.push(format!("{}.{}", t.name.node, f.node.name.node));
                }
            }
        }
    }
    assert!(bare.is_empty(), "fields without a description: {bare:?}");
}
