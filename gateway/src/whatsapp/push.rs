//! Alerts pushed without asking: after each scan stores its alerts, the open ones at or above the
//! configured severity go to the owners and managers who opted in and whose stores they concern —
//! grouped by store and kind ("3 productos se agotan pronto en Chacao"), never twice to one number,
//! not during quiet hours, at most `daily_cap` messages per person per local day, as the approved
//! template when the 24-hour window is closed. When the most costly alert of a group has a pending
//! recommendation, the message carries its "SI / NO / Ver detalle" buttons; otherwise "Útil / No útil".

use super::conversation::{Choice, decide_id, rate_id, suggestion_buttons};
use super::messages::{self, Button};
use super::service::WhatsApp;
use chrono::{DateTime, Duration, Timelike, Utc};
use fluxion_domain::format::number;
use fluxion_memory::{
    AlertQuery, AlertStatus, Offer, OutboundMessage, RecommendationQuery, RecommendationStatus, Role, StoreError,
    StoredAlert, Verdict, recommendation_key,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Runs [`push_once`] every `push.every` until `shutdown`.
pub(crate) async fn pusher(wa: Arc<WhatsApp>, shutdown: CancellationToken) {
    loop {
        match push_once(&wa, Utc::now()).await {
            Ok(n) if n > 0 => tracing::info!(messages = n, "alerts pushed on WhatsApp"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "alerts could not be pushed on WhatsApp"),
        }
        tokio::select! {
            () = tokio::time::sleep(wa.config.push.every) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Whether `now` falls in quiet hours (local time).
pub(crate) fn quiet(now: DateTime<Utc>, from: u32, until: u32, offset_hours: i32) -> bool {
    let hour = (now + Duration::hours(i64::from(offset_hours))).hour();
    match from.cmp(&until) {
        std::cmp::Ordering::Less => (from..until).contains(&hour),
        std::cmp::Ordering::Greater => hour >= from || hour < until,
        std::cmp::Ordering::Equal => false,
    }
}

/// The UTC instant of the local day's start.
fn local_midnight(now: DateTime<Utc>, offset_hours: i32) -> DateTime<Utc> {
    let offset = Duration::hours(i64::from(offset_hours));
    let local = (now + offset).date_naive();
    local.and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc() - offset)
}

/// Pushes what is due now; how many messages were queued.
pub async fn push_once(wa: &WhatsApp, now: DateTime<Utc>) -> Result<u32, StoreError> {
    let cfg = &wa.config.push;
    if quiet(now, cfg.quiet_from, cfg.quiet_until, cfg.utc_offset_hours) {
        return Ok(0);
    }
    let messaging = wa.store.messaging();
    let mut queued = 0;
    for tenant in wa.store.tenants().await? {
        let contacts: Vec<_> = messaging.contacts(tenant.id).await?.into_iter().filter(|c| c.alerts).collect();
        if contacts.is_empty() {
            continue;
        }
        let store = wa.store.scope(&tenant.slug).await?;
        let mut open = Vec::new();
        let mut query = AlertQuery { status: Some(AlertStatus::Open), limit: 500, ..Default::default() };
        loop {
            let page = store.alerts(&query).await?;
            open.extend(page.items.into_iter().filter(|a| a.alert.severity >= cfg.min_severity));
            match page.next {
                Some(next) if open.len() < 5_000 => query.before = Some(next),
                _ => break,
            }
        }
        if open.is_empty() {
            continue;
        }
        let names: HashMap<String, String> =
            store.locations().await?.into_iter().map(|l| (l.code.to_string(), l.name)).collect();
        let pending = store
            .recommendations(&RecommendationQuery {
                status: Some(RecommendationStatus::Pending),
                limit: 500,
                ..Default::default()
            })
            .await?
            .items;
        for contact in contacts {
            let Some(user) = wa.store.accounts().user(contact.user).await? else { continue };
            if user.disabled || !matches!(user.role, Role::Owner | Role::Manager) {
                continue;
            }
            let mine: Vec<&StoredAlert> = open.iter().filter(|a| contact.covers(a.alert.store.as_str())).collect();
            if mine.is_empty() {
                continue;
            }
            let ids: Vec<_> = mine.iter().map(|a| a.id).collect();
            let already = messaging.pushed(&contact.phone, &ids).await?;
            let fresh: Vec<&StoredAlert> = mine.into_iter().filter(|a| !already.contains(&a.id)).collect();
            if fresh.is_empty() {
                continue;
            }
            let today =
                messaging.outbox(&contact.phone, Some("alert"), local_midnight(now, cfg.utc_offset_hours)).await?.len();
            let room = (cfg.daily_cap as usize).saturating_sub(today);
            if room == 0 {
                continue;
            }
            // Groups by store and kind, the costliest first.
            let mut groups: BTreeMap<(String, &'static str), Vec<&StoredAlert>> = BTreeMap::new();
            for a in fresh {
                groups.entry((a.alert.store.to_string(), a.alert.kind.as_str())).or_default().push(a);
            }
            let mut groups: Vec<Vec<&StoredAlert>> = groups.into_values().collect();
            for g in &mut groups {
                g.sort_by(|a, b| b.alert.impact_usd.total_cmp(&a.alert.impact_usd));
            }
            groups.sort_by(|a, b| {
                let total = |g: &Vec<&StoredAlert>| g.iter().map(|x| x.alert.impact_usd).sum::<f64>();
                total(b).total_cmp(&total(a))
            });
            for group in groups.into_iter().take(room) {
                let top = group[0];
                let store_name =
                    names.get(top.alert.store.as_str()).cloned().unwrap_or_else(|| top.alert.store.to_string());
                let rec = top.alert.product.as_ref().and_then(|p| {
                    pending.iter().find(|r| {
                        r.recommendation.store == top.alert.store
                            && &r.recommendation.product == p
                            && recommendation_key(&r.recommendation) == r.key
                    })
                });
                let (text, summary) = compose(&group, &store_name, cfg.per_message);
                let action = rec.map_or_else(
                    || top.alert.reason_es.clone(),
                    |r| format!("Sugerencia: {}", r.recommendation.explanation_es),
                );
                let body_text = format!("{text}\n\n{action}");
                let buttons = match rec {
                    Some(r) => suggestion_buttons(r.id),
                    None => vec![
                        Button::new(rate_id(top.id, Verdict::Useful), "Útil"),
                        Button::new(rate_id(top.id, Verdict::Wrong), "No útil"),
                    ],
                };
                let mut ids: Vec<String> = group.iter().map(|a| a.id.to_string()).collect();
                ids.sort();
                let digest = Sha256::digest(ids.join(",").as_bytes());
                let tag: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
                let mut intent = OutboundMessage::new(
                    format!("al:{}:{tag}", contact.phone),
                    &contact.phone,
                    Some(tenant.id),
                    "alert",
                    messages::buttons(&contact.phone, &body_text, &buttons).to_string(),
                );
                let t = &wa.config.templates;
                let quick: Vec<String> = match rec {
                    Some(r) => {
                        vec![decide_id(r.id, Choice::Yes), decide_id(r.id, Choice::No), decide_id(r.id, Choice::Detail)]
                    }
                    None => vec![rate_id(top.id, Verdict::Useful), rate_id(top.id, Verdict::Wrong)],
                };
                intent.fallback = Some(
                    messages::template(
                        &contact.phone,
                        &t.alert,
                        &t.language,
                        &[store_name.clone(), messages::cut(&summary, 300), messages::cut(&action, 300)],
                        &quick,
                    )
                    .to_string(),
                );
                let group_ids: Vec<_> = group.iter().map(|a| a.id).collect();
                if messaging.queue_push(&intent, &group_ids).await? {
                    queued += 1;
                    if let Some(r) = rec {
                        let ttl = Duration::from_std(wa.config.offer_ttl).unwrap_or(Duration::hours(24));
                        messaging
                            .set_offer(&contact.phone, &Offer { recommendation: r.id, expires_at: now + ttl })
                            .await?;
                    }
                }
            }
        }
    }
    if queued > 0 {
        wa.wake_sender();
    }
    Ok(queued)
}

/// The grouped message ("⚠️ 3 productos se agotan pronto en Chacao: …") and a one-line summary.
fn compose(group: &[&StoredAlert], store: &str, per_message: usize) -> (String, String) {
    let n = group.len();
    let kind = group[0].alert.kind;
    let headline = match (kind, n) {
        (fluxion_domain::AlertKind::ImminentStockout, 1) => format!("⚠️ Un producto se agota pronto en {store}"),
        (fluxion_domain::AlertKind::ImminentStockout, _) => format!("⚠️ {n} productos se agotan pronto en {store}"),
        (fluxion_domain::AlertKind::Overstock, 1) => format!("📦 Un producto con exceso de inventario en {store}"),
        (fluxion_domain::AlertKind::Overstock, _) => format!("📦 {n} productos con exceso de inventario en {store}"),
        (fluxion_domain::AlertKind::ExpiringLot, 1) => format!("⏳ Un lote por vencer en {store}"),
        (fluxion_domain::AlertKind::ExpiringLot, _) => format!("⏳ {n} lotes por vencer en {store}"),
        (k, 1) => format!("🔔 {} en {store}", k.label_es()),
        (k, _) => format!("🔔 {n} alertas de «{}» en {store}", k.label_es().to_lowercase()),
    };
    let impact: f64 = group.iter().map(|a| a.alert.impact_usd).sum();
    let mut lines = vec![format!("{headline}. Impacto estimado: US$ {}.", number(impact, 0))];
    for a in group.iter().take(per_message) {
        lines.push(format!("• {}", a.alert.reason_es));
    }
    if n > per_message {
        lines.push(format!("… y {} más en el panel.", n - per_message));
    }
    let summary = format!("{headline}. Impacto estimado: US$ {}", number(impact, 0));
    (lines.join("\n"), summary)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_wrap_midnight_in_local_time() {
        let at =
            |h: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap().and_hms_opt(h, 0, 0).unwrap().and_utc();
        // 21:00–07:00 in Caracas (UTC−4): 01:00 UTC is 21:00 local.
        assert!(quiet(at(1), 21, 7, -4));
        assert!(quiet(at(10), 21, 7, -4), "06:00 local");
        assert!(!quiet(at(11), 21, 7, -4), "07:00 local");
        assert!(!quiet(at(0), 21, 7, -4), "20:00 local");
        assert!(!quiet(at(0), 0, 0, -4), "no quiet hours");
        assert_eq!(local_midnight(at(2), -4), at(4) - Duration::days(1), "22:00 local on the 27th");
    }
}
