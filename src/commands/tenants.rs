//! `fluxion tenants create|list|delete`.

use crate::cli::TenantsCommand;
use crate::settings::Settings;
use fluxion_domain::TenantSlug;
use serde::Serialize;

#[derive(Serialize)]
struct TenantLine {
    slug: String,
    name: String,
    id: String,
    created_at: String,
    counts: fluxion_memory::TableCounts,
}

pub async fn run(settings: &Settings, cmd: TenantsCommand, json: bool) -> anyhow::Result<()> {
    let store = crate::app::open_store(settings).await?;
    match cmd {
        TenantsCommand::Create { slug, name } => {
            let slug = TenantSlug::parse(&slug)?;
            let name = name.unwrap_or_else(|| slug.to_string());
            let tenant = store.create_tenant(&slug, &name).await?;
            if json {
                super::print_json(&tenant)?;
            } else {
                println!("Tenant {} creado ({}).", tenant.slug, tenant.name);
            }
        }
        TenantsCommand::List => {
            let mut lines = Vec::new();
            for t in store.tenants().await? {
                let counts = store.scope(&t.slug).await?.counts().await?;
                lines.push(TenantLine {
                    slug: t.slug.to_string(),
                    name: t.name,
                    id: t.id.to_string(),
                    created_at: t.created_at.to_rfc3339(),
                    counts,
                });
            }
            if json {
                super::print_json(&lines)?;
            } else if lines.is_empty() {
                println!("No hay tenants todavía. Cree uno con `fluxion tenants create <slug>` o `fluxion demo`.");
            } else {
                println!("{:<20} {:<32} {:>7} {:>9} {:>11}", "SLUG", "NOMBRE", "TIENDAS", "PRODUCTOS", "VENTAS");
                for l in lines {
                    println!(
                        "{:<20} {:<32} {:>7} {:>9} {:>11}",
                        l.slug, l.name, l.counts.locations, l.counts.products, l.counts.sales
                    );
                }
            }
        }
        TenantsCommand::Delete { slug, yes } => {
            let slug = TenantSlug::parse(&slug)?;
            if !yes {
                return Err(crate::bad_input(format!(
                    "deleting tenant {slug} erases all of its data: repeat with --yes to confirm"
                )));
            }
            store.delete_tenant(&slug).await?;
            if json {
                super::print_json(&serde_json::json!({ "deleted": slug }))?;
            } else {
                println!("Tenant {slug} eliminado.");
            }
        }
    }
    Ok(())
}
