//! What an inbound message means and what Fluxion answers: who wrote (their number's contact, user
//! and tenant — an unknown number gets directions and nothing else), then a question for the
//! orchestrator, a tapped button (approve, reject or detail a suggestion; rate an alert), or a
//! typed "sí" / "no" that settles the open suggestion.
//!
//! Every reply is queued as a send intent whose id comes from its cause — `in:<wamid>:<n>` for the
//! replies to a message, `ok:<recommendation>` for an approval's confirmation — so handling a
//! message again (a redelivery that slipped past the inbox, a worker that died) queues nothing new.
//! An approval is a conditional update out of `pending` in one transaction with the order or
//! transfer it creates ([`fluxion_memory::TenantStore::decide_recommendation`]): it happens once.

use super::messages::{self, Button, TEXT_MAX};
use super::service::{Faults, WhatsApp};
use super::webhook::{Content, Event};
use crate::api::decisions::{Approval, approve_once};
use chrono::{DateTime, Utc};
use fluxion_domain::format::{date, number, units};
use fluxion_domain::{Intent, RecommendedAction, Tenant};
use fluxion_memory::{
    Contact, Decided, Decision, Feedback, InboundMessage, Offer, OutboundMessage, RecommendationStatus, Role,
    StoreError, StoredRecommendation, TenantStore, UserRecord, Verdict,
};
use fluxion_orchestrator::Origin;
use std::sync::Arc;
use uuid::Uuid;

/// Why a message was not handled (it stays in the inbox and is taken again after its lease).
#[derive(Debug)]
pub(crate) enum Failure {
    /// A test's injected crash.
    Crashed,
    /// The store failed.
    Store(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e.to_string())
    }
}

/// What a tapped button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `r:<id>:si`, `r:<id>:no`, `r:<id>:ver`.
    Decide(Uuid, Choice),
    /// `f:<id>:u` (useful), `f:<id>:w` (wrong).
    Rate(Uuid, Verdict),
}

/// An answer to a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Choice {
    /// Approve it.
    Yes,
    /// Reject it.
    No,
    /// Show its detail.
    Detail,
}

/// The id of a suggestion's button.
pub(crate) fn decide_id(recommendation: Uuid, choice: Choice) -> String {
    let c = match choice {
        Choice::Yes => "si",
        Choice::No => "no",
        Choice::Detail => "ver",
    };
    format!("r:{recommendation}:{c}")
}

/// The id of an alert's rating button.
pub(crate) fn rate_id(alert: Uuid, verdict: Verdict) -> String {
    format!("f:{alert}:{}", if verdict == Verdict::Useful { "u" } else { "w" })
}

/// Reads a button id (or a template button's payload).
pub(crate) fn action(id: &str) -> Option<Action> {
    let mut parts = id.splitn(3, ':');
    let (kind, uuid, what) = (parts.next()?, parts.next()?, parts.next()?);
    let uuid = Uuid::parse_str(uuid).ok()?;
    match (kind, what) {
        ("r", "si") => Some(Action::Decide(uuid, Choice::Yes)),
        ("r", "no") => Some(Action::Decide(uuid, Choice::No)),
        ("r", "ver") => Some(Action::Decide(uuid, Choice::Detail)),
        ("f", "u") => Some(Action::Rate(uuid, Verdict::Useful)),
        ("f", "w") => Some(Action::Rate(uuid, Verdict::Wrong)),
        _ => None,
    }
}

/// The suggestion buttons.
pub(crate) fn suggestion_buttons(recommendation: Uuid) -> Vec<Button> {
    vec![
        Button::new(decide_id(recommendation, Choice::Yes), "SI"),
        Button::new(decide_id(recommendation, Choice::No), "NO"),
        Button::new(decide_id(recommendation, Choice::Detail), "Ver detalle"),
    ]
}

const UNKNOWN_NUMBER: &str = "¡Hola! Soy Fluxion, el asistente de inventario de tu cadena. Este número todavía no \
está registrado, así que no puedo mostrarte datos. Para tener acceso, pídele al dueño o al gerente de tu cadena que \
agregue tu número de WhatsApp a tu usuario en Fluxion. Cuando esté listo, escríbeme de nuevo. 🙂";

const DISABLED_USER: &str = "Tu usuario de Fluxion está desactivado, así que no puedo atenderte por aquí. Si crees \
que es un error, habla con el dueño de tu cadena.";

const UNSUPPORTED: &str = "Por ahora entiendo mensajes de texto y los botones que te envío. Escríbeme tu pregunta, \
por ejemplo: «¿cuánta harina pido para la quincena en Chacao?»";

/// One message's context: who wrote, in which tenant.
struct Who<'a> {
    wa: &'a WhatsApp,
    message: &'a InboundMessage,
    contact: Contact,
    user: UserRecord,
    tenant: Tenant,
    store: Arc<dyn TenantStore>,
    replies: Vec<OutboundMessage>,
}

impl Who<'_> {
    fn actor(&self) -> String {
        format!("user:{}", self.user.id)
    }

    /// Queues a reply (`in:<wamid>:<n>`), split at Meta's text limit.
    fn say(&mut self, text: &str) {
        for part in messages::split(text, TEXT_MAX) {
            let body = messages::text(&self.contact.phone, &part);
            self.push("reply", body, &part);
        }
    }

    /// Queues a message with buttons.
    fn ask_with(&mut self, text: &str, buttons: &[Button]) {
        let parts = messages::split(text, TEXT_MAX);
        let (last, rest) = match parts.split_last() {
            Some((last, rest)) if last.chars().count() <= messages::INTERACTIVE_BODY_MAX => {
                (last.clone(), rest.to_vec())
            }
            _ => ("¿Qué hago?".to_string(), parts),
        };
        for part in &rest {
            let body = messages::text(&self.contact.phone, part);
            self.push("reply", body, part);
        }
        let body = messages::buttons(&self.contact.phone, &last, buttons);
        self.push("reply", body, &last);
    }

    /// Queues a PNG (uploaded as media by the sender) with its caption.
    fn image(&mut self, png: &[u8], caption: &str) {
        use base64::Engine as _;
        let body = serde_json::json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": self.contact.phone,
            "type": "image",
            "image": {"png_base64": base64::engine::general_purpose::STANDARD.encode(png), "caption": messages::cut(caption, 1024)},
        });
        self.push("chart", body, caption);
    }

    fn push(&mut self, kind: &str, body: serde_json::Value, plain: &str) {
        let n = self.replies.len() + 1;
        let mut intent = OutboundMessage::new(
            format!("in:{}:{n}", self.message.id),
            &self.contact.phone,
            Some(self.tenant.id),
            kind,
            body.to_string(),
        );
        intent.fallback = Some(notice(self.wa, &self.contact.phone, plain));
        self.replies.push(intent);
    }
}

/// The template that carries a message outside the 24-hour window.
pub(crate) fn notice(wa: &WhatsApp, phone: &str, text: &str) -> String {
    let t = &wa.config.templates;
    messages::template(phone, &t.notice, &t.language, &[messages::cut(text, 900)], &[]).to_string()
}

/// Handles one inbound message; its outcome's name.
pub(crate) async fn handle(wa: &WhatsApp, m: &InboundMessage) -> Result<&'static str, Failure> {
    let Ok(Event::Message { content, context, .. }) = serde_json::from_str::<Event>(&m.event) else {
        return Ok("unreadable");
    };
    let messaging = wa.store.messaging();
    let stranger = |text: &str| {
        let mut intent = OutboundMessage::new(
            format!("in:{}:1", m.id),
            &m.phone,
            None,
            "unknown",
            messages::text(&m.phone, text).to_string(),
        );
        intent.fallback = Some(notice(wa, &m.phone, text));
        intent
    };
    let Some(contact) = messaging.contact(&m.phone).await? else {
        wa.queue(&[stranger(UNKNOWN_NUMBER)]).await?;
        return Ok("unknown_number");
    };
    let user = wa.store.accounts().user(contact.user).await?;
    let tenant = wa.store.tenant_by_id(contact.tenant).await?;
    let (Some(user), Some(tenant)) = (user, tenant) else {
        wa.queue(&[stranger(UNKNOWN_NUMBER)]).await?;
        return Ok("unknown_number");
    };
    if user.disabled {
        wa.queue(&[stranger(DISABLED_USER)]).await?;
        return Ok("disabled_user");
    }
    let store = wa.store.scope(&tenant.slug).await?;
    let mut who = Who { wa, message: m, contact, user, tenant, store, replies: Vec::new() };

    let outcome = match content {
        Content::Button { id, .. } | Content::ListReply { id, .. } | Content::TemplateButton { payload: id, .. } => {
            match action(&id) {
                Some(Action::Decide(rec, choice)) => {
                    let offered_at = match &context {
                        Some(carrier) => messaging.outbound_by_wamid(carrier).await?.map(|o| o.created_at),
                        None => None,
                    };
                    decide(&mut who, rec, choice, offered_at).await?
                }
                Some(Action::Rate(alert, verdict)) => rate(&mut who, alert, verdict).await?,
                None => {
                    who.say("Ese botón ya no es válido. Escríbeme lo que necesitas y te ayudo.");
                    "unknown_button"
                }
            }
        }
        Content::Text(text) => {
            let offer = messaging.offer(&who.contact.phone).await?.filter(|o| o.expires_at > Utc::now());
            match (fluxion_agents::chat::confirmation(&text), offer) {
                (Some(yes), Some(offer)) => {
                    let choice = if yes { Choice::Yes } else { Choice::No };
                    decide(&mut who, offer.recommendation, choice, None).await?
                }
                _ => ask(&mut who, &text).await?,
            }
        }
        Content::Image { .. } | Content::Other(_) => {
            who.say(UNSUPPORTED);
            "unsupported"
        }
    };
    let replies = std::mem::take(&mut who.replies);
    wa.queue(&replies).await?;
    Ok(outcome)
}

/// A question: the orchestrator answers; a suggestion goes with "SI / NO / Ver detalle".
async fn ask(who: &mut Who<'_>, text: &str) -> Result<&'static str, Failure> {
    let user = who.user.id.to_string();
    let origin = Origin { user: Some(&user), channel: "whatsapp", trace_id: None, request_id: Some(&who.message.id) };
    let answer = match who.wa.runtime.ask_from(&who.tenant.slug, text, &origin).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "a WhatsApp question could not be asked");
            who.say("Disculpa, no pude consultar los datos de tu cadena en este momento. Inténtalo de nuevo en unos minutos.");
            return Ok("ask_failed");
        }
    };
    // A list of orders ("¿qué pido hoy?") offers none of them alone: it says where to approve them.
    let offer = match answer.intent {
        Intent::Need | Intent::Transfers if who.user.role != Role::Viewer && answer.orders.is_none() => {
            answer.recommendations.first()
        }
        _ => None,
    };
    if answer.intent == Intent::Sales
        && let Some(figure) = answer.figures.first()
    {
        // "Muéstrame la venta del arroz": the chart goes first, then the words.
        match chart(who, figure).await {
            Ok(Some((png, caption))) => who.image(&png, &caption),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the sales chart could not be drawn"),
        }
    }
    match offer {
        Some(r) => {
            let stored = who.store.keep_recommendation(r, Utc::now()).await?;
            let ttl = chrono::Duration::from_std(who.wa.config.offer_ttl).unwrap_or(chrono::Duration::hours(24));
            who.wa
                .store
                .messaging()
                .set_offer(&who.contact.phone, &Offer { recommendation: stored.id, expires_at: Utc::now() + ttl })
                .await?;
            who.ask_with(&answer.text_es, &suggestion_buttons(stored.id));
        }
        None => who.say(&answer.text_es),
    }
    Ok(if answer.degraded { "answered_degraded" } else { "answered" })
}

/// The chart of a figure's product at its store: the last 28 days of sales (stockout days shaded)
/// and the stored forecast's band; with its caption. None when there is no history.
async fn chart(who: &Who<'_>, f: &fluxion_domain::ForecastFigure) -> Result<Option<(Vec<u8>, String)>, String> {
    use crate::chart::{Band, Day, SalesChart};
    let from = f.from - chrono::Duration::days(28);
    let query = fluxion_memory::DemandQuery {
        store: Some(f.store.clone()),
        product: Some(f.product.clone()),
        from: Some(from),
        to: Some(f.from - chrono::Duration::days(1)),
    };
    let demand = who.store.daily_demand(&query).await.map_err(|e| e.to_string())?;
    let history: Vec<Day> = from
        .iter_days()
        .take_while(|d| *d < f.from)
        .map(|date| {
            let row = demand.iter().find(|r| r.day == date);
            Day { date, units: row.map_or(0.0, |r| r.units), out_of_stock: row.is_some_and(|r| r.out_of_stock) }
        })
        .collect();
    if demand.is_empty() {
        return Ok(None);
    }
    let stored = who.store.forecasts(Some(&f.store), Some(&f.product)).await.map_err(|e| e.to_string())?;
    let days = f.days.clamp(7, 28) as usize;
    let forecast: Vec<Band> = stored
        .first()
        .map(|s| {
            s.forecast
                .points
                .iter()
                .filter(|p| p.date >= f.from)
                .take(days)
                .map(|p| Band { date: p.date, p10: p.p10, p50: p.p50, p90: p.p90 })
                .collect()
        })
        .unwrap_or_default();
    let last = forecast.last().map_or(f.from, |b| b.date);
    let events = crate::chart::holidays(who.store.as_ref(), from, last).await.map_err(|e| e.to_string())?;
    let sales = SalesChart {
        title: format!("{} — {}", f.product_name, f.store_name),
        unit: f.unit.label_es().to_string(),
        history,
        forecast,
        events,
    };
    let caption = format!(
        "{} en {}: venta de los últimos 28 días ({} {}) y pronóstico de los próximos {} días, con su banda P10–P90.",
        f.product_name,
        f.store_name,
        units(f.sold_last_28),
        f.unit.label_es(),
        sales.forecast.len()
    );
    let svg = sales.svg();
    let png = tokio::task::spawn_blocking(move || crate::chart::png(&svg)).await.map_err(|e| e.to_string())??;
    Ok(Some((png, caption)))
}

/// "SI", "NO" or "Ver detalle" on a suggestion.
async fn decide(
    who: &mut Who<'_>,
    id: Uuid,
    choice: Choice,
    offered_at: Option<DateTime<Utc>>,
) -> Result<&'static str, Failure> {
    let Some(current) = who.store.recommendation(id).await? else {
        who.say("No encontré esa sugerencia. Escríbeme qué necesitas y la calculo de nuevo.");
        return Ok("unknown_recommendation");
    };
    if choice == Choice::Detail {
        let text = detail(&current);
        if current.status == RecommendationStatus::Pending && who.user.role != Role::Viewer {
            who.ask_with(&text, &suggestion_buttons(id)[..2]);
        } else {
            who.say(&text);
        }
        return Ok("detail");
    }
    if who.user.role == Role::Viewer {
        who.say("Tu usuario es de consulta: puedes ver las sugerencias, pero no aprobarlas ni rechazarlas. Pídeselo a tu gerente.");
        return Ok("not_allowed");
    }
    let ttl = chrono::Duration::from_std(who.wa.config.offer_ttl).unwrap_or(chrono::Duration::hours(24));
    if current.status == RecommendationStatus::Pending && offered_at.is_some_and(|at| Utc::now() - at > ttl) {
        who.say(
            "Esa sugerencia ya venció: los números pudieron cambiar. Pregúntame de nuevo y te doy una actualizada.",
        );
        return Ok("expired");
    }
    let messaging = who.wa.store.messaging();
    if choice == Choice::No {
        let decision = Decision {
            approve: false,
            by: who.actor(),
            at: Utc::now(),
            note: Some("rechazada por WhatsApp".into()),
            executed_as: None,
        };
        return match who.store.decide_recommendation(id, &decision, &fluxion_memory::ChangeSet::default()).await? {
            Decided::Done(_) => {
                messaging.clear_offer(&who.contact.phone, id).await?;
                who.say("Listo, no la ejecuto. Si cambias de opinión, pregúntame de nuevo.");
                Ok("rejected")
            }
            Decided::Already(r) => {
                who.say(&already(&r));
                Ok("already_decided")
            }
            Decided::NotFound => Ok("unknown_recommendation"),
        };
    }
    // Yes.
    let r = &current.recommendation;
    if who.user.role == Role::Manager && r.value_usd > who.wa.config.manager_limit_usd {
        who.say(&format!(
            "Esta sugerencia es por US$ {}, más que tu límite de aprobación (US$ {}). La debe aprobar el dueño de la cadena.",
            number(r.value_usd, 2),
            number(who.wa.config.manager_limit_usd, 0)
        ));
        return Ok("over_limit");
    }
    let by = who.actor();
    let decided = match approve_once(who.store.as_ref(), &current, &by, Some("aprobada por WhatsApp".into())).await? {
        Approval::Done(r) => r,
        // Approved by this user before (a double tap, a redelivery, a worker that died before
        // confirming): the confirmation's intent id makes it one message.
        Approval::Again(r) => {
            confirm(who, &r).await?;
            return Ok("approved");
        }
        Approval::Already(r) => {
            who.say(&already(&r));
            return Ok("already_decided");
        }
        Approval::NotFound => return Ok("unknown_recommendation"),
        Approval::NotExecutable(e) => {
            who.say(&format!("No puedo ejecutarla: {e}. Revisa los datos del proveedor en Fluxion."));
            return Ok("not_executable");
        }
    };
    tracing::info!(recommendation = %id, by = %by, executed_as = ?decided.executed_as, "approved on WhatsApp");
    if Faults::take(&who.wa.faults.crash_after_execute) {
        return Err(Failure::Crashed);
    }
    confirm(who, &decided).await?;
    Ok("approved")
}

/// The confirmation of an approval (once per recommendation), then "¿Te fue útil?" on the alert
/// that brought it, when one was pushed to this number.
async fn confirm(who: &mut Who<'_>, r: &StoredRecommendation) -> Result<(), Failure> {
    let rec = &r.recommendation;
    let what = match &rec.action {
        RecommendedAction::Order { .. } => format!(
            "Creé la orden de compra {}: {} unidades de {} para {}.",
            r.executed_as.as_deref().unwrap_or("—"),
            units(rec.units),
            rec.product,
            rec.store
        ),
        RecommendedAction::Transfer { from } => format!(
            "Creé la transferencia {}: {} unidades de {} desde {} hacia {}.",
            r.executed_as.as_deref().unwrap_or("—"),
            units(rec.units),
            rec.product,
            from,
            rec.store
        ),
    };
    let text = format!("✅ Aprobado. {what} Valor: US$ {}.", number(rec.value_usd, 2));
    let phone = who.contact.phone.clone();
    let mut intents = vec![{
        let mut o = OutboundMessage::new(
            format!("ok:{}", r.id),
            &phone,
            Some(who.tenant.id),
            "confirm",
            messages::text(&phone, &text).to_string(),
        );
        o.fallback = Some(notice(who.wa, &phone, &text));
        o
    }];
    // The alert about the same product and store that was pushed to this number, if any.
    let query = fluxion_memory::AlertQuery {
        store: Some(rec.store.to_string()),
        product: Some(rec.product.to_string()),
        limit: 10,
        ..Default::default()
    };
    let alerts: Vec<Uuid> = who.store.alerts(&query).await?.items.iter().map(|a| a.id).collect();
    let pushed = who.wa.store.messaging().pushed(&phone, &alerts).await?;
    if let Some(alert) = alerts.iter().find(|a| pushed.contains(a)) {
        let body = messages::buttons(
            &phone,
            "¿Te fue útil esta alerta? Tu respuesta afina las próximas.",
            &[
                Button::new(rate_id(*alert, Verdict::Useful), "Útil"),
                Button::new(rate_id(*alert, Verdict::Wrong), "No útil"),
            ],
        );
        intents.push(OutboundMessage::new(
            format!("fb:{alert}:{phone}"),
            &phone,
            Some(who.tenant.id),
            "feedback",
            body.to_string(),
        ));
    }
    who.wa.store.messaging().clear_offer(&phone, r.id).await?;
    who.wa.queue(&intents).await?;
    Ok(())
}

/// "Útil" / "No útil" on an alert.
async fn rate(who: &mut Who<'_>, alert: Uuid, verdict: Verdict) -> Result<&'static str, Failure> {
    let feedback = Feedback { verdict, by: who.actor(), at: Utc::now(), note: Some("WhatsApp".into()) };
    match who.store.alert_feedback(alert, &feedback).await? {
        Some(_) => {
            who.say(match verdict {
                Verdict::Useful => "¡Gracias! Me alegra que te haya servido.",
                Verdict::Wrong => "Gracias por avisar. Lo tomamos en cuenta para afinar las alertas.",
            });
            Ok("rated")
        }
        None => {
            who.say("No encontré esa alerta; puede que ya se haya resuelto.");
            Ok("unknown_alert")
        }
    }
}

fn already(r: &StoredRecommendation) -> String {
    let when = r.decided_at.map(|t| date(t.date_naive())).unwrap_or_default();
    match r.status {
        RecommendationStatus::Approved => format!(
            "Esa sugerencia ya fue aprobada{}{}.",
            if when.is_empty() { String::new() } else { format!(" el {when}") },
            r.executed_as.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
        ),
        RecommendationStatus::Rejected => "Esa sugerencia ya fue rechazada.".into(),
        RecommendationStatus::Superseded => {
            "Esa sugerencia fue reemplazada por una más reciente. Pregúntame de nuevo y te doy la actual.".into()
        }
        RecommendationStatus::Pending => "Esa sugerencia sigue pendiente.".into(),
    }
}

fn detail(r: &StoredRecommendation) -> String {
    let rec = &r.recommendation;
    let what = match &rec.action {
        RecommendedAction::Order { supplier } => format!(
            "Pedido de {} unidades de {} para {}{}",
            units(rec.units),
            rec.product,
            rec.store,
            supplier.as_ref().map(|s| format!(" al proveedor {s}")).unwrap_or_default()
        ),
        RecommendedAction::Transfer { from } => {
            format!(
                "Transferencia de {} unidades de {} desde {from} hacia {}",
                units(rec.units),
                rec.product,
                rec.store
            )
        }
    };
    format!(
        "{what}.\n{}\nValor: US$ {}. Margen que protege: US$ {}. Para el {}.",
        rec.explanation_es,
        number(rec.value_usd, 2),
        number(rec.benefit_usd, 2),
        date(rec.on)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_ids_round_trip() {
        let id = Uuid::new_v4();
        for c in [Choice::Yes, Choice::No, Choice::Detail] {
            assert_eq!(action(&decide_id(id, c)), Some(Action::Decide(id, c)));
        }
        for v in [Verdict::Useful, Verdict::Wrong] {
            assert_eq!(action(&rate_id(id, v)), Some(Action::Rate(id, v)));
        }
        assert!(decide_id(id, Choice::Detail).len() <= 256);
        assert_eq!(action("r:no-uuid:si"), None);
        assert_eq!(action(&format!("x:{id}:si")), None);
        assert_eq!(action(""), None);
    }
}
