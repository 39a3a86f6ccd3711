//! Names for codes: what the pages show instead of `TDA-01` and `user:…`, and the rows of alerts
//! and recommendations every page lists the same way.

use super::{PageError, capitalize, usd, when};
use crate::api::{ApiState, Catalog};
use fluxion_domain::format::{date, number, units};
use fluxion_domain::{AlertKind, ImpactKind, RecommendedAction, SuggestedAction, Tenant};
use fluxion_memory::{AlertStatus, RecommendationStatus, StoredAlert, StoredRecommendation, Verdict};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// A tenant's names: stores, products (with their unit), users.
#[derive(Debug)]
pub(crate) struct Names {
    pub catalog: Arc<Catalog>,
    users: HashMap<Uuid, String>,
    offset_hours: i32,
}

impl Names {
    /// The names of `tenant`'s stores and products (and, with `users`, of its people).
    pub(crate) async fn of(api: &ApiState, tenant: &Tenant, users: bool) -> Result<Names, PageError> {
        let catalog = api.catalog(tenant).await?;
        let users = if users {
            api.store.accounts().users(Some(tenant.id)).await?.into_iter().map(|u| (u.id, u.name)).collect()
        } else {
            HashMap::new()
        };
        Ok(Names { catalog, users, offset_hours: api.dashboard.utc_offset_hours })
    }

    /// A store's name (its code when unknown).
    pub(crate) fn store(&self, code: &str) -> String {
        self.catalog
            .locations
            .iter()
            .find(|l| l.code.as_str() == code)
            .map_or_else(|| code.to_owned(), |l| l.name.clone())
    }

    /// A product's name and unit label (its code and "unidades" when unknown).
    pub(crate) fn product(&self, code: &str) -> (String, &'static str) {
        self.catalog
            .products
            .iter()
            .find(|p| p.code().as_str() == code)
            .map_or_else(|| (code.to_owned(), "unidades"), |p| (p.name().to_owned(), p.unit().label_es()))
    }

    /// Who an actor is: a person's name, an API key, the administrator.
    pub(crate) fn actor(&self, actor: &str) -> String {
        if let Some(id) = actor.strip_prefix("user:").and_then(|id| Uuid::parse_str(id).ok()) {
            return self.users.get(&id).cloned().unwrap_or_else(|| "un usuario".to_owned());
        }
        if let Some(prefix) = actor.strip_prefix("key:") {
            return format!("la integración {prefix}");
        }
        actor.to_owned()
    }

    /// Local date and time.
    pub(crate) fn when(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        when(at, self.offset_hours)
    }
}

/// An alert as the pages list it.
#[derive(Debug, Clone)]
pub(crate) struct AlertRow {
    pub id: Uuid,
    pub kind: &'static str,
    pub kind_es: &'static str,
    pub severity: &'static str,
    pub severity_es: &'static str,
    pub status_es: String,
    pub open: bool,
    pub store: String,
    pub product: Option<String>,
    pub impact: String,
    pub action: String,
    pub reason: String,
    pub probability: Option<String>,
    pub runs_out: Option<String>,
    pub raised: String,
    pub expires: String,
    pub acknowledged: Option<String>,
    pub feedback: Option<&'static str>,
}

impl AlertRow {
    pub(crate) fn of(s: &StoredAlert, names: &Names) -> AlertRow {
        let a = &s.alert;
        let (product, unit) = match &a.product {
            Some(p) => {
                let (name, unit) = names.product(p.as_str());
                (Some(name), unit)
            }
            None => (None, "unidades"),
        };
        let impact = match a.impact {
            ImpactKind::LostMargin => "de margen que se perdería",
            ImpactKind::CapitalTiedUp => "de capital inmovilizado",
            ImpactKind::ValueExpiring => "en mercancía que puede vencerse",
            ImpactKind::RevenueAtRisk => "de venta en riesgo",
        };
        let action = match &a.action {
            SuggestedAction::Reorder { units: n } => format!("Pedir {} {unit}", units(*n)),
            SuggestedAction::Transfer { units: n, from, to } => format!(
                "Transferir {} {unit} de {} a {}",
                units(*n),
                names.store(from.as_str()),
                names.store(to.as_str())
            ),
            SuggestedAction::MarkDown { units: n, discount_pct } => {
                format!("Rebajar {discount_pct} % para vender {} {unit}", units(*n))
            }
            SuggestedAction::HoldOrders => "No pedir más hasta que baje el inventario".to_owned(),
            SuggestedAction::CheckShelf => "Revisar el anaquel y contar el producto".to_owned(),
            SuggestedAction::CheckFeed => "Revisar la conexión del punto de venta".to_owned(),
            SuggestedAction::Review => "Revisar qué pasó (promoción, evento o error en los datos)".to_owned(),
        };
        let (severity_es, severity) = match a.severity.as_str() {
            "critical" => ("Crítica", "critical"),
            "warning" => ("Importante", "warning"),
            _ => ("Informativa", "info"),
        };
        AlertRow {
            id: s.id,
            kind: a.kind.as_str(),
            kind_es: a.kind.label_es(),
            severity,
            severity_es,
            status_es: capitalize(s.status.label_es()),
            open: s.status == AlertStatus::Open,
            store: names.store(a.store.as_str()),
            product,
            impact: format!("{} {impact}", usd(a.impact_usd)),
            action,
            reason: a.reason_es.clone(),
            probability: a.probability.map(|p| format!("{} %", number(p * 100.0, 0))),
            runs_out: a.runs_out_on.map(date),
            raised: date(a.raised_on),
            expires: date(a.expires_on),
            acknowledged: match (&s.acknowledged_by, s.acknowledged_at) {
                (Some(by), Some(at)) => Some(format!("{} el {}", names.actor(by), names.when(at))),
                _ => None,
            },
            feedback: s.feedback.as_ref().map(|f| match f.verdict {
                Verdict::Useful => "útil",
                Verdict::Wrong => "incorrecta",
            }),
        }
    }
}

/// Alert kinds for the filters: (code, Spanish label).
pub(crate) fn alert_kinds() -> Vec<(&'static str, &'static str)> {
    AlertKind::ALL.iter().map(|k| (k.as_str(), k.label_es())).collect()
}

/// A recommended order or transfer as the pages list it.
#[derive(Debug, Clone)]
pub(crate) struct RecRow {
    pub id: Uuid,
    pub transfer: bool,
    pub kind_es: &'static str,
    pub pending: bool,
    pub status_es: String,
    pub product: String,
    pub store: String,
    pub source: String,
    pub units: String,
    pub value: String,
    pub benefit: String,
    pub on: String,
    pub explanation: String,
    pub decided: Option<String>,
    pub executed_as: Option<String>,
    pub note: Option<String>,
}

impl RecRow {
    pub(crate) fn of(s: &StoredRecommendation, names: &Names) -> RecRow {
        let r = &s.recommendation;
        let (product, unit) = names.product(r.product.as_str());
        let (transfer, source) = match &r.action {
            RecommendedAction::Order { supplier } => {
                (false, supplier.as_ref().map_or_else(|| "sin proveedor".to_owned(), ToString::to_string))
            }
            RecommendedAction::Transfer { from } => (true, names.store(from.as_str())),
        };
        RecRow {
            id: s.id,
            transfer,
            kind_es: if transfer { "Transferencia" } else { "Pedido" },
            pending: s.status == RecommendationStatus::Pending,
            status_es: capitalize(s.status.label_es()),
            product,
            store: names.store(r.store.as_str()),
            source,
            units: format!("{} {unit}", units(r.units)),
            value: usd(r.value_usd),
            benefit: usd(r.benefit_usd),
            on: date(r.on),
            explanation: r.explanation_es.clone(),
            decided: match (&s.decided_by, s.decided_at) {
                (Some(by), Some(at)) => Some(format!("{} el {}", names.actor(by), names.when(at))),
                _ => None,
            },
            executed_as: s.executed_as.clone(),
            note: s.note.clone(),
        }
    }
}
