//! `fluxion users add|list|disable` and `fluxion api-keys create|list|revoke`: accounts from the
//! command line (the first owner of a tenant, operators, keys for integrations), and the demo users.

use crate::cli::{ApiKeysCommand, UsersCommand};
use crate::settings::Settings;
use anyhow::Context;
use chrono::Utc;
use fluxion_domain::{Tenant, TenantSlug};
use fluxion_memory::{Role, Scope, Store, UserRecord};
use secrecy::ExposeSecret;
use uuid::Uuid;

/// Creates the demo tenant's owner, manager and viewer if they are missing (and a demo password is set).
pub async fn ensure_demo_users(settings: &Settings, store: &dyn Store, tenant: &Tenant) -> anyhow::Result<()> {
    let password = settings.auth.demo_password.expose_secret();
    if password.is_empty() {
        return Ok(());
    }
    let auth = crate::app::auth_config(settings)?;
    for (local, name, role) in [
        ("dueno", "Dueña demo", Role::Owner),
        ("gerente", "Gerente demo", Role::Manager),
        ("consulta", "Consulta demo", Role::Viewer),
    ] {
        let email = format!("{local}@{}.fluxion.local", tenant.slug.as_str().replace('_', "-"));
        if store.accounts().user_by_email(&email).await?.is_some() {
            continue;
        }
        let (auth, pw) = (auth.clone(), password.to_owned());
        let password_hash = tokio::task::spawn_blocking(move || auth.hash_password(&pw))
            .await?
            .map_err(|_| anyhow::anyhow!("password hashing failed"))?;
        let user = UserRecord {
            id: Uuid::new_v4(),
            tenant: Some(tenant.id),
            email: email.clone(),
            name: name.into(),
            role,
            password_hash,
            disabled: false,
            created_at: Utc::now(),
        };
        store.accounts().create_user(&user).await?;
        tracing::info!(%email, role = %role, "demo user created");
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("FLUXION_NEW_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn tenant_of(store: &dyn Store, slug: &str) -> anyhow::Result<Tenant> {
    let slug = TenantSlug::parse(slug).map_err(|e| crate::bad_input(e.to_string()))?;
    store.tenant(&slug).await?.ok_or_else(|| crate::bad_input(format!("tenant {slug} does not exist")))
}

pub async fn run_users(settings: &Settings, cmd: UsersCommand, json: bool) -> anyhow::Result<()> {
    let store = crate::app::open_store(settings).await?;
    match cmd {
        UsersCommand::Add { tenant, email, name, role } => {
            let role = Role::parse(&role)
                .ok_or_else(|| crate::bad_input(format!("--role {role:?}: owner, manager, viewer or operator")))?;
            let tenant = match (&tenant, role) {
                (None, Role::Operator) => None,
                (Some(t), r) if r != Role::Operator => Some(tenant_of(&*store, t).await?),
                _ => return Err(crate::bad_input("operators have no --tenant; every other role needs one")),
            };
            let email = fluxion_gateway::auth::normalize_email(&email)
                .ok_or_else(|| crate::bad_input(format!("--email {email:?} is not an email address")))?;
            let password = read_password()?;
            if !fluxion_gateway::auth::PASSWORD_CHARS.contains(&password.chars().count()) {
                return Err(crate::bad_input("the password must have 10 to 256 characters"));
            }
            let auth = crate::app::auth_config(settings)?;
            let password_hash = tokio::task::spawn_blocking(move || auth.hash_password(&password))
                .await?
                .map_err(|_| anyhow::anyhow!("password hashing failed"))?;
            let user = UserRecord {
                id: Uuid::new_v4(),
                tenant: tenant.as_ref().map(|t| t.id),
                email: email.clone(),
                name: name.unwrap_or_else(|| email.clone()),
                role,
                password_hash,
                disabled: false,
                created_at: Utc::now(),
            };
            store.accounts().create_user(&user).await.map_err(|e| match e {
                fluxion_memory::StoreError::Conflict(_) => {
                    crate::bad_input(format!("a user with email {email} exists"))
                }
                other => other.into(),
            })?;
            if json {
                super::print_json(&serde_json::json!({"id": user.id, "email": email, "role": role.as_str()}))?;
            } else {
                println!("Usuario {email} creado ({role}).");
            }
        }
        UsersCommand::List { tenant } => {
            let tenant = match tenant {
                Some(t) => Some(tenant_of(&*store, &t).await?.id),
                None => None,
            };
            let users = store.accounts().users(tenant).await?;
            let contacts = match tenant {
                Some(t) => store.messaging().contacts(t).await?,
                None => Vec::new(),
            };
            let phone_of = |id: Uuid| contacts.iter().find(|c| c.user == id);
            let lines: Vec<_> = users
                .iter()
                .map(|u| {
                    let c = phone_of(u.id);
                    serde_json::json!({"id": u.id, "email": u.email, "name": u.name, "role": u.role.as_str(),
                        "disabled": u.disabled, "whatsapp": c.map(|c| &c.phone),
                        "whatsapp_stores": c.map(|c| &c.stores), "whatsapp_alerts": c.map(|c| c.alerts)})
                })
                .collect();
            if json {
                super::print_json(&lines)?;
            } else {
                for u in &users {
                    println!(
                        "{:<40} {:<9} {:<16} {}",
                        u.email,
                        u.role.as_str(),
                        phone_of(u.id).map(|c| format!("+{}", c.phone)).unwrap_or_default(),
                        if u.disabled { "desactivado" } else { "" }
                    );
                }
            }
        }
        UsersCommand::Whatsapp { email, phone, stores, no_alerts, remove } => {
            let user = store
                .accounts()
                .user_by_email(&email)
                .await?
                .ok_or_else(|| crate::bad_input(format!("no user has the email {email}")))?;
            let Some(tenant) = user.tenant else {
                return Err(crate::bad_input("operators do not use WhatsApp"));
            };
            if remove {
                let removed = store.messaging().delete_contact(tenant, user.id).await?;
                println!("{}", if removed { "Número eliminado." } else { "Ese usuario no tenía número." });
                return Ok(());
            }
            let raw = phone.unwrap_or_default();
            let phone = fluxion_memory::normalize_phone(&raw).ok_or_else(|| {
                crate::bad_input(format!("--phone {raw:?}: a number with its country code, e.g. +58 414 123 4567"))
            })?;
            let stores: Vec<String> = match stores {
                Some(list) => {
                    let t = store.tenant_by_id(tenant).await?.context("the user's tenant is gone")?;
                    let scoped = store.scope(&t.slug).await?;
                    let known: Vec<String> =
                        scoped.locations().await?.into_iter().map(|l| l.code.to_string()).collect();
                    let mut out = Vec::new();
                    for code in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                        let code = fluxion_domain::LocationCode::parse(code)
                            .map(|c| c.to_string())
                            .map_err(|e| crate::bad_input(format!("--stores: {code:?}: {e}")))?;
                        if !known.contains(&code) {
                            return Err(crate::bad_input(format!("--stores: {code} is not a store of this tenant")));
                        }
                        out.push(code);
                    }
                    out
                }
                None => Vec::new(),
            };
            let contact = fluxion_memory::Contact {
                phone: phone.clone(),
                user: user.id,
                tenant,
                stores,
                alerts: !no_alerts,
                created_at: Utc::now(),
            };
            store.messaging().save_contact(&contact).await.map_err(|e| match e {
                fluxion_memory::StoreError::Conflict(_) => {
                    crate::bad_input(format!("+{phone} is already another user's number"))
                }
                other => other.into(),
            })?;
            if json {
                super::print_json(
                    &serde_json::json!({"user": user.id, "phone": phone, "stores": contact.stores, "alerts": contact.alerts}),
                )?;
            } else {
                println!("WhatsApp de {email}: +{phone}.");
            }
        }
    }
    Ok(())
}

pub async fn run_keys(settings: &Settings, cmd: ApiKeysCommand, json: bool) -> anyhow::Result<()> {
    let store = crate::app::open_store(settings).await?;
    match cmd {
        ApiKeysCommand::Create { tenant, name, scopes, rate_per_minute } => {
            let tenant = tenant_of(&*store, &tenant).await?;
            let mut parsed = Vec::new();
            for s in scopes.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let scope = Scope::parse(s)
                    .ok_or_else(|| crate::bad_input(format!("--scopes: {s:?} is not read, ingest, ask or act")))?;
                if !parsed.contains(&scope) {
                    parsed.push(scope);
                }
            }
            if parsed.is_empty() {
                return Err(crate::bad_input("--scopes needs at least one of read, ingest, ask, act"));
            }
            parsed.sort();
            let (record, key) = fluxion_gateway::auth::issue_api_key(tenant.id, name, parsed, rate_per_minute, None);
            store.accounts().create_api_key(&record).await?;
            if json {
                super::print_json(&serde_json::json!({"id": record.id, "prefix": record.prefix, "key": key}))?;
            } else {
                println!("Clave creada. Guárdala ahora: no se volverá a mostrar.\n{key}");
            }
        }
        ApiKeysCommand::List { tenant } => {
            let tenant = tenant_of(&*store, &tenant).await?;
            let keys = store.accounts().api_keys(tenant.id).await?;
            let lines: Vec<_> = keys
                .iter()
                .map(|k| serde_json::json!({"id": k.id, "name": k.name, "prefix": k.prefix,
                    "scopes": k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(), "revoked": k.revoked_at.is_some()}))
                .collect();
            if json {
                super::print_json(&lines)?;
            } else {
                for k in &keys {
                    println!(
                        "{:<16} {:<30} {}",
                        k.prefix,
                        k.name,
                        if k.revoked_at.is_some() { "revocada" } else { "activa" }
                    );
                }
            }
        }
        ApiKeysCommand::Revoke { tenant, id } => {
            let tenant = tenant_of(&*store, &tenant).await?;
            let id = Uuid::parse_str(&id).map_err(|_| crate::bad_input(format!("{id:?} is not a key id")))?;
            if !store.accounts().revoke_api_key(tenant.id, id, Utc::now()).await? {
                return Err(crate::bad_input(format!("tenant {} has no active key {id}", tenant.slug)));
            }
            println!("Clave revocada.");
        }
    }
    Ok(())
}
